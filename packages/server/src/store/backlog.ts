/** How much background work is due and how late it is: read by /ready and /metrics. */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** A payment whose status sync failed this many times in a row is in the `failed` sync state. */
export const SYNC_FAILED_AFTER = 6;

export interface Backlog {
  /** Due now and not yet done, per job kind. */
  due: { webhook_delivery: number; status_sync: number };
  /** Age of the oldest due job per kind, seconds (0 when none). */
  oldestAgeSeconds: { webhook_delivery: number; status_sync: number };
  /** Payments whose status sync is in the `failed` state. */
  syncFailed: number;
}

export async function readBacklog(db: Kysely<Database>, now: number): Promise<Backlog> {
  const deliveries = await db
    .selectFrom('webhook_deliveries')
    .select([sql<number>`count(*)`.as('n'), sql<number | null>`min(next_attempt_at)`.as('oldest')])
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .executeTakeFirstOrThrow();
  const syncs = await db
    .selectFrom('payment_attempts as a')
    .innerJoin('payments as p', (j) => j.onRef('p.current_attempt_id', '=', 'a.id'))
    .select([sql<number>`count(*)`.as('n'), sql<number | null>`min(a.next_sync_at)`.as('oldest')])
    .where('p.state', 'in', ['validating', 'pending'])
    .where('a.next_sync_at', '<=', now)
    .executeTakeFirstOrThrow();
  const failed = await db
    .selectFrom('payment_attempts as a')
    .innerJoin('payments as p', (j) => j.onRef('p.current_attempt_id', '=', 'a.id'))
    .select(sql<number>`count(*)`.as('n'))
    .where('a.sync_failures', '>=', SYNC_FAILED_AFTER)
    .where('p.state', 'in', ['validating', 'pending'])
    .executeTakeFirstOrThrow();
  const age = (oldest: number | null) => (oldest === null ? 0 : Math.max(0, (now - Number(oldest)) / 1000));
  return {
    due: { webhook_delivery: Number(deliveries.n), status_sync: Number(syncs.n) },
    oldestAgeSeconds: { webhook_delivery: age(deliveries.oldest), status_sync: age(syncs.oldest) },
    syncFailed: Number(failed.n),
  };
}
