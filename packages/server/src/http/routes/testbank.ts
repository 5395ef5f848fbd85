/**
 * The test connector's simulated bank authentication page. The URL is signed by Payrail (the
 * connector put it in validate_uri); approving or refusing is a POST carrying that signature, so a
 * forged or replayed form changes nothing.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { friendlyFormatIBAN } from 'ibantools';
import { Type } from 'typebox';
import { ApiError } from '../../domain/errors.ts';
import { formatMinorUnits } from '../../domain/money.ts';
import { bankReturn } from '../../services/payment-actions.ts';
import { verifySignature } from '../../services/signed-urls.ts';
import { html } from '../html.ts';
import { PAGE_CSP } from '../csp.ts';
import { navigate, page } from '../../webview/layout.ts';
import { afterCancellationUrl } from './bank-return.ts';
import { clientRedirectUris, framedPageCsp } from '../../webview/framing.ts';
import { readJson } from '../../store/rows.ts';

const Params = Type.Object({
  payment: Type.String({ pattern: '^[0-9]{1,15}$' }),
  purpose: Type.String({ maxLength: 20 }),
  sig: Type.String({ maxLength: 100 }),
});

function sendPage(reply: FastifyReply, status: number, body: string, csp = PAGE_CSP) {
  return reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', csp).send(body);
}

function problemPage(reply: FastifyReply, status: number, message: string, csp = PAGE_CSP) {
  return sendPage(reply, status, page({ lang: 'en', title: 'Test bank', body: html`<h1>Test bank</h1><p class="error" role="alert">${message}</p>` }), csp);
}

export const testbankRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, secret } = app.payrail;
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  async function load(query: { payment: string; purpose: string; sig: string }) {
    if (!verifySignature(secret, `${query.payment}.${query.purpose}`, query.sig)) return null;
    return store.db.selectFrom('payments').selectAll().where('id', '=', Number(query.payment)).executeTakeFirst() ?? null;
  }

  /** The bank page opens inside the webview, which the client's origins may frame. */
  const cspFor = async (payment: { client_ref: number }) => framedPageCsp(await clientRedirectUris(store.db, { clientRef: payment.client_ref }));

  app.get('/testbank/authorize', { config: { access: 'public' }, schema: { hide: true, querystring: Params } }, async (request, reply) => {
    const payment = await load(request.query);
    if (!payment) return problemPage(reply, 400, 'This link is not valid.');
    const csp = await cspFor(payment);
    const cancellation = request.query.purpose === 'cancel';
    if (
      cancellation ? !(payment.state === 'pending' && payment.state_detail === 'cancelling') : payment.state !== 'validating' || payment.action !== 'redirect'
    ) {
      return problemPage(reply, 409, 'This payment is no longer waiting for your approval.', csp);
    }
    const instructions = await store.db.selectFrom('payment_instructions').selectAll().where('payment_id', '=', payment.id).orderBy('position').execute();
    const total = formatMinorUnits(payment.total_minor, payment.currency);
    const hidden = html`<input type="hidden" name="payment" value="${request.query.payment}"><input type="hidden" name="purpose" value="${request.query.purpose}"><input type="hidden" name="sig" value="${request.query.sig}">`;
    const body = html`<h1>${cancellation ? 'Test bank — approve the cancellation of a transfer' : 'Test bank — approve a transfer'}</h1>
<p class="muted">This is Payrail's simulated bank. Nothing real is paid.</p>
<section class="card" aria-labelledby="summary"><h2 id="summary">Transfer</h2>
<p class="amount">${total} ${payment.currency}</p>
<dl>${instructions.map((i) => {
      const beneficiary = readJson(i.beneficiary);
      const account = friendlyFormatIBAN(beneficiary.identification) ?? beneficiary.identification;
      return html`<dt>To</dt><dd>${beneficiary.label ?? ''}<br><span class="muted">${account}</span></dd><dt>Reference</dt><dd>${i.label}</dd>`;
    })}</dl></section>
<form method="post" action="/2.0/testbank/authorize">${hidden}
<div class="actions"><button type="submit" name="decision" value="approve">${cancellation ? 'Approve the cancellation' : 'Approve the transfer'}</button>
<button type="submit" name="decision" value="refuse" class="danger">Refuse</button></div></form>`;
    return sendPage(reply, 200, page({ lang: 'en', title: 'Test bank', body }), csp);
  });

  /**
   * Powens' test connector callback for the `redirect` use cases: visiting it is the payer's
   * approval (`authFactorValue=AUTHENTICATION_VALIDATED`; any other value refuses), then a 303 sends
   * the payer back to webview_url (a plain GET visit: no form-action applies). A second visit
   * changes nothing and goes back as well.
   */
  app.get(
    '/webauth/callback',
    {
      config: { access: 'public' },
      schema: {
        hide: true,
        querystring: Type.Object({ state: Type.String({ maxLength: 200 }), authFactorValue: Type.Optional(Type.String({ maxLength: 64 })) }),
      },
    },
    async (request, reply) => {
      const [id, signature] = request.query.state.split('.');
      if (!id || !signature || !/^\d{1,15}$/.test(id) || !verifySignature(secret, `webauth.${id}`, signature))
        return problemPage(reply, 400, 'This link is not valid.');
      const decision = request.query.authFactorValue === 'AUTHENTICATION_VALIDATED' ? 'approve' : 'refuse';
      const env = app.payrail.actions(request);
      let payment = await store.db.selectFrom('payments').selectAll().where('id', '=', Number(id)).executeTakeFirst();
      if (!payment) return problemPage(reply, 404, 'This payment does not exist.');
      if (payment.state === 'validating' && payment.action === 'redirect') {
        try {
          payment = await bankReturn(env, payment.id, { decision });
        } catch (error) {
          if (!(error instanceof ApiError && error.status < 500)) throw error;
        }
      }
      if (!payment.webview_url) return problemPage(reply, 409, 'This payment is no longer waiting for your approval.', await cspFor(payment));
      return reply.redirect(payment.webview_url, 303);
    },
  );

  app.post(
    '/testbank/authorize',
    { config: { access: 'public' }, schema: { hide: true, body: Type.Intersect([Params, Type.Object({ decision: Type.String({ maxLength: 20 }) })]) } },
    async (request, reply) => {
      const payment = await load(request.body);
      if (!payment) return problemPage(reply, 400, 'This form is not valid.');
      const csp = await cspFor(payment);
      if (!['approve', 'refuse'].includes(request.body.decision)) return problemPage(reply, 400, 'Choose approve or refuse.', csp);
      try {
        const updated = await bankReturn(app.payrail.actions(request), payment.id, { decision: request.body.decision, purpose: request.body.purpose });
        const self = new URL(app.payrail.actions(request).baseUrl).origin;
        const next = request.body.purpose === 'cancel' ? afterCancellationUrl(updated) : (updated.webview_url ?? '/');
        return navigate(reply, next, self, 'en', { title: 'Returning from the bank…', link: 'Continue' }, csp);
      } catch (error) {
        if (error instanceof ApiError && error.status < 500) return problemPage(reply, 409, 'This payment is no longer waiting for your approval.', csp);
        throw error;
      }
    },
  );
};
