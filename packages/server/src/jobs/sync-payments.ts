/**
 * Status sync: asks each non-final payment's bank for news on the connector's schedule, and
 * applies what it says through the same path as the API. Claimed with a lease, so several
 * processes on one PostgreSQL never sync the same payment at the same time. A bank that fails is
 * asked again with exponential backoff and jitter; after SYNC_FAILED_AFTER failures in a row the
 * payment's sync is `failed` (listed by `payrail sync failed`), and still retried at the backoff's
 * ceiling so that it heals by itself when the bank comes back.
 */
import { applyOutcome, atBank, connectorContext, connectorOf, connectorPayment, loadTarget, type ActionEnvironment } from '../services/payment-actions.ts';
import { recordAttempt, settleCalls, updateAttempt } from '../services/attempts.ts';
import { ApiError, VersionConflict } from '../domain/errors.ts';
import { statusSyncFailureObserved } from '../telemetry/metrics.ts';
import { SYNC_FAILED_AFTER } from '../store/backlog.ts';
import { claimWithLease, leaseFree, retryDelayMs } from '../store/lease.ts';
import type { JobEnvironment } from './environment.ts';

export type SyncEnvironment = JobEnvironment & { actions: ActionEnvironment };
export interface ClaimedSync {
  id: number;
  domain_id: number;
  /** The attempt whose schedule was due (the payment's current one). */
  attempt_id: number;
}

/** A payment that changed between claim and update is simply looked at again this soon. */
const CONFLICT_RETRY_MS = 1_000;

/** Claims the due attempts (each its payment's current one, the payment not final) with a lease. */
export async function claimSyncs(env: SyncEnvironment, limit: number): Promise<ClaimedSync[]> {
  return claimWithLease(env, { table: 'payment_attempts', column: 'sync_locked_until', alias: 'a', idOf: (row) => row.attempt_id }, (trx, now) =>
    trx
      .selectFrom('payment_attempts as a')
      .innerJoin('payments as p', (j) => j.onRef('p.current_attempt_id', '=', 'a.id'))
      .select(['p.id', 'p.domain_id', 'a.id as attempt_id'])
      .where('p.state', 'in', ['validating', 'pending'])
      .where('a.next_sync_at', '<=', now)
      .where(leaseFree('a.sync_locked_until', now))
      .orderBy('a.next_sync_at')
      .limit(limit),
  );
}

/** One pass (tests, benchmarks): claims up to `limit` due payments and syncs them, 8 at a time. Returns how many changed. */
export async function syncDuePayments(env: SyncEnvironment, limit = 100): Promise<number> {
  const claimed = await claimSyncs(env, limit);
  let changed = 0;
  let next = 0;
  const worker = async () => {
    while (next < claimed.length) {
      const { id, domain_id, attempt_id } = claimed[next++]!;
      if (await syncOne(env, id, domain_id, attempt_id)) changed++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return changed;
}

/** Asks the bank about one claimed payment's attempt and applies its answer. True when the payment changed. */
export async function syncOne(env: SyncEnvironment, id: number, domainId: number, attemptId?: number): Promise<boolean> {
  const { record, attempt } = await loadTarget(env.db, domainId, id);
  if (!attempt) return false;
  if (attemptId !== undefined && attempt.id !== attemptId) {
    // A fresh initiation replaced the claimed attempt meanwhile: the new one has its own schedule.
    await updateAttempt(env.db, attemptId, { sync_locked_until: null });
    return false;
  }
  const connector = await connectorOf(env.actions, record.payment).catch(() => null);
  if (!connector) return false;
  const snapshot = connectorPayment(record, attempt);
  let attempted: Awaited<ReturnType<typeof atBank>>;
  try {
    // Every bank call of the status read goes through the boundary: call record, deadline, log.
    attempted = await atBank(env.actions, connector, snapshot, attempt, (ctx) => connector.status(snapshot, ctx));
  } catch (error) {
    await recordSyncFailure(env, id, attempt.id, attempt.sync_failures, error as Error);
    return false;
  }
  const { outcome, calls } = attempted;
  const healthy = { sync_locked_until: null, sync_failures: 0, sync_error: null };
  try {
    if (outcome) {
      // An unknown answer changes nothing and is asked again soon; a refused status call likewise.
      await applyOutcome(env.actions, record.payment, attempt, outcome, { attempt: healthy, source: 'background', calls, operation: 'status' });
      return outcome.kind !== 'unknown' && outcome.kind !== 'refused';
    }
    const next_sync_at = env.clock.now() + connector.pollIntervalMs(snapshot, connectorContext(env.actions, id));
    await recordAttempt(env.db, attempt.id, { ...healthy, next_sync_at }, calls, null);
    return false;
  } catch (error) {
    // The change was not written: the calls' exchanges and outcomes are recorded on their own.
    await settleCalls(env.db, calls, outcome).catch(() => undefined);
    // The payment changed meanwhile (the payer, another process): not the bank's fault; look again soon.
    if (error instanceof VersionConflict) {
      await updateAttempt(env.db, attempt.id, { sync_locked_until: null, next_sync_at: env.clock.now() + CONFLICT_RETRY_MS });
      return false;
    }
    if (!(error instanceof ApiError)) throw error;
    // Another refusal of the core (a change the state machine forbids) is a failure of this sync, with backoff.
    await recordSyncFailure(env, id, attempt.id, attempt.sync_failures, error as Error);
    return false;
  }
}

async function recordSyncFailure(env: SyncEnvironment, id: number, attemptId: number, failuresBefore: number, error: Error) {
  const failures = failuresBefore + 1;
  const reason = (error.message || error.name || 'bank error').slice(0, 200);
  statusSyncFailureObserved();
  env.log?.(failures === SYNC_FAILED_AFTER ? 'error' : 'warn', failures >= SYNC_FAILED_AFTER ? 'status sync failed' : 'status sync attempt failed', {
    payment: id,
    failures,
    error: reason,
  });
  await updateAttempt(env.db, attemptId, {
    sync_locked_until: null,
    sync_failures: failures,
    sync_error: reason,
    next_sync_at: env.clock.now() + retryDelayMs(failures),
  });
}
