/** Webhook endpoints per domain, the outbox of state changes, and the delivery log. */
import { randomBytes } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError, invalid } from '../domain/errors.ts';
import { precompile } from '../store/precompiled.ts';
import { type Database, type InstructionRow, isDeliveryStatus, type PaymentRow } from '../store/schema.ts';
import { paymentView } from '../services/payment-view.ts';
import { sealSecret } from '../services/secret-box.ts';
import { refusedUrlMessage, refusedWebhookHost } from './address-policy.ts';
import { checkAuthProvider } from './auth-providers.ts';
import { checkEndpointUrl, type EndpointPolicy } from './endpoint-url.ts';

export const WEBHOOK_EVENTS = ['PAYMENT_STATE_UPDATED'] as const;
/** Bounds on every list and fan-out: endpoints per domain, deliveries per page, attempts shown per delivery. */
export const ENDPOINTS_MAX = 100;
export const DELIVERIES_PAGE_MAX = 1000;
export const ATTEMPTS_SHOWN = 20;

export async function createEndpoint(
  db: Kysely<Database>,
  clock: Clock,
  domainId: number,
  input: { url?: unknown; event?: unknown; id_auth?: unknown },
  policy: EndpointPolicy,
) {
  const url = checkEndpointUrl(input.url);
  const event = input.event ?? 'PAYMENT_STATE_UPDATED';
  if (typeof event !== 'string' || !(WEBHOOK_EVENTS as readonly string[]).includes(event))
    throw invalid('event', `must be one of ${WEBHOOK_EVENTS.join(', ')}`);
  const refused = await refusedWebhookHost(new URL(url), policy.allowPrivate);
  if (refused) throw invalid('url', refusedUrlMessage(refused, policy.allowPrivate));
  const authId = await checkAuthProvider(db, domainId, input.id_auth);
  const enabled = await db
    .selectFrom('webhook_endpoints')
    .select(sql<number>`count(*)`.as('n'))
    .where('domain_id', '=', domainId)
    .where('enabled', '=', 1)
    .executeTakeFirstOrThrow();
  if (Number(enabled.n) >= ENDPOINTS_MAX) throw invalid('url', `a domain has at most ${ENDPOINTS_MAX} enabled webhook endpoints; disable one first`);
  // The HMAC key must be kept to sign with: it is stored sealed under the key-encryption key, and shown once.
  const secret = randomBytes(32).toString('base64url');
  const created_at = clock.now();
  const { id } = await db
    .insertInto('webhook_endpoints')
    .values({ domain_id: domainId, url, event, secret: sealSecret(policy.keyring, secret), enabled: 1, created_at, auth_id: authId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id, url, event, enabled: true, created_at, id_auth: authId, secret_key: secret };
}

export async function listEndpoints(db: Kysely<Database>, domainId: number) {
  // Enabled endpoints are at most ENDPOINTS_MAX; disabled ones are listed up to a bound too, newest first.
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select(['id', 'url', 'event', 'enabled', 'created_at', 'auth_id as id_auth'])
    .where('domain_id', '=', domainId)
    .orderBy('enabled', 'desc')
    .orderBy('id', 'desc')
    .limit(ENDPOINTS_MAX * 2)
    .execute();
  rows.sort((a, b) => a.id - b.id);
  return rows.map((r) => ({ ...r, enabled: r.enabled === 1 }));
}

export async function disableEndpoint(db: Kysely<Database>, domainId: number, id: number) {
  const result = await db.updateTable('webhook_endpoints').set({ enabled: 0 }).where('id', '=', id).where('domain_id', '=', domainId).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new ApiError('notFound', `no webhook endpoint ${id}`, { field: 'id' });
}

/** The body of a PAYMENT_STATE_UPDATED webhook: the payment as the API shows it (never its sensitive fields). */
export function stateChangeBody(payment: PaymentRow, instructions: readonly InstructionRow[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...paymentView(payment, instructions, false), ...extra });
}

/** A delivery not tried yet, due at once: what a state change's fan-out and a replay both queue. */
function freshDelivery(now: number) {
  return {
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    locked_until: null,
    delivered_at: null,
    last_status_code: null,
    last_error: null,
    created_at: now,
  } as const;
}

/** The domain's enabled endpoints of state changes: looked up by every announced change (compiled once). */
const stateChangeEndpoints = precompile((db, $) =>
  db.selectFrom('webhook_endpoints').select('id').where('domain_id', '=', $('domain_id')).where('enabled', '=', 1).where('event', '=', 'PAYMENT_STATE_UPDATED'),
);

/**
 * Writes the announcement of a state change into the outbox: the payment as it is now, and one
 * delivery per enabled endpoint of the domain. Called inside the transaction of the change.
 */
export async function enqueueStateChange(trx: Transaction<Database>, payment: PaymentRow, now: number, extra: Record<string, unknown> = {}): Promise<number> {
  const endpoints = (await stateChangeEndpoints.execute(trx, { domain_id: payment.domain_id })).rows;
  if (endpoints.length === 0) return 0;
  const instructions = await trx.selectFrom('payment_instructions').selectAll().where('payment_id', '=', payment.id).orderBy('position').execute();
  const body = stateChangeBody(payment, instructions, extra);
  const { id: dataId } = await trx
    .insertInto('webhook_data')
    .values({ domain_id: payment.domain_id, payment_id: payment.id, event: 'PAYMENT_STATE_UPDATED', body, created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('webhook_deliveries')
    .values(endpoints.map((e) => ({ data_id: dataId, endpoint_id: e.id, payment_id: payment.id, ...freshDelivery(now) })))
    .execute();
  return endpoints.length;
}

export async function listDeliveries(db: Kysely<Database>, domainId: number, filter: { paymentId?: number; status?: string; limit?: number }) {
  let q = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select([
      'd.id',
      'd.data_id',
      'd.endpoint_id',
      'e.url',
      'd.payment_id',
      'd.status',
      'd.attempts',
      'd.next_attempt_at',
      'd.delivered_at',
      'd.last_status_code',
      'd.last_error',
      'd.created_at',
    ])
    .where('e.domain_id', '=', domainId);
  if (filter.paymentId !== undefined) q = q.where('d.payment_id', '=', filter.paymentId);
  if (filter.status) {
    if (!isDeliveryStatus(filter.status)) return []; // no delivery has it
    q = q.where('d.status', '=', filter.status);
  }
  const deliveries = await q
    .orderBy('d.id', 'desc')
    .limit(Math.min(filter.limit ?? 100, DELIVERIES_PAGE_MAX))
    .execute();
  const ids = deliveries.map((d) => d.id);
  // The latest ATTEMPTS_SHOWN attempts of each delivery (a failing one collects dozens over 72 hours).
  const attempts = ids.length
    ? await db
        .selectFrom((eb) =>
          eb
            .selectFrom('webhook_attempts')
            .selectAll()
            .select(sql<number>`row_number() over (partition by delivery_id order by id desc)`.as('n'))
            .where('delivery_id', 'in', ids)
            .as('a'),
        )
        .selectAll()
        .where('n', '<=', ATTEMPTS_SHOWN)
        .orderBy('id')
        .execute()
    : [];
  return deliveries.map((d) => ({
    ...d,
    id_webhook_data: d.data_id,
    attempts_log: attempts
      .filter((a) => a.delivery_id === d.id)
      .map((a) => ({ at: a.attempted_at, status_code: a.status_code, duration_ms: a.duration_ms, error: a.error })),
  }));
}

/** Sends a delivery again, whatever became of it: a new pending delivery of the same data. */
export async function replayDelivery(db: Kysely<Database>, clock: Clock, domainId: number, deliveryId: number): Promise<number> {
  const delivery = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select(['d.data_id', 'd.endpoint_id', 'd.payment_id'])
    .where('d.id', '=', deliveryId)
    .where('e.domain_id', '=', domainId)
    .executeTakeFirst();
  if (!delivery) throw new ApiError('notFound', `no webhook delivery ${deliveryId}`, { field: 'id' });
  const now = clock.now();
  const { id } = await db
    .insertInto('webhook_deliveries')
    .values({ ...delivery, ...freshDelivery(now) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}
