/**
 * Prometheus metrics: what the rest of the code calls. prom-client and the metrics themselves
 * (telemetry/prometheus.ts) are loaded on first use, the first observation or scrape, not at
 * start-up (docs/performance.md). What is observed while they load is kept and replayed in order,
 * so nothing is lost.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

type Prometheus = typeof import('./prometheus.ts');

let loaded: Prometheus | null = null;
let loading: Promise<Prometheus> | null = null;
let pending: ((metrics: Prometheus) => void)[] | null = [];

function prometheus(): Promise<Prometheus> {
  loading ??= import('./prometheus.ts').then(
    (metrics) => {
      loaded = metrics;
      for (const observation of pending ?? []) observation(metrics);
      pending = null;
      return metrics;
    },
    (error: unknown) => {
      pending = null; // nothing is kept once loading has failed; /metrics reports the error
      throw error;
    },
  );
  return loading;
}

function observe(observation: (metrics: Prometheus) => void): void {
  if (loaded) observation(loaded);
  else if (pending) {
    pending.push(observation);
    prometheus().catch(() => undefined);
  }
}

/** Request latency by method, route pattern and status code (fed by the app's onResponse hook). */
export const httpRequestDuration = {
  observe(labels: { method: string; route: string; status_code: string }, seconds: number): void {
    if (loaded) loaded.httpRequestDuration.observe(labels, seconds);
    else observe((metrics) => metrics.httpRequestDuration.observe(labels, seconds));
  },
};

export function webhookDeliveryObserved(outcome: 'success' | 'failure', seconds: number): void {
  observe((metrics) => metrics.webhookDeliveryObserved(outcome, seconds));
}

/** Called by connectors around every bank call: `bank` is the connector's name or uuid, `operation` e.g. initiate or status. */
export function bankCallObserved(bank: string, operation: string, outcome: 'success' | 'failure' | 'timeout' | 'unknown' | string, seconds: number): void {
  observe((metrics) => metrics.bankCallObserved(bank, operation, outcome, seconds));
}

export function statusSyncFailureObserved(): void {
  observe((metrics) => metrics.statusSyncFailureObserved());
}

/** A validation's turn began (services/turns.ts), before or after its bank call: free, handed (after waiting for the one before) or expired (went ahead after the longest wait). */
export function validationTurnStarted(phase: 'before' | 'after', start: 'free' | 'handed' | 'expired'): void {
  if (loaded) loaded.validationTurnStarted(phase, start);
  else observe((metrics) => metrics.validationTurnStarted(phase, start));
}

/** Reads the database gauges, then renders every metric in the Prometheus text format, with its content type. */
export async function renderMetrics(db: Kysely<Database>, now: number): Promise<{ contentType: string; text: string }> {
  return (await prometheus()).renderMetrics(db, now);
}
