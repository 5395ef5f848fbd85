/**
 * Abuse limits (issue 12, reshaped in issue 24): `POST /auth/token` limits what an attack looks like —
 * failed authentications (401), per client_id and per address — and leaves successful mints free up
 * to a generous ceiling per client (integrations that fetch a token per call are never throttled).
 * The webview's form posts are limited per address. Counted with @fastify/rate-limit's limiters over
 * a store on our own `rate_limits` table, so every process on one PostgreSQL shares the counts
 * (SQLite: the one process's table). Over a limit: 429, `Retry-After` and the Powens error body.
 *
 * Token requests are checked before any work by peeking at the counters (`{ increment: false }`);
 * the answer then counts: a 401 as a failure for its client and its address, a 200 as a mint for its
 * client. A refused (429) request counts for nothing, so a failure burst against one client stops at
 * that client's limit and never reaches its address's: another client on the same address goes on.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import type { Database } from '../store/schema.ts';

export interface RateLimits {
  /** Failed token requests (401) per client_id per window, from any address. */
  tokenFailuresPerClient: number;
  /** Failed token requests (401) per address per window, whatever the client_id. */
  tokenFailuresPerAddress: number;
  /** Successful token mints per client_id per window: a ceiling far above any integration's use. */
  tokenMintsPerClient: number;
  /** Webview form posts per address per window. */
  webviewPerAddress: number;
  windowMs: number;
}

/**
 * A failure burst against one client reaches at most tokenFailuresPerClient on its address, below
 * tokenFailuresPerAddress. 1,200 mints a minute is 20 a second, twice a token per payment at 10 payments a second.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  tokenFailuresPerClient: 20,
  tokenFailuresPerAddress: 100,
  tokenMintsPerClient: 1200,
  webviewPerAddress: 120,
  windowMs: 60_000,
};

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
    /** The count without counting (the plugin's `{ increment: false }`). */
    read(key: string, callback: IncrCallback): void {
      const now = clock.now();
      db.selectFrom('rate_limits')
        .select(['count', 'reset_at'])
        .where('key', '=', key)
        .executeTakeFirst()
        .then(
          (row) =>
            callback(null, !row || Number(row.reset_at) <= now ? { current: 0, ttl: 0 } : { current: Number(row.count), ttl: Number(row.reset_at) - now }),
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

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

function tooMany(reply: FastifyReply, ttlInSeconds: number): ApiError {
  const seconds = Math.max(1, ttlInSeconds);
  reply.header('retry-after', String(seconds));
  return new ApiError('tooManyRequests', `too many requests: retry in ${seconds} seconds`);
}

/** Adds hooks to a route (after any it has). */
function addHooks(route: { preValidation?: unknown; onSend?: unknown }, name: 'preValidation' | 'onSend', hook: unknown): void {
  const existing = route[name];
  route[name] = existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
}

/** Registers the plugin and attaches the limits to their routes (call before the routes are registered). */
export async function registerRateLimits(app: FastifyInstance, db: Kysely<Database>, clock: Clock, limits: RateLimits): Promise<void> {
  await app.register(fastifyRateLimit, { global: false, store: tableStore(db, clock) as never, skipOnError: false });
  // An infinite limit (tests that mint many tokens) costs nothing: no counter is kept for it.
  const limiter = (prefix: string, max: number, key: (request: FastifyRequest) => string): Limiter[] =>
    Number.isFinite(max) ? [app.createRateLimit({ max, timeWindow: limits.windowMs, keyGenerator: (request) => `${prefix}:${key(request)}` })] : [];
  const address = (request: FastifyRequest) => request.ip;
  const failures = [
    ...limiter('token-fail-client', limits.tokenFailuresPerClient, clientIdOf),
    ...limiter('token-fail-ip', limits.tokenFailuresPerAddress, address),
  ];
  const mints = limiter('token-mint-client', limits.tokenMintsPerClient, clientIdOf);
  const webview = limiter('webview-ip', limits.webviewPerAddress, address);
  const counted = new WeakSet<FastifyRequest>();

  // Before validation: a malformed attempt is refused as early as a well-formed one. Peeks only.
  const checkToken: Hook = async (request, reply) => {
    for (const check of [...failures, ...mints]) {
      const result = await check(request, { increment: false });
      if (!result.isAllowed && result.remaining === 0) throw tooMany(reply, result.ttlInSeconds);
    }
    counted.add(request);
  };
  // The answer counts, before it is sent (the next attempt sees it): 401 a failure, 200 a mint.
  const countToken = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (counted.has(request)) {
      counted.delete(request);
      const checks = reply.statusCode === 401 ? failures : reply.statusCode === 200 ? mints : [];
      for (const check of checks) await check(request);
    }
    return payload;
  };
  const checkWebview: Hook = async (request, reply) => {
    for (const check of webview) {
      const result = await check(request);
      if (!result.isAllowed && result.isExceeded) throw tooMany(reply, result.ttlInSeconds);
    }
  };

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST')) return;
    if (route.url === '/2.0/auth/token' && failures.length + mints.length > 0) {
      addHooks(route, 'preValidation', checkToken);
      addHooks(route, 'onSend', countToken);
    } else if (route.url === '/2.0/auth/webview/:lang/flow' && webview.length > 0) addHooks(route, 'preValidation', checkWebview);
  });
}
