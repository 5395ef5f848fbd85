/**
 * Delivers webhooks from the outbox: at least once, in order per (endpoint, payment), signed as
 * Powens signs them, retried with exponential backoff and jitter for up to 72 hours. Several
 * processes may run it on one PostgreSQL: rows are claimed with a lease (store/lease.ts, shared with
 * status sync). The job runner (jobs/runner.ts) drives it.
 */
import { gzipSync } from 'node:zlib';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../store/schema.ts';
import { cachedConfig } from '../services/config.ts';
import { signatureDate, webhookSignature } from './signature.ts';
import { ALERT_AFTER_ATTEMPTS, alertFailingEndpoint } from './failure-alerts.ts';
import { forgetToken, loadAuthProvider, oauthToken } from './delivery-auth.ts';
import { webhookDeliveryObserved } from '../telemetry/metrics.ts';
import { isSealed, type Keyring, openSecret } from '../services/secret-box.ts';
import { claimWithLease, type LeaseEnvironment, leaseFree, retryDelayMs } from '../store/lease.ts';
import { isRefusal, loadUndici, REFUSED_ADDRESS, RefusedAddressError, refusedHost, webhookDispatcher } from './address-policy.ts';

/** Endpoint keys are sealed; one stored before sealing existed is clear text until sealSecrets runs at start. */
function openEndpointSecret(keyring: Keyring | undefined, stored: string): string {
  if (!isSealed(stored)) return stored;
  if (!keyring) throw new Error('webhook delivery needs the keyring to open the endpoint keys (DeliveryEnvironment.keyring)');
  return openSecret(keyring, stored);
}

export const DELIVERY_TIMEOUT_MS = 10_000;
export const DELIVERY_GIVE_UP_MS = 72 * 3600 * 1000;

/** What delivery needs (every job gets it: see jobs/environment.ts). `leaseMs`: how long a claimed delivery is reserved. */
export interface DeliveryEnvironment extends LeaseEnvironment {
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
  /** How long one webhook send may wait for an answer (DELIVERY_TIMEOUT_MS by default). */
  deliveryTimeoutMs?: number;
  /** Opens the endpoints' sealed HMAC keys (required wherever webhooks are delivered). */
  keyring?: Keyring;
  /** Deliveries to loopback or private addresses are allowed (development); refused otherwise. */
  allowPrivateWebhooks?: boolean;
  /** SMTP server for failure alerts (biapi.manager.email); null or absent: alerts are only recorded. */
  smtpUrl?: string | null;
}

export interface ClaimedDelivery {
  id: number;
  endpointId: number;
}

/**
 * Claims due deliveries: at most `limit`, none for the endpoints in `fullEndpoints`, and at most
 * `capacity(endpoint)` for the others, so that one endpoint's backlog never fills every slot.
 */
export async function claimDeliveries(
  env: DeliveryEnvironment,
  limit: number,
  fullEndpoints: readonly (string | number)[] = [],
  capacity: (endpoint: number) => number = () => Infinity,
): Promise<ClaimedDelivery[]> {
  const taken = new Map<number, number>();
  const claimed = await claimWithLease(
    env,
    { table: 'webhook_deliveries', column: 'locked_until' },
    (trx, now) => {
      let q = trx
        .selectFrom('webhook_deliveries as d')
        .select(['d.id', 'd.endpoint_id'])
        .where('d.status', '=', 'pending')
        .where('d.next_attempt_at', '<=', now)
        .where(leaseFree('d.locked_until', now))
        // In order per (endpoint, payment): an earlier undelivered announcement goes first.
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('webhook_deliveries as e')
                .select('e.id')
                .whereRef('e.endpoint_id', '=', 'd.endpoint_id')
                .whereRef('e.payment_id', '=', 'd.payment_id')
                .where('e.status', '=', 'pending')
                .whereRef('e.id', '<', 'd.id'),
            ),
          ),
        )
        .orderBy('d.id')
        // A few more candidates than slots, to find other endpoints' work behind one endpoint's backlog.
        .limit(Math.min(limit * 4, 200));
      if (fullEndpoints.length) q = q.where('d.endpoint_id', 'not in', fullEndpoints.map(Number));
      return q;
    },
    (rows) => {
      const chosen: typeof rows = [];
      for (const row of rows) {
        if (chosen.length >= limit) break;
        const n = taken.get(row.endpoint_id) ?? 0;
        if (n >= capacity(row.endpoint_id)) continue;
        taken.set(row.endpoint_id, n + 1);
        chosen.push(row);
      }
      return chosen;
    },
  );
  return claimed.map((row) => ({ id: row.id, endpointId: row.endpoint_id }));
}

/** Sends one claimed delivery (with a deadline) and records the attempt. True when it was accepted. */
export async function deliverOne(env: DeliveryEnvironment, id: number): Promise<boolean> {
  const row = await env.db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .innerJoin('webhook_data as w', 'w.id', 'd.data_id')
    .select(['d.id', 'd.attempts', 'd.created_at', 'd.data_id', 'e.url', 'e.secret', 'e.domain_id', 'e.auth_id', 'd.endpoint_id', 'w.body'])
    .where('d.id', '=', id)
    .executeTakeFirstOrThrow();
  const config = await cachedConfig(env.db, row.domain_id);
  // id_webhook_data is added to the stored body as text: re-parsing it would turn exact amounts into floats.
  const body = `${row.body.slice(0, -1)},"id_webhook_data":${row.data_id}}`;
  const url = new URL(row.url);
  const date = signatureDate(env.clock.now());
  const provider = await loadAuthProvider(env.db, row.auth_id);
  // An HMAC provider's key replaces the endpoint's own; with OAuth the endpoint's key still signs.
  const signingKey = provider?.type === 'hmac_signature' ? provider.secret : row.secret;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Payrail-Webhooks/1',
    'bi-signature-date': date,
    'bi-signature': webhookSignature(openEndpointSecret(env.keyring, signingKey), 'POST', url.pathname, date, body),
  };
  let payload: string | Buffer = body;
  if (config['webhooks.compression.enabled'] === '1') {
    payload = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  const allowPrivate = env.allowPrivateWebhooks ?? false;
  try {
    // An address literal is never looked up: check it here; names are checked by the connection's own lookup.
    if (refusedHost(url, allowPrivate)) throw new RefusedAddressError();
    if (provider?.type === 'oauth') {
      const clientSecret = openEndpointSecret(env.keyring, provider.secret);
      headers.authorization = `Bearer ${await oauthToken(env.db, provider, { now: env.clock.now(), clientSecret, allowPrivate, timeoutMs: env.deliveryTimeoutMs })}`;
    }
    const dispatcher = await webhookDispatcher(allowPrivate);
    const { fetch } = await loadUndici();
    const response = await fetch(row.url, {
      method: 'POST',
      headers,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(env.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS),
      dispatcher,
    });
    statusCode = response.status;
    await response.body?.cancel();
    if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    // A refused token may have been revoked before its expiry: the next attempt fetches a new one.
    if (provider?.type === 'oauth' && (statusCode === 401 || statusCode === 403)) forgetToken(env.db, provider.id);
  } catch (e) {
    // A refused host gets one fixed message: neither its address nor any answer is recorded.
    error = isRefusal(e) ? REFUSED_ADDRESS : (e as Error).name === 'TimeoutError' ? 'timeout' : ((e as Error).message ?? 'network error').slice(0, 200);
  }
  const seconds = (performance.now() - started) / 1000;
  webhookDeliveryObserved(error ? 'failure' : 'success', seconds);
  const duration = Math.round(seconds * 1000);
  const now = env.clock.now();
  const attempts = row.attempts + 1;
  await env.db.transaction().execute(async (trx) => {
    await trx.insertInto('webhook_attempts').values({ delivery_id: id, attempted_at: now, status_code: statusCode, duration_ms: duration, error }).execute();
    if (!error) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'delivered', attempts, delivered_at: now, locked_until: null, last_status_code: statusCode, last_error: null })
        .where('id', '=', id)
        .execute();
    } else {
      const giveUp = now - row.created_at >= DELIVERY_GIVE_UP_MS;
      await trx
        .updateTable('webhook_deliveries')
        .set({
          status: giveUp ? 'failed' : 'pending',
          attempts,
          next_attempt_at: now + retryDelayMs(attempts),
          locked_until: null,
          last_status_code: statusCode,
          last_error: error,
        })
        .where('id', '=', id)
        .execute();
    }
  });
  if (error) env.log?.('warn', 'webhook delivery failed', { delivery: id, attempts, error });
  if (error && attempts >= ALERT_AFTER_ATTEMPTS)
    await alertFailingEndpoint(env, { domainId: row.domain_id, endpointId: row.endpoint_id, url: row.url, attempts, error });
  return !error;
}

/** One pass: claims due deliveries and sends them (different payments in parallel). Returns how many were sent successfully. */
export async function deliverDueWebhooks(env: DeliveryEnvironment, limit = 50): Promise<number> {
  const claimed = await claimDeliveries(env, limit);
  const results = await Promise.all(claimed.map(({ id }) => deliverOne(env, id)));
  return results.filter(Boolean).length;
}

export async function pendingDeliveries(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('webhook_deliveries').select(sql<number>`count(*)`.as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return Number(row.n);
}
