/**
 * Where a bank sends the payer back (`ctx.returnUrls`: Berlin Group's `TPP-Redirect-URI` and
 * `TPP-Nok-Redirect-URI`). The `state` value is signed and bound to the payment, so a forged
 * return changes nothing; a genuine one proves nothing either: the connector reads the bank's
 * status. Then the payer goes on to the webview (validation) or to the merchant (cancellation).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { ApiError } from '../../domain/errors.ts';
import { bankReturn } from '../../services/payment-actions.ts';
import { verifySignature } from '../../services/signed-urls.ts';
import { DETAIL } from '../../services/payment-checks.ts';
import type { PaymentRow } from '../../store/schema.ts';
import { callbackUrl } from '../../webview/routes.ts';
import { navigate, page } from '../../webview/layout.ts';
import { html } from '../html.ts';
import { PAGE_CSP } from '../csp.ts';

/** After a cancellation approved (or not) at the bank, the payer goes to the cancellation's redirect URI (docs/reference/powens-pay-api.md §12). */
export function afterCancellationUrl(payment: PaymentRow): string {
  return callbackUrl(payment.client_redirect_uri, {
    state: payment.client_state,
    id_payment: payment.id,
    payment_state: payment.state,
    error_code: payment.error_code,
    bank_message: null,
  });
}

function problem(reply: FastifyReply, status: number, message: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .send(page({ lang: 'en', title: 'Payrail', body: html`<h1>Payrail</h1><p class="error" role="alert">${message}</p>` }));
}

export const bankReturnRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, secret } = app.payrail;
  app.get(
    '/bank-return/:result',
    {
      config: { access: 'public' },
      schema: {
        hide: true,
        params: Type.Object({ result: Type.Union([Type.Literal('ok'), Type.Literal('nok')]) }),
        querystring: Type.Record(Type.String(), Type.String({ maxLength: 2048 })),
      },
    },
    async (request, reply) => {
      const { state, ...rest } = request.query as Record<string, string>;
      const [id, signature] = (state ?? '').split('.');
      if (!id || !signature || !/^\d{1,15}$/.test(id) || !verifySignature(secret, `bank-return.${id}`, signature))
        return problem(reply, 400, 'This link is not valid.');
      const env = app.payrail.actions(request);
      let payment = await store.db.selectFrom('payments').selectAll().where('id', '=', Number(id)).executeTakeFirst();
      if (!payment) return problem(reply, 404, 'This payment does not exist.');
      const cancelling = payment.state === 'pending' && payment.state_detail === DETAIL.cancelling;
      if (cancelling || (payment.state === 'validating' && payment.action === 'redirect')) {
        try {
          payment = await bankReturn(env, payment.id, { ...rest, result: request.params.result });
        } catch (error) {
          if (!(error instanceof ApiError && error.status < 500)) throw error;
        }
      }
      const self = new URL(env.baseUrl).origin;
      const next = cancelling ? afterCancellationUrl(payment) : payment.webview_url;
      if (!next) return problem(reply, 409, 'This payment is no longer waiting for you.');
      return navigate(reply, next, self, 'en', { title: 'Returning from the bank…', link: 'Continue' }, PAGE_CSP);
    },
  );
};
