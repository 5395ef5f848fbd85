/**
 * The hosted webview (docs/reference/powens-pay-api.md §7): `/2.0/auth/webview[/{lang}]/payment?client_id&redirect_uri&code&payment_id&state`.
 * Server-rendered, works without JavaScript (one script from our origin only enhances it). It uses
 * the same validation services as `POST /payments/{id}`. It may be framed by the client's
 * registered origins (Powens' webview library), and then ends with a `powensWebviewTermination`
 * message to the parent: see docs/webview.md. Thin handlers: the steps are in flow.ts, the HTML in
 * pages.ts, the store behind services.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { PsuHttp } from '../connectors/kit/types.ts';
import { ApiError } from '../domain/errors.ts';
import { resumePayment } from '../services/payment-actions.ts';
import { getPayment, type PaymentRecord } from '../services/payments.ts';
import { authenticate, tokenExpired } from '../services/tokens.ts';
import { paymentRedirectUri } from '../services/webview-sessions.ts';
import { PAGE_CSP } from '../http/csp.ts';
import { decryptJweFormFields } from '../http/jose-hooks.ts';
import { exitPage, navigate, PAGE_CSS, WEBVIEW_JS, type WebviewExit } from './layout.ts';
import { LANGS, type Lang, messages, pickLang } from './i18n.ts';
import { checkCsrf, codeTag, csrfToken, decodeContext, encodeContext, saveWebviewState, type WebviewContext, withWebviewState } from './context.ts';
import { clientRedirectUris, framedPageCsp } from './framing.ts';
import { bankGroups, currentStep, errorExit, finalRedirect, flowPath, perform, webviewMayAct } from './flow.ts';
import { bankListHtml, errorPageHtml, stepPage } from './pages.ts';

/** Kept here for the routes that import it; it lives in flow.ts. */
export { callbackUrl } from './flow.ts';

const EntryQuery = Type.Object({
  client_id: Type.Optional(Type.String({ maxLength: 200 })),
  redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  code: Type.Optional(Type.String({ maxLength: 512 })),
  payment_id: Type.Optional(Type.String({ maxLength: 20 })),
  state: Type.Optional(Type.String({ maxLength: 2000 })),
  domain: Type.Optional(Type.String({ maxLength: 255 })),
});

type FlowQueryValues = { w?: string | undefined; connector?: string | undefined; q?: string | undefined; error?: string | undefined };

const FlowQuery = Type.Object({
  w: Type.Optional(Type.String({ maxLength: 8192 })),
  connector: Type.Optional(Type.String({ maxLength: 64 })),
  q: Type.Optional(Type.String({ maxLength: 100 })),
  error: Type.Optional(Type.String({ maxLength: 40 })),
});

/** One request header as the payer's browser sent it: control characters removed, at most 512 characters (it goes into a header to the bank). */
function headerText(value: string | string[] | undefined): string | null {
  const text = (Array.isArray(value) ? value.join(', ') : (value ?? ''))
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 512);
  return text === '' ? null : text;
}

/**
 * The payer's browser request, for banks that want the `PSU-*` context headers (Berlin Group profile
 * `psu_headers`). The port is the payer's only when the request came straight from them (no trusted
 * proxy in between: then `request.ip` is the socket's address).
 */
function psuHttpOf(request: FastifyRequest): PsuHttp {
  const direct = request.ip === request.socket.remoteAddress;
  return {
    user_agent: headerText(request.headers['user-agent']),
    accept: headerText(request.headers.accept),
    accept_charset: headerText(request.headers['accept-charset']),
    accept_encoding: headerText(request.headers['accept-encoding']),
    accept_language: headerText(request.headers['accept-language']),
    http_method: request.method,
    ip_port: direct && request.socket.remotePort ? String(request.socket.remotePort) : null,
  };
}

function send(reply: FastifyReply, status: number, body: string, csp = PAGE_CSP) {
  return reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', csp).header('cache-control', 'no-store').send(body);
}

/** Only where the payer cannot be sent back safely (no registered redirect URI is known). */
function errorPage(reply: FastifyReply, lang: Lang, status: number, text: string, csp = PAGE_CSP) {
  return send(reply, status, errorPageHtml(lang, text), csp);
}

export const webviewRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, secret } = app.payrail;
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  /** Leaves the webview: to the merchant, or to the parent frame as a termination message. */
  function leave(reply: FastifyReply, exit: WebviewExit, lang: Lang, csp: string) {
    const t = messages(lang);
    return exitPage(reply, exit, lang, { title: t.leaving, link: t.leavingLink }, csp);
  }

  async function entry(request: FastifyRequest<{ Querystring: Record<string, string | undefined>; Params: { lang?: string } }>, reply: FastifyReply) {
    const lang = pickLang(request.params.lang, request.headers['accept-language']);
    const t = messages(lang);
    const q = request.query;
    const paymentId = q.payment_id && /^\d{1,15}$/.test(q.payment_id) ? Number(q.payment_id) : null;
    const principal = q.code ? await authenticate(store.db, clock, q.code) : null;
    const usable =
      principal &&
      paymentId !== null &&
      principal.paymentId === paymentId &&
      principal.scopes.includes('payments:validate') &&
      principal.clientId === q.client_id;
    // The payer is known once the client is, with a redirect URI registered to it: only then may errors go back there.
    const registered = q.client_id ? await clientRedirectUris(store.db, { clientId: q.client_id }) : [];
    const csp = framedPageCsp(registered);
    let redirectUri = q.redirect_uri ?? null;
    if (!redirectUri && paymentId !== null && registered.length) {
      // Most integrations omit redirect_uri: Powens then uses the payment's client_redirect_uri.
      const own = await paymentRedirectUri(store.db, paymentId, q.client_id!);
      if (own) {
        redirectUri = own;
        request.log.info({ paymentId }, "webview entry without redirect_uri: using the payment's client_redirect_uri");
      }
    }
    if (!redirectUri || !registered.includes(redirectUri)) return errorPage(reply, lang, 400, t.errorSession, csp);
    if (!usable) {
      const expired = q.code ? await tokenExpired(store.db, clock, q.code) : false;
      const exit = errorExit(
        redirectUri,
        expired ? 'session_expired' : 'invalid_request',
        expired ? 'The payment link has expired.' : 'The payment link is invalid.',
        { state: q.state ?? null },
      );
      return leave(reply, exit, lang, csp);
    }
    await saveWebviewState(store.db, principal.paymentId!, q.state ?? null);
    const ctx: WebviewContext = {
      paymentId: principal.paymentId!,
      domainId: principal.domainId,
      clientId: principal.clientId,
      redirectUri,
      state: null,
      lang,
      expiresAt: principal.expiresAt,
      codeTag: codeTag(q.code!),
    };
    return reply.header('content-security-policy', csp).redirect(`${flowPath(lang)}?w=${encodeContext(secret, ctx)}`, 303);
  }

  const entrySchema = { hide: true, querystring: EntryQuery } as const;
  app.get('/auth/webview/payment', { config: { access: 'public' }, schema: entrySchema }, entry);
  app.get(
    '/auth/webview/:lang/payment',
    { config: { access: 'public' }, schema: { ...entrySchema, params: Type.Object({ lang: Type.String({ maxLength: 10 }) }) } },
    entry,
  );

  /** The page for the payment's current step. */
  async function renderFlow(reply: FastifyReply, record: PaymentRecord, ctx: WebviewContext, query: FlowQueryValues, csp: string) {
    const step = await currentStep(record, app.payrail.connectors, clock, query.connector);
    const keys = { w: query.w!, csrf: csrfToken(secret, ctx) };
    const banks =
      step.kind === 'banks'
        ? bankListHtml(ctx.lang, keys, query.q ?? '', await bankGroups(record, app.payrail.connectors, clock, query.q ?? ''), record.payment.country)
        : undefined;
    return send(reply, 200, stepPage(step, record, ctx.lang, keys, { inputError: Boolean(query.error), ...(banks ? { banks } : {}) }), csp);
  }

  /** Any failure once the payer is known sends them back with `error=server_error`, never to a dead end. */
  async function failureExit(request: FastifyRequest, reply: FastifyReply, ctx: WebviewContext, error: unknown, csp: string) {
    request.log.error({ err: error, paymentId: ctx.paymentId }, 'webview failure: payer sent back to redirect_uri');
    const code = error instanceof ApiError ? error.code : 'bug';
    return leave(
      reply,
      errorExit(ctx.redirectUri, 'server_error', `The payment could not be processed (${code}).`, {
        state: (await withWebviewState(store.db, ctx)).state,
        id_payment: ctx.paymentId,
      }),
      ctx.lang,
      csp,
    );
  }

  app.get(
    '/auth/webview/:lang/flow',
    { config: { access: 'public' }, schema: { hide: true, querystring: FlowQuery, params: Type.Object({ lang: Type.String({ maxLength: 10 }) }) } },
    async (request, reply) => {
      const lang = pickLang(request.params.lang, request.headers['accept-language']);
      const ctx = decodeContext(secret, request.query.w, clock.now());
      if (!ctx) return errorPage(reply, lang, 400, messages(lang).errorSession);
      const csp = framedPageCsp(await clientRedirectUris(store.db, { clientId: ctx.clientId }));
      try {
        let record = await getPayment(store.db, ctx.domainId, ctx.paymentId);
        // A decoupled approval is checked each time the payer's page refreshes.
        if (record.payment.state === 'validating' && record.payment.action === 'decoupled') {
          await resumePayment(app.payrail.actions(request), ctx.domainId, ctx.paymentId).catch((error) => {
            if (!(error instanceof ApiError && error.status < 500)) throw error;
          });
          record = await getPayment(store.db, ctx.domainId, ctx.paymentId);
        }
        if (!webviewMayAct(record)) return leave(reply, finalRedirect(record, await withWebviewState(store.db, ctx)), ctx.lang, csp);
        return renderFlow(reply, record, ctx, request.query, csp);
      } catch (error) {
        return failureExit(request, reply, ctx, error, csp);
      }
    },
  );

  app.post(
    '/auth/webview/:lang/flow',
    {
      config: { access: 'public' },
      schema: { hide: true, params: Type.Object({ lang: Type.String({ maxLength: 10 }) }), body: Type.Record(Type.String(), Type.String({ maxLength: 2048 })) },
    },
    async (request, reply) => {
      const lang = pickLang(request.params.lang, request.headers['accept-language']);
      const form = request.body;
      const ctx = decodeContext(secret, form.w, clock.now());
      if (!ctx) return errorPage(reply, lang, 400, messages(lang).errorSession);
      const csp = framedPageCsp(await clientRedirectUris(store.db, { clientId: ctx.clientId }));
      // A forged form is not the payer's: refused, and nothing changes.
      if (!checkCsrf(secret, ctx, form.csrf)) return errorPage(reply, ctx.lang, 403, messages(ctx.lang).errorForm, csp);
      const env = app.payrail.actions(request);
      const t = messages(ctx.lang);
      // What the payer typed may come end-to-end encrypted (JWE for GET /2.0/publickey), as the API's `fields`.
      let values: Record<string, string>;
      try {
        values = await decryptJweFormFields(app as unknown as FastifyInstance, form, 'field_');
      } catch (error) {
        if (error instanceof ApiError && error.status < 500) return reply.redirect(`${flowPath(ctx.lang)}?w=${form.w!}&error=input`, 303);
        throw error;
      }
      const result = await perform(env, ctx, values, { ip: request.ip, http: psuHttpOf(request) }, (c) => withWebviewState(store.db, c));
      switch (result.kind) {
        case 'see':
          return reply.redirect(result.url, 303);
        case 'go':
          return navigate(reply, result.url, new URL(env.baseUrl).origin, ctx.lang, { title: t.leaving, link: t.leavingLink }, csp);
        case 'leave':
          return leave(reply, result.exit, ctx.lang, csp);
        case 'failure':
          return failureExit(request, reply, ctx, result.error, csp);
      }
    },
  );

  app.get('/assets/webview.js', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(WEBVIEW_JS),
  );
  app.get('/assets/payrail.css', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(PAGE_CSS),
  );
};

export { LANGS };
