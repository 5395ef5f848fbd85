/** Payment endpoints (docs/reference/powens-pay-api.md §3): create, list, read, payment-scoped tokens. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../domain/errors.ts';
import { exceedsAmountCap, formatMinorUnits } from '../../domain/money.ts';
import { cachedConfig } from '../../services/config.ts';
import { type PaymentInput, validatePaymentRequest } from '../../domain/payment-request.ts';
import { checkIdempotencyKey, lookupIdempotencyKey, recordIdempotentResponse, requestHash } from '../../services/idempotency.ts';
import {
  createPayment,
  findPaymentState,
  readPaymentView,
  IdempotencyKeyTaken,
  type ListQuery,
  listPayments,
  parseBoolean,
  paymentView,
} from '../../services/payments.ts';
import { issueScopedToken, type Principal } from '../../services/tokens.ts';
import { canSeeSensitive, principalOf, type AccessRule } from '../access.ts';
import { errorBody } from '../errors.ts';
import {
  errorResponses,
  IdempotencyHeaders,
  ListPaymentsQuery,
  PaymentIdParams,
  PaymentInitRequest,
  PaymentListResponse,
  ScopedTokenRequest,
  ScopedTokenResponse,
  ShowSensitiveQuery,
} from '../schemas.ts';

/** The authorization matrix of docs/reference/powens-pay-api.md §2.2, one rule per route. */
export const ACCESS = {
  listPayments: { service: ['payments:read-only', 'payments:allow-sensitive'], paymentScoped: [] },
  createPayment: { service: [], paymentScoped: [] },
  getPayment: {
    service: ['payments:read-only', 'payments:allow-sensitive', 'payments:validate', 'payments:cancel'],
    paymentScoped: ['payments:validate', 'payments:cancel', 'payments:read-only', 'payments:allow-sensitive'],
  },
  scopedToken: { service: [], paymentScoped: ['payments:validate'] },
} as const satisfies Record<string, AccessRule>;

export function showSensitive(principal: Principal, value: string | undefined): boolean {
  const wanted = parseBoolean(value, 'show_sensitive');
  if (wanted && !canSeeSensitive(principal)) {
    throw new ApiError('forbidden', 'show_sensitive needs the scope payments:admin, payments:validate or payments:allow-sensitive', {
      field: 'show_sensitive',
    });
  }
  return wanted;
}

export const paymentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock } = app.payrail;
  const security = [{ bearer: [] }];

  app.post(
    '/payments',
    {
      config: { access: ACCESS.createPayment },
      schema: {
        tags: ['payments'],
        summary: 'Create a payment',
        description:
          'Creates a payment in state `created`. Needs payments:admin. With an `Idempotency-Key` header, a retry with the same key ' +
          'and body replays the first response (24 hours); the same key with another body gets 422. The key is stored in the ' +
          'transaction that creates the payment: a concurrent retry waits for the first request and replays its answer, or gets 409.',
        security,
        querystring: ShowSensitiveQuery,
        headers: IdempotencyHeaders,
        body: PaymentInitRequest,
        response: { 200: { $ref: 'Payment#' }, ...errorResponses(400, 401, 403, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const sensitive = showSensitive(principal, request.query.show_sensitive);
      const rawKey = request.headers['idempotency-key'];
      const key = rawKey === undefined ? undefined : checkIdempotencyKey(rawKey);
      const hash = key === undefined ? '' : requestHash('POST', request.url, request.rawBody ?? '');
      const replay = (claim: { status: number; body: string }) =>
        reply
          .code(claim.status as 200)
          .header('idempotent-replayed', 'true')
          .type('application/json')
          .serializer((b: unknown) => b as string)
          .send(claim.body);
      // The stored answer for this key, if any; else the key is stored with the payment, in its transaction.
      const lookup = async () => (key === undefined ? null : await lookupIdempotencyKey(store.db, clock, principal.clientRef, key, hash));
      const first = await lookup();
      if (first?.kind === 'replay') return replay(first);
      try {
        const input = validatePaymentRequest(request.body as PaymentInput, {
          nowMs: clock.now(),
          redirectUris: principal.redirectUris,
          connectors: await app.payrail.connectors.descriptors(),
        });
        const maxAmount = (await cachedConfig(store.db, principal.domainId))['payment.max_amount'];
        if (maxAmount !== '' && exceedsAmountCap(input.total_minor, input.currency, maxAmount)) {
          throw new ApiError(
            'invalidValue',
            `instructions: the total ${formatMinorUnits(input.total_minor, input.currency)} ${input.currency} is above payment.max_amount (${maxAmount})`,
            { field: 'instructions' },
          );
        }
        const { body } = await createPayment(store.db, clock, principal, input, { showSensitive: sensitive, ...(key ? { idempotency: { key, hash } } : {}) });
        return reply
          .type('application/json')
          .serializer((b: unknown) => b as string)
          .send(body);
      } catch (error) {
        if (error instanceof IdempotencyKeyTaken) {
          // A concurrent request with this key committed first: answer as it was answered.
          const now = await lookup();
          if (now?.kind === 'replay') return replay(now);
          throw new ApiError('idempotencyKeyInUse', undefined, { field: 'Idempotency-Key' });
        }
        if (key !== undefined && error instanceof ApiError && error.status < 500) {
          // A refused request is answered the same way on retry; only our own failures may be retried.
          await recordIdempotentResponse(store.db, clock, principal.clientRef, key, hash, error.status, JSON.stringify(errorBody(error, request.id)));
        }
        throw error;
      }
    },
  );

  app.get(
    '/payments',
    {
      config: { access: ACCESS.listPayments },
      schema: {
        tags: ['payments'],
        summary: 'List payments',
        description: 'Payments of the domain, ordered by register_date ascending unless order_by/reverse say otherwise.',
        security,
        querystring: ListPaymentsQuery,
        response: { 200: PaymentListResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const sensitive = showSensitive(principal, request.query.show_sensitive);
      const result = await listPayments(store.db, principal.domainId, request.query as ListQuery);
      return { payments: result.records.map((r) => paymentView(r.payment, r.instructions, sensitive)), total: result.total };
    },
  );

  app.get(
    '/payments/:id',
    {
      config: { access: ACCESS.getPayment },
      schema: {
        tags: ['payments'],
        summary: 'Get a payment',
        description: 'Reads a payment; meant for checking it after the redirect callback (webhooks carry updates).',
        security,
        params: PaymentIdParams,
        querystring: ShowSensitiveQuery,
        response: { 200: { $ref: 'Payment#' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const sensitive = showSensitive(principal, request.query.show_sensitive);
      const { payment, instructions } = await readPaymentView(store.db, principal.domainId, Number(request.params.id));
      return paymentView(payment, instructions, sensitive);
    },
  );

  app.post(
    '/payments/:id/scopedtoken',
    {
      config: { access: ACCESS.scopedToken },
      schema: {
        tags: ['auth'],
        summary: 'Get a payment-scoped token',
        description:
          'Mints a token bound to this payment, valid 7 days, to hand to the webview (`code`) or a custom validation page. ' +
          "payments:admin is never granted this way. Callable with payments:admin, or with this payment's own payments:validate token.",
        security,
        params: PaymentIdParams,
        body: ScopedTokenRequest,
        response: { 200: ScopedTokenResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const payment = await findPaymentState(store.db, principal.domainId, Number(request.params.id));
      return issueScopedToken(store.db, clock, principal, payment, request.body.scope);
    },
  );
};
