/**
 * Status sync: asks each non-final payment's bank for news on the connector's schedule, and
 * applies what it says through the same path as the API. Claimed with a lease, so several
 * processes on one PostgreSQL never sync the same payment at the same time.
 */
import { connectorByUuid } from '../connectors/registry.ts';
import { applyOutcome, connectorContext, connectorPayment, type ActionEnvironment } from '../services/payment-actions.ts';
import { getPayment } from '../services/payments.ts';
import { DEFAULT_LEASE_MS, type JobEnvironment } from './deliver-webhooks.ts';


export async function syncDuePayments(env: JobEnvironment & { actions: ActionEnvironment }, limit = 100): Promise<number> {
  const now = env.clock.now();
  const ids = await env.db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('payments')
      .select(['id'])
      .where('state', 'in', ['validating', 'pending'])
      .where('connector_uuid', 'is not', null)
      .where('next_sync_at', '<=', now)
      .where((eb) => eb.or([eb('sync_locked_until', 'is', null), eb('sync_locked_until', '<=', now)]))
      .orderBy('next_sync_at')
      .limit(limit);
    if (env.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const rows = (await q.execute()).map((r) => r.id);
    if (rows.length) await trx.updateTable('payments').set({ sync_locked_until: now + (env.leaseMs ?? DEFAULT_LEASE_MS) }).where('id', 'in', rows).execute();
    return rows;
  });
  let changed = 0;
  for (const id of ids) {
    try {
      const record = await getPayment(env.db, (await env.db.selectFrom('payments').select('domain_id').where('id', '=', id).executeTakeFirstOrThrow()).domain_id, id);
      const connector = connectorByUuid(record.payment.connector_uuid!);
      if (!connector) continue;
      const snapshot = connectorPayment(record);
      const ctx = connectorContext(env.actions);
      const outcome = await connector.status(snapshot, ctx);
      if (outcome) {
        await applyOutcome(env.actions, record.payment, outcome, { sync_locked_until: null }, 'background');
        changed++;
      } else {
        await env.db.updateTable('payments')
          .set({ next_sync_at: env.clock.now() + connector.pollIntervalMs(snapshot, ctx), sync_locked_until: null })
          .where('id', '=', id).where('version', '=', record.payment.version).execute();
      }
    } catch (error) {
      // A payment changed meanwhile (version) or a bank failed: try again at the next pass.
      env.log?.('warn', 'status sync failed', { payment: id, error: (error as Error).message });
      await env.db.updateTable('payments').set({ sync_locked_until: null, next_sync_at: env.clock.now() + 5_000 }).where('id', '=', id).execute();
    }
  }
  return changed;
}
