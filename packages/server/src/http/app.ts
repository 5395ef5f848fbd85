/** The app factory: builds the Fastify instance (never listens), so tests drive it in-process. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { randomBytes, randomInt } from 'node:crypto';
import { installationSecret } from '../services/installation.ts';
import { type Keyring, keyringFromKeys } from '../services/secret-box.ts';
import { DEFAULT_ALLOWED_HOSTS, makeHostCheck } from './hosts.ts';
import { DEFAULT_RATE_LIMITS, type RateLimits, registerRateLimits } from './rate-limits.ts';
import type { ActionEnvironment } from '../services/payment-actions.ts';
import swagger from './openapi-plugin.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError } from '../domain/errors.ts';
import { type AdjustableClock, type Clock, systemClock } from '../domain/clock.ts';
import type { Store } from '../store/db.ts';
import { makeAccessHook } from './access.ts';
import { API_CSP } from './csp.ts';
import { sendError } from './errors.ts';
import { parseJsonBody } from './json.ts';
import { LAZY_SCHEMA_CONTROLLER } from './lazy-validation.ts';
import { ErrorBody, PaymentResponse } from './schemas.ts';
import { authTokenRoutes } from './routes/auth-token.ts';
import { paymentRoutes } from './routes/payments.ts';
import { docsRoutes } from './routes/docs.ts';
import { paymentActionRoutes } from './routes/payment-actions.ts';
import { connectorRoutes } from './routes/connectors.ts';
import { testbankRoutes } from './routes/testbank.ts';
import { bankReturnRoutes } from './routes/bank-return.ts';
import { exchangeRoutes } from './routes/exchanges.ts';
import { adminRoutes } from './routes/admin.ts';
import { standingOrderRoutes } from './routes/standing-orders.ts';
import { joseRoutes } from './routes/jose.ts';
import { registerResponseSigning } from './jose-hooks.ts';
import { webviewRoutes } from '../webview/routes.ts';
import { DEFAULT_READY_MAX_BACKLOG, probeRoutes, type ProbeOptions } from './routes/health.ts';
import { httpRequestDuration } from '../telemetry/metrics.ts';
import { adminDashboard } from '../admin/routes.ts';
import { PAYRAIL_VERSION } from '../version.ts';
import type { ConnectorRegistry } from '../connectors/registry.ts';
import { connectorRegistry } from '../services/banks.ts';
import { createWorkNotifier, type WorkNotifier } from '../services/work-notifier.ts';
import type { ConnectorModule } from '../connectors/kit/types.ts';

export interface AppOptions {
  store: Store;
  clock?: Clock;
  /** pino options, or false for no logs (tests). */
  logger?: boolean | Record<string, unknown>;
  /** Proxy addresses/CIDRs whose X-Forwarded-* headers are believed (Fastify's trustProxy); none by default. */
  trustProxy?: boolean | string[];
  /** URL payers reach Payrail at; the request's own origin when null, from an allowed Host only. */
  publicUrl?: string | null;
  /** Host names (any port) that may decide link origins when publicUrl is null; loopback names by default. */
  allowedHosts?: readonly string[];
  /** Seals and opens secrets at rest; a throwaway in-memory key when absent (tests). */
  keyring?: Keyring;
  /** Webhook URLs on loopback or private networks are accepted (development, tests). */
  allowPrivateWebhooks?: boolean;
  /** Abuse limits; DEFAULT_RATE_LIMITS when absent. */
  rateLimits?: Partial<RateLimits>;
  /** Test connector step (first open day), ms; Powens' 15 minutes by default. */
  testConnectorStepMs?: number;
  /** The connectors on offer; by default the test bank and the configured banks (keys unopened without `keyring`). */
  connectors?: ConnectorRegistry;
  /** The built-in test bank (when `connectors` is not given); on by default. */
  testBank?: boolean;
  /** Connector modules by standard (when `connectors` is not given); CONNECTOR_MODULES by default. */
  connectorModules?: readonly ConnectorModule[];
  /** /ready threshold and /metrics access (by default: token required, none configured). */
  probes?: Partial<ProbeOptions>;
  /** Wakes the job loops when a request queues work; a new one per app by default (serve hands it to the runner). */
  notifier?: WorkNotifier;
  /** Serve `POST /2.0/sandbox/clock` (`payrail serve --sandbox-clock`): the clock must be adjustable. */
  sandboxClock?: boolean;
}

export interface RouteInfo {
  method: string;
  url: string;
  pattern: RegExp;
  access: unknown;
}

export interface AppContext {
  store: Store;
  clock: Clock;
  /** Every registered route, with its access rule (tests check that none lacks one). */
  routes: RouteInfo[];
  secret: string;
  keyring: Keyring;
  allowPrivateWebhooks: boolean;
  publicUrl: string | null;
  testStepMs: number;
  connectors: ConnectorRegistry;
  /** Wakes the job loops subscribed to it (the runner `payrail serve` starts) when a request queues work. */
  notifier: WorkNotifier;
  /** The environment the validation services need, for one request. */
  actions(request: FastifyRequest): ActionEnvironment;
}

declare module 'fastify' {
  interface FastifyInstance {
    payrail: AppContext;
  }
  interface FastifyRequest {
    /** The JSON body's exact text (idempotency compares it). */
    rawBody: string | null;
  }
}

const BODY_LIMIT = 1024 * 1024;
const SMALL_BODY_LIMIT = 64 * 1024;

/**
 * Never logged, wherever they appear in a log line: credentials, tokens, secrets, account numbers
 * and identities (and what a database error may quote of a row). Checked by test/logs.test.ts.
 */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  ...[
    'client_secret',
    'secret',
    'secret_key',
    'token',
    'password',
    'iban',
    'identification',
    'payer',
    'payer_identity',
    'beneficiary',
    'beneficiary_identity',
    'operator_identity',
    'body',
    'detail',
    'where',
    'parameters',
    'query',
  ].flatMap((key) => [key, `*.${key}`]),
];

/** Logs carry the path, never the query string (it can hold IBANs) nor headers (tokens). */
const serializers = {
  req(request: { method: string; url: string; id: string }) {
    return { method: request.method, path: pathOf(request.url), id: request.id };
  },
};

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * One access line per request, when it completes, instead of Fastify's two ("incoming request" is
 * logged at debug only). The line carries the request id, method, path (never the query), status and
 * time: nothing the redaction list covers, so it is written by a child logger without redaction
 * (redacting every path of every line cost about a tenth of a GET's CPU). Every other line, including
 * "request errored", keeps the full redaction.
 */
class AccessLog extends LogController {
  #plain = new WeakMap<object, FastifyBaseLogger>();
  override incomingRequest(request: FastifyRequest): void {
    if ((request.log as unknown as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.('debug'))
      request.log.debug({ req: request }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    const server = request.server.log;
    let plain = this.#plain.get(server);
    if (!plain) {
      plain = server.child({}, { redact: [] } as never);
      this.#plain.set(server, plain);
    }
    plain.info(
      { reqId: request.id, method: request.method, path: pathOf(request.url), statusCode: reply.statusCode, responseTime: reply.elapsedTime },
      'request completed',
    );
  }
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger (`request.log`, bound to its reqId), made into a pino child only when the
 * request writes a line of its own: most requests write none besides the access line, and a pino
 * child costs its bindings' serialisation and redaction (about 2% of a GET's CPU). Levels are
 * checked on the parent first, so a debug call at level info creates nothing.
 */
class LazyChildLogger {
  #parent: FastifyBaseLogger;
  #bindings: Record<string, unknown>;
  #options: object;
  #child: FastifyBaseLogger | null = null;
  constructor(parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: object) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }
  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }
  #write(method: LogMethod, args: unknown[]): void {
    const enabled = (this.#parent as unknown as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.(method) ?? true;
    if (enabled) (this.#real()[method] as (...a: unknown[]) => void)(...args);
  }
  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  isLevelEnabled(level: string): boolean {
    const logger = (this.#child ?? this.#parent) as unknown as { isLevelEnabled?(l: string): boolean };
    return logger.isLevelEnabled?.(level) ?? true;
  }
  child(bindings: Record<string, unknown>, options?: object): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}
}

let ephemeralKeyring: Keyring | null = null;
/** Tests and `payrail openapi` pass no keyring: one random key per process, so several apps on one store agree. */
function processKeyring(): Keyring {
  ephemeralKeyring ??= keyringFromKeys([randomBytes(32)]);
  return ephemeralKeyring;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  // Request ids are integers (the Powens error body's request_id), unique per process run.
  let nextRequestId = randomInt(1, 2 ** 20) * 2 ** 30;
  const app = Fastify({
    logger:
      options.logger === false || options.logger === undefined
        ? false
        : { ...(options.logger === true ? {} : options.logger), serializers, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } },
    bodyLimit: BODY_LIMIT,
    logController: new AccessLog(),
    childLoggerFactory: (logger, bindings, options) =>
      (options as { level?: string }).level === undefined
        ? (new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger)
        : logger.child(bindings, options),
    genReqId: () => String(nextRequestId++),
    trustProxy: Array.isArray(options.trustProxy) ? (options.trustProxy.length ? options.trustProxy : false) : (options.trustProxy ?? false),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // No type coercion: a body with [[1]] as an amount or 123 as a label is refused, not reinterpreted.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
    // Validators compiled on a route's first request, not all at start-up (see lazy-validation.ts).
    schemaController: LAZY_SCHEMA_CONTROLLER,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const clock = options.clock ?? systemClock;
  const keyring = options.keyring ?? processKeyring();
  const secret = await installationSecret(options.store.db, keyring, 'signing');
  const connectors =
    options.connectors ??
    connectorRegistry({
      db: options.store.db,
      clock,
      keyring,
      testBank: options.testBank ?? true,
      ...(options.connectorModules ? { modules: options.connectorModules } : {}),
      log: (message, data) => app.log.warn(data, message),
    });
  const context: AppContext = {
    store: options.store,
    clock,
    routes: [],
    secret,
    keyring,
    allowPrivateWebhooks: options.allowPrivateWebhooks ?? false,
    publicUrl: options.publicUrl ?? null,
    testStepMs: options.testConnectorStepMs ?? 15 * 60 * 1000,
    connectors,
    notifier: options.notifier ?? createWorkNotifier(),
    actions(request) {
      const baseUrl = options.publicUrl ?? `${request.protocol}://${request.host}`;
      return {
        db: options.store.db,
        clock,
        secret,
        baseUrl,
        testStepMs: this.testStepMs,
        connectors,
        notifier: this.notifier,
        log: (level, message, data) => request.log[level](data ?? {}, message),
      };
    },
  };
  app.decorate('payrail', context);
  // Only a registry built here is closed here (its banks' HTTP agents).
  if (!options.connectors) app.addHook('onClose', async () => connectors.close());
  app.decorateRequest('principal', null);
  app.decorateRequest('rawBody', null);

  // Bodies are JSON; amounts keep their exact decimal text (see json.ts). Forms only on /auth/token.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (request, body, done) => {
    request.rawBody = body as string;
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // Responses are serialised with JSON.stringify so that amounts print exactly (JSON.rawJSON).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));

  // 405 for a known path with another method, 404 otherwise.
  app.addHook('onRoute', (route) => {
    // Bounded bodies: a payment (up to 1000 instructions) may take 1 MB, every other route 64 KB.
    route.bodyLimit ??= route.url === '/2.0/payments' ? BODY_LIMIT : SMALL_BODY_LIMIT;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}/?$`);
    for (const method of methods) context.routes.push({ method, url: route.url, pattern, access: route.config?.access });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(context.routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length) {
      reply.header('allow', allowed.join(', '));
      return sendError(request, reply, new ApiError('methodNotAllowed', `${request.method} is not allowed here; allowed: ${allowed.join(', ')}`));
    }
    return sendError(request, reply, new ApiError('notFound', `no endpoint ${request.method} ${path}`));
  });

  // Without a public URL, links take the request's origin: only from a Host on the allow-list.
  if (!context.publicUrl) app.addHook('onRequest', makeHostCheck(options.allowedHosts ?? DEFAULT_ALLOWED_HOSTS));
  app.addHook('onRequest', makeAccessHook(context.store.db, context.clock));
  // No text column (SQLite or PostgreSQL) may hold a NUL byte, and no text can be stored as UTF-8 with a
  // lone UTF-16 surrogate (it would be silently replaced by U+FFFD): refuse both up front, naming the field.
  app.addHook('preValidation', (request, _reply, done) => {
    const bad = findBadText(request.query, '') ?? findBadText(request.body, '');
    done(bad === null ? undefined : new ApiError('invalidValue', `${bad.field || 'body'}: ${bad.reason}`, { field: bad.field || 'body' }));
  });
  app.addHook('onResponse', (request, reply, done) => {
    // The route's pattern, never the raw URL: label values stay few.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  registerResponseSigning(app as unknown as FastifyInstance);
  const httpsOnly = context.publicUrl?.startsWith('https:') ?? false;
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    const csp = reply.getHeader('content-security-policy');
    if (csp === undefined) {
      reply.header('content-security-policy', API_CSP);
      reply.header('x-frame-options', 'DENY');
    } else if (String(csp).includes("frame-ancestors 'none'")) {
      // Pages a client's origins may frame (the webview, the test bank) say so in their CSP; every other answer is never framed.
      reply.header('x-frame-options', 'DENY');
    }
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (httpsOnly) {
      reply.header('strict-transport-security', 'max-age=31536000');
      // Payers and operators reach us over https: every cookie, whoever set it, is Secure.
      const cookies = reply.getHeader('set-cookie');
      if (cookies !== undefined) {
        reply.removeHeader('set-cookie');
        reply.header(
          'set-cookie',
          [cookies].flat().map((c) => (/;\s*secure\b/i.test(String(c)) ? String(c) : `${String(c)}; Secure`)),
        );
      }
    }
    done(null, payload);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Payrail API',
        version: PAYRAIL_VERSION,
        description:
          'Pay-by-bank (PSD2 payment initiation) API, compatible with the Powens Pay API: same paths, fields, states and error codes. ' +
          'Every error answers with the body {code, description, message, request_id}; see docs/errors.md.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A service token from POST /2.0/auth/token, or a payment-scoped token.' } },
      },
      tags: [
        { name: 'auth', description: 'Service and payment-scoped tokens' },
        { name: 'payments', description: 'Payments' },
        { name: 'validation', description: 'Payment validation: what a (custom) validation webview does' },
        { name: 'connectors', description: 'Banks' },
        { name: 'admin', description: 'Domain configuration and webhooks' },
        { name: 'security', description: 'Response signatures, end-to-end encryption keys, terms of service' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(ErrorBody);
  app.addSchema(PaymentResponse);

  await registerRateLimits(app, options.store.db, clock, { ...DEFAULT_RATE_LIMITS, ...options.rateLimits });
  await app.register(authTokenRoutes, { prefix: '/2.0' });
  await app.register(paymentRoutes, { prefix: '/2.0' });
  await app.register(docsRoutes, { prefix: '/2.0' });
  await app.register(paymentActionRoutes, { prefix: '/2.0' });
  await app.register(connectorRoutes, { prefix: '/2.0' });
  await app.register(testbankRoutes, { prefix: '/2.0' });
  await app.register(bankReturnRoutes, { prefix: '/2.0' });
  await app.register(exchangeRoutes, { prefix: '/2.0' });
  await app.register(adminRoutes, { prefix: '/2.0' });
  const adjustable = options.sandboxClock && typeof (clock as Partial<AdjustableClock>).advance === 'function' ? (clock as AdjustableClock) : null;
  if (options.sandboxClock && !adjustable) throw new Error('sandboxClock needs an adjustable clock (SandboxClock)');
  await app.register(standingOrderRoutes, { prefix: '/2.0', sandboxClock: adjustable });
  await app.register(joseRoutes, { prefix: '/2.0' });
  await app.register(webviewRoutes, { prefix: '/2.0' });
  await app.register(probeRoutes, {
    readyMaxBacklog: options.probes?.readyMaxBacklog ?? DEFAULT_READY_MAX_BACKLOG,
    metrics: options.probes?.metrics ?? 'token',
    metricsToken: options.probes?.metricsToken ?? null,
  });
  await app.register(adminDashboard, { prefix: '/admin' });
  return app;
}

function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL bytes';
  if (!text.isWellFormed()) return 'must not contain a lone UTF-16 surrogate (invalid Unicode)';
  return null;
}

/** The first string (key or value) holding U+0000 or a lone surrogate: its path and what is wrong, or null. */
export function findBadText(value: unknown, path: string, depth = 0): { field: string; reason: string } | null {
  if (typeof value === 'string') {
    const reason = textProblem(value);
    return reason ? { field: path, reason } : null;
  }
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findBadText(item, `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const reason = textProblem(key);
    if (reason) return { field: at, reason };
    const found = findBadText(item, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

export type PayrailApp = Awaited<ReturnType<typeof buildApp>>;
