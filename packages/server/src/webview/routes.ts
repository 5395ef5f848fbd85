/**
 * The hosted webview (spec §7): `/2.0/auth/webview[/{lang}]/payment?client_id&redirect_uri&code&payment_id&state`.
 * Server-rendered, works without JavaScript (one script from our origin only enhances it). It uses
 * the same validation services as `POST /payments/{id}`. It may be framed by the client's
 * registered origins (Powens' webview library), and then ends with a `powensWebviewTermination`
 * message to the parent: see docs/webview.md.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isCompatible } from '../domain/compatibility.ts';
import { ApiError } from '../domain/errors.ts';
import { formatMinorUnits } from '../domain/money.ts';
import { FINAL_STATES, type PaymentState } from '../domain/states.ts';
import type { Connector, PaymentField } from '../connectors/kit/types.ts';
import { DETAIL, mayInitiateAgain } from '../services/payment-checks.ts';
import { cancelByPayer, compatibilityOf, psuValidate, resumePayment, submitFields, validatePayment } from '../services/payment-actions.ts';
import { getPayment, type PaymentRecord } from '../services/payments.ts';
import { authenticate, tokenExpired } from '../services/tokens.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { PAGE_CSP } from '../http/csp.ts';
import { exitPage, navigate, page, PAGE_CSS, WEBVIEW_JS, type WebviewExit } from './layout.ts';
import { LANGS, type Lang, messages, type Messages, pickLang } from './i18n.ts';
import { checkCsrf, codeTag, csrfToken, decodeContext, encodeContext, saveWebviewState, type WebviewContext, withWebviewState } from './context.ts';
import { clientRedirectUris, framedPageCsp } from './framing.ts';

const EntryQuery = Type.Object({
  client_id: Type.Optional(Type.String({ maxLength: 200 })),
  redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  code: Type.Optional(Type.String({ maxLength: 512 })),
  payment_id: Type.Optional(Type.String({ maxLength: 20 })),
  state: Type.Optional(Type.String({ maxLength: 2000 })),
  domain: Type.Optional(Type.String({ maxLength: 255 })),
});

const FlowQuery = Type.Object({
  w: Type.Optional(Type.String({ maxLength: 8192 })),
  connector: Type.Optional(Type.String({ maxLength: 64 })),
  q: Type.Optional(Type.String({ maxLength: 100 })),
  error: Type.Optional(Type.String({ maxLength: 40 })),
});

const regionNames: Record<string, Intl.DisplayNames> = {};
function countryName(lang: Lang, code: string): string {
  regionNames[lang] ??= new Intl.DisplayNames([lang], { type: 'region' });
  return regionNames[lang].of(code) ?? code;
}

function send(reply: FastifyReply, status: number, body: string, csp = PAGE_CSP) {
  return reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', csp).header('cache-control', 'no-store').send(body);
}

/** Only where the payer cannot be sent back safely (no registered redirect URI is known). */
function errorPage(reply: FastifyReply, lang: Lang, status: number, text: string, csp = PAGE_CSP) {
  const t = messages(lang);
  return send(
    reply,
    status,
    page({ lang, title: t.errorTitle, body: html`<h1>${t.errorTitle}</h1><p class="error" role="alert">${text}</p>`, footer: t.footer }),
    csp,
  );
}

/** `client_redirect_uri` (or the error exit `redirect_uri`) with the callback parameters of spec §7.3. */
export function callbackUrl(base: string, params: Record<string, string | number | null | undefined>): string {
  return exitTo(base, params).url;
}

function exitTo(base: string, params: Record<string, string | number | null | undefined>): WebviewExit {
  const kept: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') kept[key] = value;
  const query = new URLSearchParams(Object.entries(kept).map(([k, v]): [string, string] => [k, String(v)]));
  return { url: `${base}?${query.toString()}`, params: kept };
}

function finalRedirect(record: PaymentRecord, ctx: WebviewContext): WebviewExit {
  const p = record.payment;
  return exitTo(p.client_redirect_uri, {
    state: ctx.state ?? p.client_state,
    id_payment: p.id,
    // A payment waiting for the merchant's confirmation is, for the payer, validated (spec §5.3).
    payment_state: p.state === 'validating' && p.action === 'confirm' ? 'pending' : p.state,
    error_code: p.state === 'rejected' ? p.error_code : null,
    bank_message: p.state === 'rejected' ? p.error_description : null,
  });
}

/** The entry rule of spec §5.3: act only on created, or validating with an action other than confirm. */
function webviewMayAct(record: PaymentRecord): boolean {
  const { state, action } = record.payment;
  return state === 'created' || (state === 'validating' && action !== 'confirm' && !FINAL_STATES.has(state as PaymentState));
}

function summary(record: PaymentRecord, t: Messages): SafeHtml {
  const p = record.payment;
  const first = record.instructions[0]!;
  const beneficiary = JSON.parse(first.beneficiary) as { label: string | null; identification: string };
  return html`<section class="card" aria-labelledby="summary-title"><h2 id="summary-title" class="visually-hidden">${t.amount}</h2>
<p class="amount">${formatMinorUnits(p.total_minor, p.currency)} ${p.currency}</p>
<dl><dt>${t.beneficiary}</dt><dd>${beneficiary.label ?? beneficiary.identification}</dd>
<dt>${t.reference}</dt><dd>${record.instructions.length > 1 ? `${first.label} (+${record.instructions.length - 1})` : first.label}</dd></dl></section>`;
}

function flowPath(lang: Lang): string {
  return `/2.0/auth/webview/${lang}/flow`;
}

export const webviewRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, secret } = app.payrail;
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  function hidden(ctx: WebviewContext, w: string): SafeHtml {
    return html`<input type="hidden" name="w" value="${w}"><input type="hidden" name="csrf" value="${csrfToken(secret, ctx)}">`;
  }

  /** Leaves the webview: to the merchant, or to the parent frame as a termination message. */
  function leave(reply: FastifyReply, exit: WebviewExit, lang: Lang, csp: string) {
    const t = messages(lang);
    return exitPage(reply, exit, lang, { title: t.leaving, link: t.leavingLink }, csp);
  }

  /** The webview reference's error exit: `error` (lower-case code) and `error_description`, plus the payment when known. */
  function errorExit(
    base: string,
    error: string,
    description: string,
    extra: { state?: string | null; id_payment?: number; error_code?: string | null } = {},
  ): WebviewExit {
    return exitTo(base, { state: extra.state, id_payment: extra.id_payment, error, error_code: extra.error_code, error_description: description });
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
      const payment = await store.db
        .selectFrom('payments')
        .innerJoin('clients', 'clients.id', 'payments.client_ref')
        .select('payments.client_redirect_uri')
        .where('payments.id', '=', paymentId)
        .where('clients.client_id', '=', q.client_id!)
        .executeTakeFirst();
      if (payment) {
        redirectUri = payment.client_redirect_uri;
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

  async function bankList(record: PaymentRecord, ctx: WebviewContext, w: string, search: string): Promise<SafeHtml> {
    const t = messages(ctx.lang);
    const compatible = (await app.payrail.connectors.list()).filter((c) => !c.descriptor.hidden && isCompatible(compatibilityOf(record, c, clock.now())));
    const needle = search.trim().toLowerCase();
    const matching = compatible.filter((c) => !needle || c.descriptor.name.toLowerCase().includes(needle) || c.descriptor.slug.includes(needle));
    const home = record.payment.country;
    const groups: [string, Connector[]][] = [
      [t.inCountry.replace('{country}', countryName(ctx.lang, home)), matching.filter((c) => c.descriptor.countries.includes(home))],
      [t.otherCountries, matching.filter((c) => !c.descriptor.countries.includes(home))],
    ];
    return html`<h2 id="banks-title">${t.chooseBank}</h2>
<form method="get" action="${flowPath(ctx.lang)}" class="search" role="search" aria-label="${t.search}"><input type="hidden" name="w" value="${w}">
<div><label for="q">${t.search}</label><input id="q" name="q" type="search" value="${search}" autocomplete="off"></div><button type="submit" class="secondary">${t.searchButton}</button></form>
${matching.length === 0 ? html`<p role="status">${t.noBank}</p>` : ''}
${groups
  .filter(([, list]) => list.length > 0)
  .map(
    ([title, list], i) => html`<section aria-labelledby="group-${i}"><h3 id="group-${i}">${title}</h3>
<form method="post" action="${flowPath(ctx.lang)}">${hidden(ctx, w)}<input type="hidden" name="op" value="choose">
<ul class="banks">${list.map((c) => html`<li><button type="submit" name="connector_uuid" value="${c.descriptor.uuid}">${c.descriptor.name}</button></li>`)}</ul></form></section>`,
  )}`;
  }

  function fieldInput(field: PaymentField, t: Messages): SafeHtml {
    const id = `field-${field.name}`;
    const label = html`<label for="${id}">${field.label}${field.required ? html` <span class="muted">(${t.required})</span>` : ''}</label>`;
    if (field.type === 'list') {
      return html`${label}<select id="${id}" name="field_${field.name}"${field.required ? html` required` : ''}>${field.required ? '' : html`<option value=""></option>`}${(field.values ?? []).map((v) => html`<option value="${v.value}">${v.label}</option>`)}</select>`;
    }
    return html`${label}<input id="${id}" name="field_${field.name}" type="${field.type === 'password' ? 'password' : 'text'}" autocomplete="off"${field.required ? html` required` : ''}${field.type === 'text' && field.name.includes('sms') ? html` inputmode="numeric" autocomplete="one-time-code"` : ''}>`;
  }

  function cancelForm(ctx: WebviewContext, w: string): SafeHtml {
    const t = messages(ctx.lang);
    return html`<form method="post" action="${flowPath(ctx.lang)}">${hidden(ctx, w)}<input type="hidden" name="op" value="cancel"><div class="actions"><button type="submit" class="danger">${t.cancel}</button></div></form>`;
  }

  type FlowQueryValues = { connector?: string | undefined; q?: string | undefined; error?: string | undefined };

  /** The page for the payment's current step. */
  async function renderFlow(reply: FastifyReply, record: PaymentRecord, ctx: WebviewContext, w: string, query: FlowQueryValues, csp: string) {
    const t = messages(ctx.lang);
    const p = record.payment;
    const head = html`<h1>${t.title}</h1>${summary(record, t)}${query.error ? html`<p class="error" role="alert">${t.errorInput}</p>` : ''}`;
    let body: SafeHtml;
    let script = false;
    if (p.state === 'created') {
      const connector = query.connector ? await app.payrail.connectors.byUuid(query.connector) : undefined;
      if (p.state_detail === DETAIL.initiating) {
        script = true;
        body = html`${head}<p role="status">${t.initiating}</p><form method="get" action="${flowPath(ctx.lang)}" data-autoresume><input type="hidden" name="w" value="${w}"><div class="actions"><button type="submit">${t.checkNow}</button></div></form>`;
      } else if (connector) {
        const needsPayer = !p.payer && connector.descriptor.payment_settings.providing_payer_account === 'mandatory';
        const fields = connector.descriptor.payment_fields.filter((f) => (f.auth_mechanisms ?? ['webauth']).includes('webauth'));
        body = html`${head}<h2>${connector.descriptor.name}</h2>
<form method="post" action="${flowPath(ctx.lang)}">${hidden(ctx, w)}<input type="hidden" name="op" value="validate"><input type="hidden" name="connector_uuid" value="${connector.descriptor.uuid}">
${fields.length ? html`<fieldset class="card"><legend>${t.bankFields}</legend>${fields.map((f) => fieldInput(f, t))}</fieldset>` : ''}
${needsPayer ? html`<label for="payer_iban">${t.payerAccount}</label><input id="payer_iban" name="payer_iban" required autocomplete="off" spellcheck="false">` : ''}
<div class="actions"><button type="submit">${t.continue}</button><a class="button secondary" href="${flowPath(ctx.lang)}?w=${w}">${t.back}</a></div></form>${cancelForm(ctx, w)}`;
      } else {
        body = html`${head}${await bankList(record, ctx, w, query.q ?? '')}${cancelForm(ctx, w)}`;
      }
    } else if (p.state_detail === DETAIL.initiationUnknown || p.state_detail === DETAIL.initiating) {
      // The bank's answer to the initiation was lost: say so plainly; a fresh attempt only where the bank's SCA is redirect.
      const connector = p.connector_uuid ? await app.payrail.connectors.byUuid(p.connector_uuid, { any: true }) : undefined;
      const retry = connector && mayInitiateAgain(p, connector, clock.now());
      body = html`${head}<h2>${p.state_detail === DETAIL.initiating ? t.initiating : t.unknownTitle}</h2>${p.state_detail === DETAIL.initiationUnknown ? html`<p role="status">${t.unknownText}</p>` : ''}
${retry ? html`<form method="post" action="${flowPath(ctx.lang)}">${hidden(ctx, w)}<input type="hidden" name="op" value="validate"><input type="hidden" name="connector_uuid" value="${connector.descriptor.uuid}"><div class="actions"><button type="submit">${t.unknownRetry}</button></div></form>` : html`<p class="muted">${t.unknownWait}</p>`}${cancelForm(ctx, w)}`;
    } else if (p.action === 'redirect' && p.validate_uri) {
      body = html`${head}<p>${t.redirecting}</p><div class="actions"><a class="button" href="${p.validate_uri}">${t.goToBank}</a></div>${cancelForm(ctx, w)}`;
    } else if (p.action === 'decoupled') {
      script = true;
      body = html`${head}<h2>${t.waitTitle}</h2><p role="status">${p.error_description ?? ''}</p><p class="muted">${t.waitText}</p>
<form method="post" action="${flowPath(ctx.lang)}" data-autoresume>${hidden(ctx, w)}<input type="hidden" name="op" value="resume"><div class="actions"><button type="submit">${t.checkNow}</button></div></form>${cancelForm(ctx, w)}`;
    } else if (p.action === 'additionalInformationNeeded') {
      const fields = JSON.parse(p.fields ?? '[]') as PaymentField[];
      body = html`${head}<h2>${t.fieldsTitle}</h2>${p.error_description ? html`<p>${p.error_description}</p>` : ''}
<form method="post" action="${flowPath(ctx.lang)}">${hidden(ctx, w)}<input type="hidden" name="op" value="fields">${fields.map((f) => fieldInput(f, t))}
<div class="actions"><button type="submit">${t.continue}</button></div></form>${cancelForm(ctx, w)}`;
    } else {
      body = html`${head}<h2>${t.psuTitle}</h2><form method="post" action="${flowPath(ctx.lang)}">${hidden(ctx, w)}<input type="hidden" name="op" value="psu">
<div class="actions"><button type="submit" name="answer" value="yes">${t.yes}</button><button type="submit" name="answer" value="no" class="secondary">${t.no}</button></div></form>`;
    }
    return send(reply, 200, page({ lang: ctx.lang, title: t.title, body, script, footer: t.footer }), csp);
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
        return renderFlow(reply, record, ctx, request.query.w!, request.query, csp);
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
      const flow = `${flowPath(ctx.lang)}?w=${form.w!}`;
      const env = app.payrail.actions(request);
      const t = messages(ctx.lang);
      const go = (url: string) => navigate(reply, url, new URL(env.baseUrl).origin, ctx.lang, { title: t.leaving, link: t.leavingLink }, csp);
      const fieldValues = Object.fromEntries(
        Object.entries(form)
          .filter(([k]) => k.startsWith('field_'))
          .map(([k, v]) => [k.slice(6), v])
          .filter(([, v]) => v !== ''),
      );
      try {
        switch (form.op) {
          case 'choose': {
            const connector = form.connector_uuid ? await app.payrail.connectors.byUuid(form.connector_uuid) : undefined;
            if (!connector) return reply.redirect(`${flow}&error=input`, 303);
            return reply.redirect(`${flow}&connector=${connector.descriptor.uuid}`, 303);
          }
          case 'validate': {
            const payment = await validatePayment(
              env,
              ctx.domainId,
              ctx.paymentId,
              {
                connector_uuid: form.connector_uuid ?? null,
                webview_url: `${env.baseUrl}${flow}`,
                validate_mechanism: 'webauth',
                fields: fieldValues,
                ...(form.payer_iban ? { payer: { scheme_name: 'iban', identification: form.payer_iban } } : {}),
              },
              [],
              request.ip,
            );
            return go(payment.action === 'redirect' && payment.validate_uri ? payment.validate_uri : flow);
          }
          case 'resume':
            await resumePayment(env, ctx.domainId, ctx.paymentId);
            return reply.redirect(flow, 303);
          case 'fields':
            await submitFields(env, ctx.domainId, ctx.paymentId, fieldValues);
            return reply.redirect(flow, 303);
          case 'psu':
            await psuValidate(env, ctx.domainId, ctx.paymentId, form.answer === 'yes');
            return reply.redirect(flow, 303);
          case 'cancel': {
            const payment = await cancelByPayer(env, ctx.domainId, ctx.paymentId);
            return leave(
              reply,
              exitTo(ctx.redirectUri, {
                state: (await withWebviewState(store.db, ctx)).state ?? payment.client_state,
                id_payment: payment.id,
                error: 'cancelled',
                error_code: payment.error_code,
              }),
              ctx.lang,
              csp,
            );
          }
          default:
            return reply.redirect(`${flow}&error=input`, 303);
        }
      } catch (error) {
        // The payment moved on (a replayed or late form): the flow page shows where it stands, or exits.
        if (error instanceof ApiError && error.code === 'invalidState') return reply.redirect(flow, 303);
        // What the payer typed is wrong: the same step again, with a message.
        if (error instanceof ApiError && (error.code === 'invalidValue' || error.code === 'missingParameter')) {
          const connector = form.op === 'validate' && form.connector_uuid ? `&connector=${encodeURIComponent(form.connector_uuid)}` : '';
          return reply.redirect(`${flow}${connector}&error=input`, 303);
        }
        return failureExit(request, reply, ctx, error, csp);
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
