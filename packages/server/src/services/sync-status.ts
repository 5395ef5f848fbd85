/** What operators see of status sync: payments whose current attempt's sync is `failed`, and a way to retry one now. */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import { SYNC_FAILED_AFTER } from '../store/backlog.ts';
import type { Database } from '../store/schema.ts';

export interface FailedSync {
  id: number;
  state: string;
  connector_uuid: string | null;
  sync_failures: number;
  sync_error: string | null;
  next_sync_at: number | null;
}

/** Non-final payments whose last SYNC_FAILED_AFTER or more status syncs failed, most failures first. */
export async function listFailedSyncs(db: Kysely<Database>, limit = 100): Promise<FailedSync[]> {
  return db
    .selectFrom('payment_attempts as a')
    .innerJoin('payments as p', (j) => j.onRef('p.current_attempt_id', '=', 'a.id'))
    .select(['p.id', 'p.state', 'p.connector_uuid', 'a.sync_failures', 'a.sync_error', 'a.next_sync_at'])
    .where('a.sync_failures', '>=', SYNC_FAILED_AFTER)
    .where('p.state', 'in', ['validating', 'pending'])
    .orderBy('a.sync_failures', 'desc')
    .orderBy('p.id')
    .limit(limit)
    .execute();
}

/** Asks the bank again at once (the backoff starts over if it fails again). */
export async function retrySync(db: Kysely<Database>, clock: Clock, paymentId: number): Promise<void> {
  const result = await db
    .updateTable('payment_attempts')
    .set({ next_sync_at: clock.now(), sync_locked_until: null, sync_failures: 0 })
    .where('id', '=', (eb) =>
      eb
        .selectFrom('payments')
        .select('current_attempt_id')
        .where('id', '=', paymentId)
        .where('state', 'in', ['validating', 'pending'])
        .where('connector_uuid', 'is not', null),
    )
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new ApiError('notFound', `no payment ${paymentId} waiting for status sync`, { field: 'id' });
}
