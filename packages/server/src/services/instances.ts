/**
 * The processes that may hold a claim on a payment (docs/operations.md, "After a crash"). Each
 * `payrail serve` process gets an id at start-up and keeps a row in `processes` alive: it renews
 * `alive_until` every third of its lease, on any connection (a heartbeat row works behind a
 * transaction pooler, where a session advisory lock would not). A process whose row is past
 * `alive_until` is dead to the others, and the recovery pass (claim-recovery.ts) ends its claims.
 *
 * The lease is kept on the wall clock, never on a sandbox clock that `--sandbox-clock` moves: two
 * processes must agree on it.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import type { Database } from '../store/schema.ts';

export interface InstanceEnvironment {
  db: Kysely<Database>;
  /** The wall clock. */
  clock: Clock;
  /** How long the row stays alive without a renewal. */
  leaseMs: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

export interface Instance {
  id: string;
  /** Renews the row now (the timer does it every third of the lease). */
  renew(): Promise<void>;
  /** Stops renewing and removes the row: the process holds no claim any more. */
  stop(): Promise<void>;
}

/** Writes (or writes again) this process's row, alive for one lease from now. */
async function keepAlive(env: InstanceEnvironment, id: string, startedAt: number): Promise<void> {
  const aliveUntil = env.clock.now() + env.leaseMs;
  const renewed = await env.db.updateTable('processes').set({ alive_until: aliveUntil }).where('id', '=', id).executeTakeFirst();
  if (Number(renewed.numUpdatedRows) > 0) return;
  // The row is gone: another process found this one dead (a stall longer than the lease) and ended
  // its claims; their bank calls are refused from now on (attempts.ts). New claims are alive again.
  env.log?.('warn', 'this process was taken for dead by another (no renewal within its lease); its claims were ended', { process: id });
  await env.db.insertInto('processes').values({ id, started_at: startedAt, alive_until: aliveUntil }).execute();
}

/** Registers this process and keeps it alive until `stop()`. */
export async function startInstance(env: InstanceEnvironment): Promise<Instance> {
  const id = randomUUID();
  const startedAt = env.clock.now();
  await env.db
    .insertInto('processes')
    .values({ id, started_at: startedAt, alive_until: startedAt + env.leaseMs })
    .execute();
  let renewing: Promise<void> | null = null;
  const renew = () => {
    renewing ??= keepAlive(env, id, startedAt)
      .catch((error) => env.log?.('warn', "could not renew this process's lease", { error: (error as Error).message }))
      .finally(() => {
        renewing = null;
      });
    return renewing;
  };
  const timer = setInterval(renew, Math.max(100, Math.floor(env.leaseMs / 3)));
  timer.unref();
  return {
    id,
    renew,
    async stop() {
      clearInterval(timer);
      await renewing;
      await env.db.deleteFrom('processes').where('id', '=', id).execute();
    },
  };
}

/** The ids of the processes alive at `now` (a subquery for the recovery pass). */
export function liveProcesses(db: Kysely<Database>, now: number) {
  return db.selectFrom('processes').select('id').where('alive_until', '>', now);
}

/** Forgets processes dead for a while (their claims were ended long ago). */
export async function forgetDeadProcesses(db: Kysely<Database>, now: number, olderThanMs: number): Promise<void> {
  await db
    .deleteFrom('processes')
    .where('alive_until', '<', now - olderThanMs)
    .execute();
}
