/**
 * The app factory: builds the Fastify instance (never listens), so tests drive it in-process. Each
 * concern is a plugin of its own (plugins/: bodies, errors, access, text guard, metrics, security
 * headers, OpenAPI), registered here in the order their hooks run; then the rate limits and routes.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomBytes, randomInt } from 'node:crypto';
import { installationSecret } from '../services/installation.ts';
import { type Keyring, keyringFromKeys } from '../services/secret-box.ts';
import { DEFAULT_RATE_LIMITS, type RateLimits, registerRateLimits } from './rate-limits.ts';
import type { ActionEnvironment } from '../services/payment-actions.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type AdjustableClock, type Clock, systemClock } from '../domain/clock.ts';
import type { Store } from '../store/db.ts';
import { LAZY_SCHEMA_CONTROLLER } from './lazy-validation.ts';
import { AccessLog, childLoggerFactory, loggerOptions } from './logging.ts';
import access from './plugins/access.ts';
import errors, { type RouteInfo } from './plugins/errors.ts';
import jsonBodies, { BODY_LIMIT } from './plugins/json-bodies.ts';
import openapi from './plugins/openapi.ts';
import requestMetrics from './plugins/request-metrics.ts';
import securityHeaders from './plugins/security-headers.ts';
import textGuard from './plugins/text-guard.ts';
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
import { consentReturnRoutes } from './routes/consent-return.ts';
import { sandboxOAuthRoutes } from './routes/sandbox-oauth.ts';
import { DEFAULT_READY_MAX_BACKLOG, probeRoutes, type ProbeOptions } from './routes/health.ts';
import { adminDashboard } from '../admin/routes.ts';
import type { ConnectorRegistry } from '../connectors/registry.ts';
import { connectorRegistry } from '../services/banks.ts';
import { createWorkNotifier, type WorkNotifier } from '../services/work-notifier.ts';
import { type ValidationTurns, validationTurns } from '../services/turns.ts';
import { validationTurnStarted } from '../telemetry/metrics.ts';
import type { ConnectorModule } from '../connectors/kit/types.ts';

export type { RouteInfo } from './plugins/errors.ts';

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
  /** This process's id (services/instances.ts), recorded on its claims so that they end if it dies; none in tests. */
  instanceId?: string | null;
  /** Validations take turns, each waiting at most this many ms (services/turns.ts); 5 by default, 0: no turns. */
  validationTurnMs?: number;
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
  /** This process's validation turns (services/turns.ts), shared by the API and the webview. */
  turns: ValidationTurns;
  /** The environment the validation services need, for one request. */
  actions(request: FastifyRequest): ActionEnvironment;
}

declare module 'fastify' {
  interface FastifyInstance {
    payrail: AppContext;
  }
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
    logger: loggerOptions(options.logger),
    bodyLimit: BODY_LIMIT,
    logController: new AccessLog(),
    childLoggerFactory,
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
    turns: validationTurns(options.validationTurnMs ?? 5, validationTurnStarted),
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
        turns: this.turns,
        instanceId: options.instanceId ?? null,
        log: (level, message, data) => request.log[level](data ?? {}, message),
      };
    },
  };
  app.decorate('payrail', context);
  // Only a registry built here is closed here (its banks' HTTP agents).
  if (!options.connectors) app.addHook('onClose', async () => connectors.close());

  // The hooks, in the order they run within each phase (one per concern; none added per route).
  await app.register(jsonBodies);
  await app.register(errors, { routes: context.routes });
  await app.register(access, { db: context.store.db, clock: context.clock, publicUrl: context.publicUrl, allowedHosts: options.allowedHosts });
  await app.register(textGuard);
  await app.register(requestMetrics);
  registerResponseSigning(app as unknown as FastifyInstance);
  await app.register(securityHeaders, { httpsOnly: context.publicUrl?.startsWith('https:') ?? false });
  await app.register(openapi);

  await registerRateLimits(app, options.store.db, clock, { ...DEFAULT_RATE_LIMITS, ...options.rateLimits });
  await app.register(authTokenRoutes, { prefix: '/2.0' });
  await app.register(paymentRoutes, { prefix: '/2.0' });
  await app.register(docsRoutes, { prefix: '/2.0' });
  await app.register(paymentActionRoutes, { prefix: '/2.0' });
  await app.register(connectorRoutes, { prefix: '/2.0' });
  await app.register(testbankRoutes, { prefix: '/2.0' });
  await app.register(bankReturnRoutes, { prefix: '/2.0' });
  await app.register(consentReturnRoutes, { prefix: '/2.0' });
  await app.register(sandboxOAuthRoutes, { prefix: '/2.0' });
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

export type PayrailApp = Awaited<ReturnType<typeof buildApp>>;
