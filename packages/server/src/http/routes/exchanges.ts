/** `GET /2.0/payments/{id}/exchanges`: the bank boundary's record of one payment, for support (payments:admin). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { payeeVerificationOf } from '../../connectors/kit/payee-verification.ts';
import { listAttempts, listCalls, listExchanges } from '../../services/attempts.ts';
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
    attempt: Type.Union([Type.Integer(), Type.Null()], { description: 'The number of the payment attempt (initiation) the call belongs to.' }),
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
    attempt: Type.Union([Type.Integer(), Type.Null()], { description: 'The number of the payment attempt (initiation) the call belongs to.' }),
  },
  { title: 'BankCall', description: 'One call to the bank; its id is the X-Request-ID.' },
);

const PaymentAttempt = Type.Object(
  {
    number: Type.Integer({ description: '1 for the first initiation at a bank, 2 for a fresh one after it…' }),
    current: Type.Boolean({ description: 'The attempt the payment follows now.' }),
    connector_uuid: Type.String(),
    bank_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The configured bank (as bank_id in the exchanges); null for the test bank.' }),
    bank_payment_id: Type.Union([Type.String(), Type.Null()], { description: "The bank's id of this initiation." }),
    bank_status: Type.Union([Type.String(), Type.Null()], { description: "The bank's last raw status." }),
    outcome: Type.String({ description: 'How the initiation ended: pending, ok, refused or unknown.' }),
    payee_verification: Type.Union(
      [
        Type.Object({
          result: Type.Union([Type.Literal('match'), Type.Literal('close_match'), Type.Literal('no_match'), Type.Literal('not_possible'), Type.Null()], {
            description: "The check of the payee's name (Verification of Payee): match, close_match, no_match, not_possible; null when the bank did not say.",
          }),
          bank_code: Type.String({ description: "The bank's code that carried it (e.g. Berlin Group RVCM)." }),
        }),
        Type.Null(),
      ],
      { description: "The bank's Verification of Payee at this initiation; null when it reported none. Payrail extension." },
    ),
    created_at: Type.String(),
    superseded_at: Type.Union([Type.String(), Type.Null()]),
    next_sync_at: Type.Union([Type.String(), Type.Null()]),
    sync_failures: Type.Integer(),
    calls: Type.Array(Type.String(), { description: "The X-Request-IDs of the attempt's bank calls." }),
  },
  { title: 'PaymentAttempt' },
);

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** The exchange log of one payment: its bank calls, their exchanges, and its attempts (each initiation) with their calls. */
export async function paymentExchanges(db: Parameters<typeof listExchanges>[0], paymentId: number) {
  const [calls, exchanges, attempts, payment] = await Promise.all([
    listCalls(db, paymentId),
    listExchanges(db, paymentId),
    listAttempts(db, paymentId),
    db.selectFrom('payments').select('current_attempt_id').where('id', '=', paymentId).executeTakeFirst(),
  ]);
  const numberOf = new Map(attempts.map((a) => [Number(a.id), Number(a.number)]));
  return {
    id_payment: paymentId,
    attempts: calls.map((c) => ({
      id: c.id,
      operation: c.operation,
      outcome: c.outcome,
      http_status: c.http_status,
      bank_reference: c.bank_reference,
      raw_status: c.raw_status,
      started_at: iso(c.started_at)!,
      finished_at: iso(c.finished_at),
      error: c.error,
      attempt: c.attempt_id === null ? null : (numberOf.get(Number(c.attempt_id)) ?? null),
    })),
    exchanges,
    payment_attempts: attempts.map((a) => ({
      number: Number(a.number),
      current: payment?.current_attempt_id !== null && Number(payment?.current_attempt_id) === Number(a.id),
      connector_uuid: a.connector_uuid,
      bank_id: a.bank_id === null ? null : Number(a.bank_id),
      bank_payment_id: a.bank_payment_id,
      bank_status: a.bank_status,
      outcome: a.outcome,
      payee_verification: payeeVerificationOf(a.connector_data),
      created_at: iso(a.created_at)!,
      superseded_at: iso(a.superseded_at),
      next_sync_at: iso(a.next_sync_at),
      sync_failures: Number(a.sync_failures),
      calls: calls.filter((c) => c.attempt_id !== null && Number(c.attempt_id) === Number(a.id)).map((c) => c.id),
    })),
  };
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
          'Every call Payrail made to the bank for this payment: the call (`attempts`: written before the call; its id is the X-Request-ID; outcome pending, ok, ' +
          'refused or unknown), the payment attempt it belongs to (`payment_attempts`: one per initiation at a bank, with its own bank payment id) and the exchange (method, path, status, duration, bodies with IBANs shortened to country and last four characters and names redacted). ' +
          'Payrail extension; needs payments:admin. See docs/banks.md.',
        security: [{ bearer: [] }],
        params: PaymentIdParams,
        response: {
          200: Type.Object({
            id_payment: Type.Integer(),
            attempts: Type.Array(Attempt),
            exchanges: Type.Array(Exchange),
            payment_attempts: Type.Array(PaymentAttempt),
          }),
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
