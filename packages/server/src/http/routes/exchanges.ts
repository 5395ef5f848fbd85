/** `GET /2.0/payments/{id}/exchanges`: the bank boundary's record of one payment, for support (payments:admin). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listAttempts, listExchanges } from '../../services/attempts.ts';
import { getPayment } from '../../services/payments.ts';
import { principalOf } from '../access.ts';
import { errorResponses, PaymentIdParams } from '../schemas.ts';
import { ADMIN_ONLY } from './admin.ts';

const Exchange = Type.Object(
  {
    id: Type.Integer(),
    attempt_id: Type.Union([Type.String(), Type.Null()]),
    operation: Type.Union([Type.String(), Type.Null()]),
    outcome: Type.Union([Type.String(), Type.Null()]),
    bank_id: Type.Union([Type.Integer(), Type.Null()]),
    method: Type.String(),
    path: Type.String(),
    status: Type.Union([Type.Integer(), Type.Null()]),
    duration_ms: Type.Integer(),
    request_id: Type.String(),
    request_body: Type.Unknown(),
    response_body: Type.Unknown(),
    error: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String(),
  },
  { title: 'BankExchange' },
);

const Attempt = Type.Object(
  {
    id: Type.String(),
    operation: Type.String(),
    outcome: Type.String(),
    http_status: Type.Union([Type.Integer(), Type.Null()]),
    bank_reference: Type.Union([Type.String(), Type.Null()]),
    raw_status: Type.Union([Type.String(), Type.Null()]),
    started_at: Type.String(),
    finished_at: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'PaymentAttempt' },
);

export async function paymentExchanges(db: Parameters<typeof listExchanges>[0], paymentId: number) {
  const attempts = (await listAttempts(db, paymentId)).map((a) => ({
    id: a.id,
    operation: a.operation,
    outcome: a.outcome,
    http_status: a.http_status,
    bank_reference: a.bank_reference,
    raw_status: a.raw_status,
    started_at: new Date(Number(a.started_at)).toISOString(),
    finished_at: a.finished_at === null ? null : new Date(Number(a.finished_at)).toISOString(),
    error: a.error,
  }));
  return { id_payment: paymentId, attempts, exchanges: await listExchanges(db, paymentId) };
}

export const exchangeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app.payrail;
  app.get(
    '/payments/:id/exchanges',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: "A payment's bank attempts and exchange log",
        description:
          'Every call Payrail made to the bank for this payment: the attempt (written before the call; its id is the X-Request-ID; outcome pending, ok, ' +
          'refused or unknown) and the exchange (method, path, status, duration, bodies with IBANs shortened to country and last four characters and names redacted). ' +
          'Payrail extension; needs payments:admin. See docs/banks.md.',
        security: [{ bearer: [] }],
        params: PaymentIdParams,
        response: {
          200: Type.Object({ id_payment: Type.Integer(), attempts: Type.Array(Attempt), exchanges: Type.Array(Exchange) }),
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => {
      const { payment } = await getPayment(store.db, principalOf(request).domainId, Number(request.params.id));
      return paymentExchanges(store.db, payment.id);
    },
  );
};
