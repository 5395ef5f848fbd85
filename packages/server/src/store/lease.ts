/**
 * Claiming due work with a lease, and retrying it with backoff: the one way status sync (payments)
 * and webhook delivery (webhook_deliveries) take work. Several processes may work on one
 * PostgreSQL: candidates are read FOR UPDATE SKIP LOCKED, and the chosen rows' lease column is set
 * in the same transaction, so no two workers hold the same row; a worker that dies lets its rows go
 * when the lease ends. SQLite has one writer at a time, so the transaction alone is enough there.
 */
import type { ExpressionBuilder, Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import type { Dialect } from './contract.ts';
import type { Database } from './schema.ts';

/** A claimed row is retaken by another worker after this; it must outlast one piece of work (a send, a bank call). */
export const DEFAULT_LEASE_MS = 30_000;

/** Delay before attempt n+1: 5 s × 2^(n−1), at most one hour, ×0.5–1.5 jitter. */
export function retryDelayMs(attempts: number, random = Math.random()): number {
  const base = Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
  return Math.round(base * (0.5 + random));
}

export interface LeaseEnvironment {
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  /** How long a claimed row is reserved for the worker that claimed it (DEFAULT_LEASE_MS by default). */
  leaseMs?: number;
}

/** A table with a lease column (`…locked_until`: null or a time in ms; free once past). */
export type Leased = { [T in keyof Database]: { table: T; column: keyof Database[T] & `${string}locked_until` } }[keyof Database];

/** The condition "this row's lease is free at `now`", for the candidates' query (`column` may carry the query's alias). */
export function leaseFree(column: string, now: number) {
  // biome-ignore lint/suspicious/noExplicitAny: the column is one of the Leased ones, named with the query's own alias.
  return (eb: ExpressionBuilder<any, any>) => eb.or([eb(column, 'is', null), eb(column, '<=', now)]);
}

/** What is leased: the table and its lease column; with a join, the alias to lock and the leased row's id in a result row. */
export type LeaseTarget<R> = Leased & {
  /** FOR UPDATE OF this alias only (the leased table's, when the candidates join others). */
  alias?: string;
  /** The leased row's id in a candidate row; `row.id` by default. */
  idOf?: (row: R) => number;
};

/**
 * Claims rows: reads `candidates` (due rows whose lease is free, see leaseFree), lets `choose` keep
 * some of them (by default all), and leases those until now + leaseMs, in one transaction.
 */
export async function claimWithLease<R>(
  env: LeaseEnvironment,
  target: LeaseTarget<R>,
  // biome-ignore lint/suspicious/noExplicitAny: any query over the database.
  candidates: (trx: Transaction<Database>, now: number) => SelectQueryBuilder<Database, any, R>,
  choose: (rows: R[]) => R[] = (rows) => rows,
): Promise<R[]> {
  const now = env.clock.now();
  const idOf = target.idOf ?? ((row: R) => (row as { id: number }).id);
  return env.db.transaction().execute(async (trx) => {
    let query = candidates(trx, now);
    if (env.dialect === 'postgres') query = (target.alias ? query.forUpdate(target.alias) : query.forUpdate()).skipLocked();
    const chosen = choose(await query.execute());
    if (chosen.length)
      // Seen as "a table with an id and a lease column" (Leased guarantees both).
      await (trx as unknown as Transaction<Record<string, { id: number } & Record<string, number | null>>>)
        .updateTable(target.table)
        .set({ [target.column]: now + (env.leaseMs ?? DEFAULT_LEASE_MS) })
        .where('id', 'in', chosen.map(idOf))
        .execute();
    return chosen;
  });
}
