/**
 * Probes and metrics, outside /2.0 and the OpenAPI document:
 * - `GET /health`: liveness, answered without touching the database.
 * - `GET /ready`: readiness, 200 when the database answers, every migration this version knows is
 *   applied and the due job backlog is at most the threshold; else 503 naming the failing check.
 * - `GET /metrics`: Prometheus text, behind a bearer token unless configured open or off.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../domain/errors.ts';
import { readBacklog } from '../../store/backlog.ts';
import { migrationNames } from '../../store/migrations.ts';
import { renderMetrics } from '../../telemetry/metrics.ts';
import { PAYRAIL_VERSION } from '../../version.ts';
import { bearerToken } from '../access.ts';

export interface ProbeOptions {
  /** /ready fails when more jobs than this are due. */
  readyMaxBacklog: number;
  metrics: 'token' | 'open' | 'off';
  metricsToken: string | null;
}

export const DEFAULT_READY_MAX_BACKLOG = 10_000;
/** A database that does not answer /ready's query within this is reported unreachable. */
const READY_DATABASE_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export async function probeRoutes(app: FastifyInstance, options: ProbeOptions) {
  const { store, clock } = app.payrail;
  const started = Date.now();
  const hidden = { schema: { hide: true }, config: { access: 'public' as const } };

  app.get('/health', hidden, async () => ({ status: 'ok', version: PAYRAIL_VERSION, uptime_seconds: Math.round((Date.now() - started) / 1000) }));

  app.get('/ready', hidden, async (_request, reply) => {
    const checks: Record<string, Record<string, unknown> & { ok: boolean }> = {};
    const t0 = performance.now();
    try {
      const applied = await withTimeout(
        store.db
          .selectFrom('payrail_migrations' as never)
          .select('name' as never)
          .execute() as Promise<{ name: string }[]>,
        READY_DATABASE_TIMEOUT_MS,
        'database',
      );
      checks.database = { ok: true, latency_ms: Math.round(performance.now() - t0) };
      const names = new Set(applied.map((r) => r.name));
      const missing = migrationNames(store.dialect).filter((n) => !names.has(n));
      checks.migrations = { ok: missing.length === 0, applied: names.size, missing };
      const backlog = await withTimeout(readBacklog(store.db, clock.now()), READY_DATABASE_TIMEOUT_MS, 'database');
      const due = backlog.due.webhook_delivery + backlog.due.status_sync;
      checks.backlog = {
        ok: due <= options.readyMaxBacklog,
        due,
        threshold: options.readyMaxBacklog,
        ...backlog.due,
        oldest_age_seconds: Math.round(Math.max(...Object.values(backlog.oldestAgeSeconds))),
      };
    } catch (error) {
      checks.database = { ok: false, error: (error as Error).message.slice(0, 200) };
    }
    const ready = checks.database.ok && Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', hidden, async (request, reply) => {
    if (options.metrics === 'off') throw new ApiError('notFound', 'metrics are off (--metrics off)');
    if (options.metrics === 'token') {
      const token = bearerToken(request);
      if (!options.metricsToken) throw new ApiError('unauthorized', 'metrics need a token: start Payrail with --metrics-token (or --metrics open)');
      if (!token || !sameToken(token, options.metricsToken)) throw new ApiError('unauthorized', 'send the metrics token as Authorization: Bearer <token>');
    }
    const { contentType, text } = await renderMetrics(store.db, clock.now());
    return reply.type(contentType).send(text);
  });
}
