/**
 * Runs the jobs in the background of a process, each kind on its own so that none waits for
 * another: webhook deliveries (a pool with a per-endpoint limit, woken at once by local state
 * changes and by NOTIFY from other processes), status sync (a pool), standing orders, expiry,
 * the recovery of dead processes' claims and purge (timers).
 * `stop()` claims nothing more and waits for the jobs in flight, each bounded by its own deadline.
 */
import { type Clock, systemClock } from '../domain/clock.ts';
import { recoverClaims } from '../services/claim-recovery.ts';
import type { ActionEnvironment } from '../services/payment-actions.ts';
import { claimDeliveries, deliverOne, type ClaimedDelivery } from '../webhooks/delivery.ts';
import type { JobEnvironment } from './environment.ts';
import { expireDuePayments } from './expire-payments.ts';
import { DEFAULT_RETENTION_DAYS, purgeExpired } from './purge-expired.ts';
import { executeDueOccurrences } from '../services/standing-orders.ts';
import { claimSyncs, syncOne, type ClaimedSync } from './sync-payments.ts';
import { WorkPool } from './work-pool.ts';

export interface RunnerOptions {
  /** How often each pool looks for due work when nothing woke it. */
  pollMs?: number;
  expiryEveryMs?: number;
  purgeEveryMs?: number;
  retentionDays?: number;
  webhookConcurrency?: number;
  webhookEndpointConcurrency?: number;
  syncConcurrency?: number;
  /** How often the claims of dead processes are looked for (services/claim-recovery.ts). */
  recoveryEveryMs?: number;
}

export type RunnerEnvironment = JobEnvironment & {
  actions: ActionEnvironment;
  /** The wall clock processes' leases are kept on (services/instances.ts); the system clock by default. */
  processClock?: Clock;
  listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
};

/** A job that runs every `everyMs` (first run at once); never two runs at a time. */
function every(everyMs: number, run: () => Promise<unknown>, onError: (error: Error) => void) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const tick = () => {
    running = run()
      .catch(onError)
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export function startJobs(env: RunnerEnvironment, options: RunnerOptions = {}) {
  const pollMs = options.pollMs ?? 500;
  const failed = (kind: string) => (error: Error) => env.log?.('error', `${kind} job failed`, { error: error.message });

  const deliveries = new WorkPool<ClaimedDelivery>({
    concurrency: options.webhookConcurrency ?? 16,
    perKey: options.webhookEndpointConcurrency ?? 2,
    key: (d) => d.endpointId,
    claim: (limit, full, capacity) => claimDeliveries(env, limit, full, capacity),
    run: async (d) => void (await deliverOne(env, d.id)),
    onError: failed('webhook delivery'),
  });
  const syncs = new WorkPool<ClaimedSync>({
    concurrency: options.syncConcurrency ?? 8,
    claim: (limit) => claimSyncs(env, limit),
    run: async (p) => void (await syncOne(env, p.id, p.domain_id, p.attempt_id)),
    onError: failed('status sync'),
  });
  const wake = () => {
    void deliveries.fill();
    void syncs.fill();
  };
  const poll = setInterval(wake, pollMs);
  const unsubscribe = env.actions.notifier.subscribe(wake);
  // Other processes' changes arrive by LISTEN/NOTIFY on PostgreSQL; polling stays as the safety net.
  const unlisten = env.listen
    ? env.listen('payrail_jobs', wake).catch((error) => {
        env.log?.('warn', 'LISTEN failed; relying on polling', { error: (error as Error).message });
        return null;
      })
    : Promise.resolve(null);
  const occurrences = every(pollMs, () => executeDueOccurrences(env.actions), failed('standing order'));
  const expiry = every(options.expiryEveryMs ?? 60_000, () => expireDuePayments(env), failed('expiry'));
  // Claims left by a process that died (another one, or this one's previous life) end here.
  const recovery = every(
    options.recoveryEveryMs ?? 5_000,
    () => recoverClaims(env.actions, { self: env.actions.instanceId ?? null, processClock: env.processClock ?? systemClock }),
    failed('claim recovery'),
  );
  const purge = every(
    options.purgeEveryMs ?? 3_600_000,
    async () => {
      const purged = await purgeExpired(env.db, env.clock, options.retentionDays ?? DEFAULT_RETENTION_DAYS);
      if (Object.values(purged).some((n) => n > 0)) env.log?.('info', 'purged expired data', { ...purged });
    },
    failed('purge'),
  );
  wake();
  return {
    async stop() {
      clearInterval(poll);
      unsubscribe();
      await (await unlisten)?.();
      await Promise.all([deliveries.stop(), syncs.stop(), occurrences.stop(), expiry.stop(), purge.stop(), recovery.stop()]);
    },
  };
}
