/**
 * Payrail's OAuth 2.0 / OpenID Connect return (`redirect_uri` registered at the banks:
 * `/2.0/consent/return`, kit/oauth.ts). The bank answers in the query (authorization code flow, and
 * errors) or in the URL fragment (OpenID Connect hybrid flow). A fragment never reaches a server:
 * for a return without a query, the page's script (our origin's /2.0/assets/webview.js, allowed by
 * the strict CSP) posts the fragment's values back here, and takes them out of the address bar.
 * The `state` names the payment; the connector proves it against the sealed copy, verifies any
 * id_token and exchanges the code. Then the payer goes on to the webview.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ApiError } from '../../domain/errors.ts';
import { paymentIdOfState } from '../../connectors/kit/oauth.ts';
import { bankReturn } from '../../services/payment-actions.ts';
import { paymentForReturn } from '../../services/webview-sessions.ts';
import { messagePage, navigate, page } from '../../webview/layout.ts';
import { html } from '../html.ts';
import { PAGE_CSP } from '../csp.ts';

/** The values an authorization response may carry (RFC 6749 §4.1.2, OpenID Connect Core §3.3.2.5, RFC 9207 `iss`). */
const ReturnValues = Type.Object({
  state: Type.Optional(Type.String({ maxLength: 512 })),
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  id_token: Type.Optional(Type.String({ maxLength: 16384 })),
  error: Type.Optional(Type.String({ maxLength: 100 })),
  error_description: Type.Optional(Type.String({ maxLength: 1000 })),
  error_uri: Type.Optional(Type.String({ maxLength: 1000 })),
  iss: Type.Optional(Type.String({ maxLength: 1000 })),
  session_state: Type.Optional(Type.String({ maxLength: 1000 })),
});
type Values = { state?: string; code?: string; id_token?: string; error?: string; error_description?: string; iss?: string };

function problem(reply: FastifyReply, status: number, message: string) {
  return messagePage(reply, status, { title: 'Payrail', message }, PAGE_CSP);
}

export const consentReturnRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app.payrail;
  await app.register(formbody, { bodyLimit: 32 * 1024 });

  async function handle(request: FastifyRequest, reply: FastifyReply, values: Values) {
    const id = paymentIdOfState(values.state);
    if (id === null) return problem(reply, 400, 'This link is not valid.');
    let payment = await paymentForReturn(store.db, id);
    if (!payment) return problem(reply, 400, 'This link is not valid.');
    const env = app.payrail.actions(request);
    if (payment.state === 'validating' && payment.action === 'redirect') {
      const params: Record<string, string> = {};
      for (const key of ['state', 'code', 'id_token', 'error', 'error_description', 'iss'] as const) if (values[key] !== undefined) params[key] = values[key];
      try {
        payment = await bankReturn(env, payment.id, params);
      } catch (error) {
        if (!(error instanceof ApiError && error.status < 500)) throw error;
      }
    }
    if (!payment.webview_url) return problem(reply, 409, 'This payment is no longer waiting for you.');
    return navigate(reply, payment.webview_url, new URL(env.baseUrl).origin, 'en', { title: 'Returning from the bank…', link: 'Continue' }, PAGE_CSP);
  }

  app.get('/consent/return', { config: { access: 'public' }, schema: { hide: true, querystring: ReturnValues } }, async (request, reply) => {
    if (request.query.state !== undefined || request.query.error !== undefined) return handle(request, reply, request.query);
    // No query: the answer is in the fragment, which only the browser sees; the script posts it here.
    const body = html`<h1>Returning from your bank…</h1>
<form method="post" action="/2.0/consent/return" data-fragment><noscript><p class="error" role="alert">Your bank answered in a way that needs JavaScript to reach Payrail. Turn JavaScript on and try again, or go back to the payment page.</p></noscript>
<div class="actions"><button type="submit">Continue</button></div></form>`;
    return reply
      .code(200)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .header('cache-control', 'no-store')
      .send(page({ lang: 'en', title: 'Payrail', body, script: true }));
  });

  app.post('/consent/return', { config: { access: 'public' }, schema: { hide: true, body: ReturnValues } }, async (request, reply) =>
    handle(request, reply, request.body),
  );
};
