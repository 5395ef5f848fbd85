/**
 * Retention: deletes what has no further use, in small batches so that no lock is held long.
 * Expired tokens and idempotency keys (they can answer nothing any more), and webhook deliveries
 * that ended (delivered or given up) more than `retentionDays` ago, with their attempts and the
 * announcement bodies no delivery refers to any longer. Pending deliveries are never purged.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import type { Database } from '../store/schema.ts';

export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;
const BATCH = 1000;

export interface PurgeResult {
  tokens: number;
  idempotencyKeys: number;
  deliveries: number;
  attempts: number;
  webhookData: number;
}

/** Repeats one bounded delete until it deletes less than a batch. */
async function inBatches(remove: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await remove();
    total += n;
    if (n < BATCH) return total;
  }
}

export async function purgeExpired(db: Kysely<Database>, clock: Clock, retentionDays = DEFAULT_RETENTION_DAYS): Promise<PurgeResult> {
  const now = clock.now();
  const cutoff = now - retentionDays * DAY_MS;
  const tokens = await inBatches(async () =>
    Number(
      (
        await db
          .deleteFrom('tokens')
          .where('id', 'in', (eb) => eb.selectFrom('tokens').select('id').where('expires_at', '<=', now).limit(BATCH))
          .executeTakeFirst()
      ).numDeletedRows,
    ),
  );
  const idempotencyKeys = Number((await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst()).numDeletedRows);
  let attempts = 0;
  const deliveries = await inBatches(async () => {
    const ids = (
      await db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', 'in', ['delivered', 'failed'])
        .where('created_at', '<', cutoff)
        .limit(BATCH)
        .execute()
    ).map((r) => r.id);
    if (!ids.length) return 0;
    return db.transaction().execute(async (trx) => {
      attempts += Number((await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      return Number((await trx.deleteFrom('webhook_deliveries').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
    });
  });
  const webhookData = await inBatches(async () =>
    Number(
      (
        await db
          .deleteFrom('webhook_data')
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('webhook_data as w')
              .select('w.id')
              .where('w.created_at', '<', cutoff)
              .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.data_id', '=', 'w.id'))))
              .limit(BATCH),
          )
          .executeTakeFirst()
      ).numDeletedRows,
    ),
  );
  return { tokens, idempotencyKeys, deliveries, attempts, webhookData };
}
