/**
 * Status sync: asks each non-final payment's bank for news on the connector's schedule, and
 * applies what it says through the same path as the API. Claimed with a lease, so several
 * processes on one PostgreSQL never sync the same payment at the same time.
 */
import { applyOutcome, attempt, connectorContext, connectorOf, connectorPayment, type ActionEnvironment } from '../services/payment-actions.ts';
import { settleAttempts } from '../services/attempts.ts';
import { getPayment } from '../services/payments.ts';
import { DEFAULT_LEASE_MS, type JobEnvironment } from './deliver-webhooks.ts';


export async function syncDuePayments(env: JobEnvironment & { actions: ActionEnvironment }, limit = 100): Promise<number> {
  const now = env.clock.now();
  const ids = await env.db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('payments')
      .select(['id', 'domain_id'])
      .where('state', 'in', ['validating', 'pending'])
      .where('connector_uuid', 'is not', null)
      .where('next_sync_at', '<=', now)
      .where((eb) => eb.or([eb('sync_locked_until', 'is', null), eb('sync_locked_until', '<=', now)]))
      .orderBy('next_sync_at')
      .limit(limit);
    if (env.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const rows = await q.execute();
    if (rows.length) await trx.updateTable('payments').set({ sync_locked_until: now + (env.leaseMs ?? DEFAULT_LEASE_MS) }).where('id', 'in', rows.map((r) => r.id)).execute();
    return rows;
  });
  let changed = 0;
  // Several payments at a time: each waits on its bank and its database round trips.
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const { id, domain_id } = ids[next++]!;
      if (await syncOne(env, id, domain_id)) changed++;
    }
  };
  await Promise.all(Array.from({ length: SYNC_CONCURRENCY }, worker));
  return changed;
}

const SYNC_CONCURRENCY = 8;

async function syncOne(env: JobEnvironment & { actions: ActionEnvironment }, id: number, domainId: number): Promise<boolean> {
  try {
    const record = await getPayment(env.db, domainId, id);
    const connector = await connectorOf(env.actions, record.payment).catch(() => null);
    if (!connector) return false;
    const snapshot = connectorPayment(record);
    const { outcome, calls } = await attempt(env.actions, connector, snapshot, (ctx) => connector.status(snapshot, ctx));
    if (outcome) {
      // An unknown answer changes nothing and is asked again soon; a refused status call likewise.
      await applyOutcome(env.actions, record.payment, outcome, { sync_locked_until: null }, 'background', calls, 'status');
      return outcome.kind !== 'unknown' && outcome.kind !== 'refused';
    }
    await settleAttempts(env.db, calls, null);
    await env.db.updateTable('payments')
      .set({ next_sync_at: env.clock.now() + connector.pollIntervalMs(snapshot, connectorContext(env.actions, id)), sync_locked_until: null })
      .where('id', '=', id).where('version', '=', record.payment.version).execute();
    return false;
  } catch (error) {
    // A payment changed meanwhile (version) or a bank failed: try again soon.
    env.log?.('warn', 'status sync failed', { payment: id, error: (error as Error).message });
    await env.db.updateTable('payments').set({ sync_locked_until: null, next_sync_at: env.clock.now() + 5_000 }).where('id', '=', id).execute();
    return false;
  }
}
