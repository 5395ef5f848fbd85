/**
 * Abuse limits (issue 12): `POST /auth/token` per client_id and per address (each attempt costs an
 * scrypt hash, ~120 ms of CPU), and the webview's form posts per address. Counted with
 * @fastify/rate-limit's limiters over a store on our own `rate_limits` table, so every process on one
 * PostgreSQL shares the counts (SQLite: the one process's table). Over the limit: 429, `Retry-After`
 * and the Powens error body.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import type { Database } from '../store/schema.ts';

export interface RateLimits {
  /** Token requests per client_id per window. */
  tokenPerClient: number;
  /** Token requests per address per window. */
  tokenPerAddress: number;
  /** Webview form posts per address per window. */
  webviewPerAddress: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { tokenPerClient: 30, tokenPerAddress: 120, webviewPerAddress: 120, windowMs: 60_000 };

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * The plugin's store interface over the `rate_limits` table: one atomic upsert per hit (fixed window).
 * Works the same on SQLite and PostgreSQL; expired rows are purged now and then.
 */
export function tableStore(db: Kysely<Database>, clock: Clock) {
  let hits = 0;
  return class TableStore {
    incr(key: string, callback: IncrCallback, timeWindow: number): void {
      const now = clock.now();
      db.insertInto('rate_limits')
        .values({ key, count: 1, reset_at: now + timeWindow })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            count: eb
              .case()
              .when('rate_limits.reset_at', '<=', now)
              .then(1)
              .else(eb('rate_limits.count', '+', 1))
              .end(),
            reset_at: eb
              .case()
              .when('rate_limits.reset_at', '<=', now)
              .then(now + timeWindow)
              .else(eb.ref('rate_limits.reset_at'))
              .end(),
          })),
        )
        .returning(['count', 'reset_at'])
        .executeTakeFirstOrThrow()
        .then(
          (row) => {
            if (++hits % 500 === 0)
              void db
                .deleteFrom('rate_limits')
                .where('reset_at', '<', now)
                .execute()
                .catch(() => {});
            callback(null, { current: Number(row.count), ttl: Math.max(0, Number(row.reset_at) - now) });
          },
          (error: Error) => callback(error),
        );
    }
    child(_routeOptions: unknown) {
      return this;
    }
  };
}

/** client_id from the JSON/form body, or from HTTP Basic credentials. */
function clientIdOf(request: FastifyRequest): string {
  const body = request.body as { client_id?: unknown } | undefined;
  if (typeof body?.client_id === 'string') return body.client_id.slice(0, 200);
  const header = request.headers.authorization;
  const basic = typeof header === 'string' ? /^Basic\s+(\S+)/i.exec(header)?.[1] : undefined;
  if (basic) return Buffer.from(basic, 'base64').toString('utf8').split(':')[0]!.slice(0, 200);
  return '';
}

/** Registers the plugin and attaches the limits to their routes (call before the routes are registered). */
export async function registerRateLimits(app: FastifyInstance, db: Kysely<Database>, clock: Clock, limits: RateLimits): Promise<void> {
  await app.register(fastifyRateLimit, { global: false, store: tableStore(db, clock) as never, skipOnError: false });
  const limiter = (prefix: string, max: number, key: (request: FastifyRequest) => string) =>
    app.createRateLimit({ max, timeWindow: limits.windowMs, keyGenerator: (request) => `${prefix}:${key(request)}` });
  const byAddress = (prefix: string, max: number) => limiter(prefix, max, (request) => request.ip);
  // An infinite limit (tests that mint many tokens) costs nothing: no counter is kept for it.
  const token = [
    ...(Number.isFinite(limits.tokenPerAddress) ? [byAddress('token-ip', limits.tokenPerAddress)] : []),
    ...(Number.isFinite(limits.tokenPerClient) ? [limiter('token-client', limits.tokenPerClient, clientIdOf)] : []),
  ];
  const webview = Number.isFinite(limits.webviewPerAddress) ? [byAddress('webview-ip', limits.webviewPerAddress)] : [];

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST')) return;
    const checks = route.url === '/2.0/auth/token' ? token : route.url === '/2.0/auth/webview/:lang/flow' ? webview : null;
    if (!checks?.length) return;
    const hook = async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
      for (const check of checks) {
        const result = await check(request);
        if (!result.isAllowed && result.isExceeded) {
          reply.header('retry-after', String(Math.max(1, result.ttlInSeconds)));
          throw new ApiError('tooManyRequests', `too many requests: retry in ${Math.max(1, result.ttlInSeconds)} seconds`);
        }
      }
    };
    // Before validation: a malformed attempt counts as much as a well-formed one.
    const existing = route.preValidation;
    route.preValidation = existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
  });
}
