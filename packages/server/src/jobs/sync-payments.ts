/**
 * Status sync: asks each non-final payment's bank for news on the connector's schedule, and
 * applies what it says through the same path as the API. Claimed with a lease, so several
 * processes on one PostgreSQL never sync the same payment at the same time. A bank that fails is
 * asked again with exponential backoff and jitter; after SYNC_FAILED_AFTER failures in a row the
 * payment's sync is `failed` (listed by `payrail sync failed`), and still retried at the backoff's
 * ceiling so that it heals by itself when the bank comes back.
 */
import { applyOutcome, attempt, connectorContext, connectorOf, connectorPayment, type ActionEnvironment } from '../services/payment-actions.ts';
import { settleAttempts } from '../services/attempts.ts';
import { ApiError } from '../domain/errors.ts';
import { getPayment } from '../services/payments.ts';
import { statusSyncFailureObserved } from '../telemetry/metrics.ts';
import { SYNC_FAILED_AFTER } from '../store/backlog.ts';
import { claimWithLease, leaseFree, retryDelayMs } from '../store/lease.ts';
import type { JobEnvironment } from './environment.ts';

export type SyncEnvironment = JobEnvironment & { actions: ActionEnvironment };
export interface ClaimedSync {
  id: number;
  domain_id: number;
}

/** A payment that changed between claim and update is simply looked at again this soon. */
const CONFLICT_RETRY_MS = 1_000;

export async function claimSyncs(env: SyncEnvironment, limit: number): Promise<ClaimedSync[]> {
  return claimWithLease(env, { table: 'payments', column: 'sync_locked_until' }, (trx, now) =>
    trx
      .selectFrom('payments')
      .select(['id', 'domain_id'])
      .where('state', 'in', ['validating', 'pending'])
      .where('connector_uuid', 'is not', null)
      .where('next_sync_at', '<=', now)
      .where(leaseFree('sync_locked_until', now))
      .orderBy('next_sync_at')
      .limit(limit),
  );
}

/** One pass (tests, benchmarks): claims up to `limit` due payments and syncs them, 8 at a time. Returns how many changed. */
export async function syncDuePayments(env: SyncEnvironment, limit = 100): Promise<number> {
  const ids = await claimSyncs(env, limit);
  let changed = 0;
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const { id, domain_id } = ids[next++]!;
      if (await syncOne(env, id, domain_id)) changed++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return changed;
}

/** Asks the bank about one claimed payment and applies its answer. True when the payment changed. */
export async function syncOne(env: SyncEnvironment, id: number, domainId: number): Promise<boolean> {
  const record = await getPayment(env.db, domainId, id);
  const connector = await connectorOf(env.actions, record.payment).catch(() => null);
  if (!connector) return false;
  const snapshot = connectorPayment(record);
  let attempted: Awaited<ReturnType<typeof attempt>>;
  try {
    // Every bank call of the status read goes through the boundary: attempt row, deadline, log.
    attempted = await attempt(env.actions, connector, snapshot, (ctx) => connector.status(snapshot, ctx));
  } catch (error) {
    await recordSyncFailure(env, id, record.payment.sync_failures, error as Error);
    return false;
  }
  const { outcome, calls } = attempted;
  const healthy = { sync_locked_until: null, sync_failures: 0, sync_error: null };
  try {
    if (outcome) {
      // An unknown answer changes nothing and is asked again soon; a refused status call likewise.
      await applyOutcome(env.actions, record.payment, outcome, healthy, 'background', calls, 'status');
      return outcome.kind !== 'unknown' && outcome.kind !== 'refused';
    }
    await settleAttempts(env.db, calls, null);
    await env.db
      .updateTable('payments')
      .set({ ...healthy, next_sync_at: env.clock.now() + connector.pollIntervalMs(snapshot, connectorContext(env.actions, id)) })
      .where('id', '=', id)
      .where('version', '=', record.payment.version)
      .execute();
    return false;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // The payment changed meanwhile (the payer, another process): not the bank's fault; look again soon.
    await env.db
      .updateTable('payments')
      .set({ sync_locked_until: null, next_sync_at: env.clock.now() + CONFLICT_RETRY_MS })
      .where('id', '=', id)
      .execute();
    return false;
  }
}

async function recordSyncFailure(env: SyncEnvironment, id: number, failuresBefore: number, error: Error) {
  const failures = failuresBefore + 1;
  const reason = (error.message || error.name || 'bank error').slice(0, 200);
  statusSyncFailureObserved();
  env.log?.(failures === SYNC_FAILED_AFTER ? 'error' : 'warn', failures >= SYNC_FAILED_AFTER ? 'status sync failed' : 'status sync attempt failed', {
    payment: id,
    failures,
    error: reason,
  });
  await env.db
    .updateTable('payments')
    .set({ sync_locked_until: null, sync_failures: failures, sync_error: reason, next_sync_at: env.clock.now() + retryDelayMs(failures) })
    .where('id', '=', id)
    .execute();
}
