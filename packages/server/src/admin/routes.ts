/**
 * The admin dashboard at /admin: operators only. Sign-in by an operator's email and password (or a
 * one-time link from `payrail admin login`), then a session cookie (HttpOnly, SameSite=Strict, 8 hours,
 * stored hashed). A request carrying an `Authorization` header — a merchant's API token — is refused
 * on every route, and API tokens are never looked up here. Every form carries a CSRF token.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { ApiError } from '../domain/errors.ts';
import { OPERATOR } from '../http/access.ts';
import { html } from '../http/html.ts';
import { sign, verifySignature } from '../services/signed-urls.ts';
import { endSession, type Operator, redeemSignInLink, sessionOperator, SESSION_TTL_MS, startSession, verifyOperator } from '../services/operators.ts';
import { replayDelivery } from '../webhooks/endpoints.ts';
import { readCookie } from '../http/cookies.ts';
import { type AdminLang, adminMessages, type AdminMessages, pickAdminLang } from './i18n.ts';
import { ADMIN_CSP, ADMIN_CSS, adminPage, type Section } from './layout.ts';
import { banksPage, clientsPage, configPage, paymentsPage, timelinePage, webhooksPage } from './pages.ts';
import * as q from './queries.ts';

const SESSION_COOKIE = 'payrail_admin';
const LOGIN_COOKIE = 'payrail_admin_login';
const LANG_COOKIE = 'payrail_admin_lang';
/** Guarded by the operator session below, never by a bearer token. */
const config = { access: OPERATOR };
const hide = { hide: true };

declare module 'fastify' {
  interface FastifyRequest {
    operator: Operator | null;
  }
}

export const adminDashboard: FastifyPluginAsync = async (app) => {
  const { store, clock, secret } = app.payrail;
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  app.decorateRequest('operator', null);

  const langOf = (request: FastifyRequest): AdminLang => pickAdminLang(readCookie(request.headers.cookie, LANG_COOKIE), request.headers['accept-language']);
  const cookieFlags = (request: FastifyRequest) => `Path=/admin; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`;
  const sessionToken = (request: FastifyRequest) => readCookie(request.headers.cookie, SESSION_COOKIE);
  const csrfFor = (request: FastifyRequest) => sign(secret, `admin-csrf.${sessionToken(request) ?? ''}`);
  const csrfOk = (request: FastifyRequest) => {
    const token = (request.body as Record<string, unknown> | undefined)?.csrf;
    return typeof token === 'string' && Boolean(sessionToken(request)) && verifySignature(secret, `admin-csrf.${sessionToken(request)}`, token);
  };

  function send(reply: FastifyReply, status: number, body: string) {
    return reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', ADMIN_CSP).header('cache-control', 'no-store').send(body);
  }

  function render(
    request: FastifyRequest,
    reply: FastifyReply,
    section: Section | undefined,
    title: (t: AdminMessages) => string,
    body: (t: AdminMessages) => ReturnType<typeof html>,
    status = 200,
  ) {
    const lang = langOf(request);
    const t = adminMessages(lang);
    const page = adminPage({
      lang,
      t,
      title: title(t),
      body: body(t),
      ...(section ? { section } : {}),
      operator: request.operator?.email ?? '',
      csrf: csrfFor(request),
      path: request.url.split('#')[0]!,
    });
    return send(reply, status, page);
  }

  function signInPage(request: FastifyRequest, reply: FastifyReply, status: number, message: string | null) {
    const lang = langOf(request);
    const t = adminMessages(lang);
    const nonce = readCookie(request.headers.cookie, LOGIN_COOKIE) ?? randomBytes(18).toString('base64url');
    reply.header('set-cookie', `${LOGIN_COOKIE}=${nonce}; ${cookieFlags(request)}; Max-Age=3600`);
    const body = html`<div class="signin"><h1>${t.signIn}</h1>${message ? html`<p class="error" role="alert">${message}</p>` : ''}
<form method="post" action="/admin/login"><input type="hidden" name="csrf" value="${sign(secret, `admin-login.${nonce}`)}">
<div><label for="email">${t.email}</label><input id="email" name="email" type="email" autocomplete="username" required></div>
<div><label for="password">${t.password}</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
<button type="submit">${t.signIn}</button></form><p class="muted">${t.signInHelp}</p></div>`;
    return send(reply, status, adminPage({ lang, t, title: t.signIn, body, path: '/admin/login' }));
  }

  function openSession(request: FastifyRequest, reply: FastifyReply, token: string) {
    reply.header('set-cookie', [
      `${SESSION_COOKIE}=${token}; ${cookieFlags(request)}; Max-Age=${SESSION_TTL_MS / 1000}`,
      `${LOGIN_COOKIE}=; ${cookieFlags(request)}; Max-Age=0`,
    ]);
    return reply.redirect('/admin/payments', 303);
  }

  const publicPaths = new Set(['/admin/login', '/admin/login/link', '/admin/assets/admin.css', '/admin/lang']);
  app.addHook('onRequest', async (request, reply) => {
    // API tokens have no power here, whatever they are: refuse them rather than ignore them.
    if (request.headers.authorization !== undefined) {
      const t = adminMessages(langOf(request));
      return send(
        reply,
        401,
        adminPage({
          lang: langOf(request),
          t,
          title: t.signIn,
          body: html`<h1>${t.signIn}</h1><p class="error" role="alert">${t.tokenRefused}</p><p><a href="/admin/login">${t.signIn}</a></p>`,
        }),
      );
    }
    const path = request.url.split('?')[0]!;
    if (publicPaths.has(path)) return;
    request.operator = await sessionOperator(store.db, clock, sessionToken(request));
    if (!request.operator) {
      if (request.method === 'GET') return reply.redirect('/admin/login', 303);
      return signInPage(request, reply, 401, null);
    }
  });

  app.get('/assets/admin.css', { config, schema: hide }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(ADMIN_CSS),
  );

  app.get<{ Querystring: { to?: string; back?: string } }>('/lang', { config, schema: hide }, async (request, reply) => {
    const to = request.query.to === 'fr' ? 'fr' : 'en';
    const back = typeof request.query.back === 'string' && /^\/admin(\/[\w/?=&%.-]*)?$/.test(request.query.back) ? request.query.back : '/admin/payments';
    reply.header('set-cookie', `${LANG_COOKIE}=${to}; Path=/admin; SameSite=Lax; Max-Age=31536000`);
    return reply.redirect(back, 303);
  });

  app.get('/login', { config, schema: hide }, async (request, reply) => signInPage(request, reply, 200, null));

  app.post<{ Body: Record<string, string> }>('/login', { config, schema: hide }, async (request, reply) => {
    const t = adminMessages(langOf(request));
    const nonce = readCookie(request.headers.cookie, LOGIN_COOKIE);
    const { csrf, email, password } = request.body ?? {};
    if (!nonce || typeof csrf !== 'string' || !verifySignature(secret, `admin-login.${nonce}`, csrf)) return signInPage(request, reply, 403, t.formExpired);
    const operator =
      typeof email === 'string' && typeof password === 'string' && email.length <= 254 && password.length <= 200
        ? await verifyOperator(store.db, email, password)
        : null;
    if (!operator) return signInPage(request, reply, 401, t.badCredentials);
    return openSession(request, reply, await startSession(store.db, clock, operator.id));
  });

  app.get<{ Querystring: { token?: string } }>('/login/link', { config, schema: hide }, async (request, reply) => {
    const token =
      typeof request.query.token === 'string' && request.query.token.length <= 100 ? await redeemSignInLink(store.db, clock, request.query.token) : null;
    if (!token) return signInPage(request, reply, 401, adminMessages(langOf(request)).badLink);
    return openSession(request, reply, token);
  });

  app.post('/logout', { config, schema: hide }, async (request, reply) => {
    if (!csrfOk(request)) return signInPage(request, reply, 403, adminMessages(langOf(request)).formExpired);
    await endSession(store.db, sessionToken(request)!);
    reply.header('set-cookie', `${SESSION_COOKIE}=; ${cookieFlags(request)}; Max-Age=0`);
    return reply.redirect('/admin/login', 303);
  });

  app.get('/', { config, schema: hide }, async (_request, reply) => reply.redirect('/admin/payments', 303));

  app.get<{ Querystring: q.PaymentFilters }>('/payments', { config, schema: hide }, async (request, reply) => {
    const connectors = await app.payrail.connectors.all();
    const filters = Object.fromEntries(
      Object.entries(request.query ?? {}).filter(([, v]) => typeof v === 'string' && v !== '' && v.length <= 200),
    ) as q.PaymentFilters;
    let result = null;
    let error: string | null = null;
    try {
      result = await q.searchPayments(store.db, filters);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error = e.message;
    }
    const volume = await q.dailyVolume(store.db, clock.now());
    const query = new URLSearchParams(filters as Record<string, string>).toString();
    return render(
      request,
      reply,
      'payments',
      (t) => t.payments,
      (t) => paymentsPage(t, filters, result, error, volume, query, connectors),
      error ? 400 : 200,
    );
  });

  app.get<{ Params: { id: string }; Querystring: { replayed?: string } }>('/payments/:id', { config, schema: hide }, async (request, reply) => {
    const connectors = await app.payrail.connectors.all();
    const data = /^\d{1,15}$/.test(request.params.id) ? await q.paymentTimeline(store.db, Number(request.params.id)) : null;
    if (!data)
      return render(
        request,
        reply,
        'payments',
        (t) => t.notFound,
        (t) => html`<h1>${t.notFound}</h1>`,
        404,
      );
    const replayed = request.query.replayed && /^\d{1,15}$/.test(request.query.replayed) ? Number(request.query.replayed) : null;
    return render(
      request,
      reply,
      'payments',
      (t) => `${t.payment} ${data.payment.id}`,
      (t) => timelinePage(t, data, csrfFor(request), replayed ? t.replayed(replayed) : null, connectors),
    );
  });

  app.post<{ Params: { id: string } }>('/deliveries/:id/replay', { config, schema: hide }, async (request, reply) => {
    if (!csrfOk(request))
      return render(
        request,
        reply,
        'payments',
        (t) => t.formExpired,
        (t) => html`<h1>${t.formExpired}</h1>`,
        403,
      );
    const id = /^\d{1,15}$/.test(request.params.id) ? Number(request.params.id) : 0;
    const delivery = await store.db
      .selectFrom('webhook_deliveries as w')
      .innerJoin('webhook_endpoints as e', 'e.id', 'w.endpoint_id')
      .select(['w.payment_id', 'e.domain_id'])
      .where('w.id', '=', id)
      .executeTakeFirst();
    if (!delivery)
      return render(
        request,
        reply,
        'payments',
        (t) => t.notFound,
        (t) => html`<h1>${t.notFound}</h1>`,
        404,
      );
    const replayed = await replayDelivery(store.db, clock, Number(delivery.domain_id), id);
    return reply.redirect(`/admin/payments/${delivery.payment_id}?replayed=${replayed}`, 303);
  });

  app.get('/webhooks', { config, schema: hide }, async (request, reply) => {
    const [endpoints, latency] = await Promise.all([q.endpointHealth(store.db, clock.now()), q.dailyWebhookLatency(store.db, clock.now())]);
    return render(
      request,
      reply,
      'webhooks',
      (t) => t.webhooks,
      (t) => webhooksPage(t, endpoints, latency),
    );
  });

  app.get('/banks', { config, schema: hide }, async (request, reply) => {
    const connectors = await app.payrail.connectors.all();
    const [banks, usage] = await Promise.all([q.configuredBanks(store.db, clock.now()), q.connectorUsage(store.db, clock.now())]);
    return render(
      request,
      reply,
      'banks',
      (t) => t.banks,
      (t) => banksPage(t, banks, usage, connectors),
    );
  });

  app.get('/clients', { config, schema: hide }, async (request, reply) => {
    const clients = await q.clientsWithRedirects(store.db);
    return render(
      request,
      reply,
      'clients',
      (t) => t.clients,
      (t) => clientsPage(t, clients),
    );
  });

  app.get('/config', { config, schema: hide }, async (request, reply) => {
    const domains = await q.domainConfigs(store.db);
    return render(
      request,
      reply,
      'config',
      (t) => t.config,
      (t) => configPage(t, domains),
    );
  });
};
