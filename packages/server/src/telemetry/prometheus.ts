/**
 * Prometheus metrics (prom-client), one registry per process. Counters and histograms are fed
 * where things happen; gauges over the database (payments by state, job backlog) are read when
 * /metrics is scraped. Labels have bounded values only: route patterns, never raw URLs or ids.
 * Loaded on first use through telemetry/metrics.ts, which the rest of the code imports.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../store/schema.ts';
import { readBacklog } from '../store/backlog.ts';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'payrail_' });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpRequestDuration = new Histogram({
  name: 'payrail_http_request_duration_seconds',
  help: 'HTTP request latency by method, route pattern and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const webhookDeliveries = new Counter({
  name: 'payrail_webhook_deliveries_total',
  help: 'Webhook send attempts by outcome (success: a 2xx answer; failure: anything else, including timeouts)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

const webhookDuration = new Histogram({
  name: 'payrail_webhook_delivery_duration_seconds',
  help: 'Webhook send latency by outcome',
  labelNames: ['outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const bankCallDuration = new Histogram({
  name: 'payrail_bank_call_duration_seconds',
  help: 'Bank (connector) call latency by bank, operation and outcome',
  labelNames: ['bank', 'operation', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const syncFailures = new Counter({
  name: 'payrail_status_sync_failures_total',
  help: 'Status sync attempts that failed (the bank did not answer or answered an error)',
  registers: [registry],
});

const validationTurns = new Counter({
  name: 'payrail_validation_turns_total',
  help: "Validations' turns, by phase (before or after the bank call) and how they began: free, handed (after waiting for the one before), expired (went ahead after --validation-turn-ms)",
  labelNames: ['phase', 'start'] as const,
  registers: [registry],
});

const payments = new Gauge({ name: 'payrail_payments', help: 'Payments by state', labelNames: ['state'] as const, registers: [registry] });
const jobBacklog = new Gauge({
  name: 'payrail_job_backlog',
  help: 'Jobs due now and not yet done, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});
const jobOldestAge = new Gauge({
  name: 'payrail_job_oldest_age_seconds',
  help: 'How late the oldest due job is, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});
const syncFailed = new Gauge({ name: 'payrail_status_sync_failed_payments', help: 'Payments whose status sync is in the failed state', registers: [registry] });

export function webhookDeliveryObserved(outcome: 'success' | 'failure', seconds: number): void {
  webhookDeliveries.inc({ outcome });
  webhookDuration.observe({ outcome }, seconds);
}

/** Called by connectors around every bank call: `bank` is the connector's name or uuid, `operation` e.g. initiate or status. */
export function bankCallObserved(bank: string, operation: string, outcome: 'success' | 'failure' | 'timeout' | 'unknown' | string, seconds: number): void {
  bankCallDuration.observe({ bank, operation, outcome }, seconds);
}

export function validationTurnStarted(phase: 'before' | 'after', start: 'free' | 'handed' | 'expired'): void {
  validationTurns.inc({ phase, start });
}

export function statusSyncFailureObserved(): void {
  syncFailures.inc();
}

/** Reads the database gauges, then renders every metric in the Prometheus text format. */
export async function renderMetrics(db: Kysely<Database>, now: number): Promise<{ contentType: string; text: string }> {
  const byState = await db
    .selectFrom('payments')
    .select(['state', sql<number>`count(*)`.as('n')])
    .groupBy('state')
    .execute();
  payments.reset();
  for (const row of byState) payments.set({ state: row.state }, Number(row.n));
  const backlog = await readBacklog(db, now);
  for (const kind of ['webhook_delivery', 'status_sync'] as const) {
    jobBacklog.set({ kind }, backlog.due[kind]);
    jobOldestAge.set({ kind }, backlog.oldestAgeSeconds[kind]);
  }
  syncFailed.set(backlog.syncFailed);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
