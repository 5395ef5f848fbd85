/**
 * Runs the jobs in the background of a process: webhook delivery (woken at once by local state
 * changes, else every poll), status sync and expiry. Each pass is bounded; `stop()` waits for the
 * pass in progress.
 */
import type { ActionEnvironment } from '../services/payment-actions.ts';
import { deliverDueWebhooks, type JobEnvironment } from './deliver-webhooks.ts';
import { expireDuePayments } from './expire-payments.ts';
import { syncDuePayments } from './sync-payments.ts';
import { executeDueOccurrences } from '../services/standing-orders.ts';

import { jobSignals } from './signals.ts';

export interface RunnerOptions {
  pollMs?: number;
  expiryEveryMs?: number;
}

export function startJobs(env: JobEnvironment & { actions: ActionEnvironment; listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>> }, options: RunnerOptions = {}) {
  const pollMs = options.pollMs ?? 500;
  const expiryEveryMs = options.expiryEveryMs ?? 60_000;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let lastExpiry = 0;
  let again = false;

  async function pass() {
    try {
      let sent = 0;
      do {
        sent = await deliverDueWebhooks(env);
      } while (sent > 0 && !stopped);
      if (!stopped) await syncDuePayments(env);
      if (!stopped) await executeDueOccurrences(env.actions);
      if (!stopped && Date.now() - lastExpiry >= expiryEveryMs) {
        lastExpiry = Date.now();
        await expireDuePayments(env);
      }
    } catch (error) {
      env.log?.('error', 'job pass failed', { error: (error as Error).message });
    }
  }

  function schedule(delay: number) {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, delay);
  }

  function run() {
    if (running) {
      again = true;
      return;
    }
    running = pass().finally(() => {
      running = null;
      if (again) {
        again = false;
        schedule(0);
      } else schedule(pollMs);
    });
  }

  const wake = () => schedule(0);
  jobSignals.on('changed', wake);
  // Other processes' changes arrive by LISTEN/NOTIFY on PostgreSQL; polling stays as the safety net.
  const unlisten = env.listen ? env.listen('payrail_jobs', wake).catch((error) => {
    env.log?.('warn', 'LISTEN failed; relying on polling', { error: (error as Error).message });
    return null;
  }) : Promise.resolve(null);
  schedule(0);
  return {
    async stop() {
      stopped = true;
      jobSignals.off('changed', wake);
      await (await unlisten)?.();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
