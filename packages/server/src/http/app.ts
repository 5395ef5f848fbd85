/** The app factory: builds the Fastify instance (never listens), so tests drive it in-process. */
import { randomInt } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { installationSecret } from '../services/installation.ts';
import type { ActionEnvironment } from '../services/payment-actions.ts';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError } from '../domain/errors.ts';
import { type Clock, systemClock } from '../domain/clock.ts';
import type { Store } from '../store/db.ts';
import { makeAccessHook } from './access.ts';
import { sendError } from './errors.ts';
import { parseJsonBody } from './json.ts';
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
import { webviewRoutes } from '../webview/routes.ts';
import { PAYRAIL_VERSION } from '../version.ts';
import { ConnectorRegistry } from '../connectors/registry.ts';
import type { Keyring } from '../services/secret-box.ts';
import type { ConnectorModule } from '../connectors/kit/types.ts';

export interface AppOptions {
  store: Store;
  clock?: Clock;
  /** pino options, or false for no logs (tests). */
  logger?: boolean | Record<string, unknown>;
  trustProxy?: boolean;
  /** URL payers reach Payrail at; the request's own origin when null. */
  publicUrl?: string | null;
  /** Test connector step (first open day), ms; Powens' 15 minutes by default. */
  testConnectorStepMs?: number;
  /** The connectors on offer; by default the test bank and the configured banks (keys unopened without `keyring`). */
  connectors?: ConnectorRegistry;
  /** Opens configured banks' sealed keys (when `connectors` is not given). */
  keyring?: Keyring | null;
  /** The built-in test bank (when `connectors` is not given); on by default. */
  testBank?: boolean;
  /** Connector modules by standard (when `connectors` is not given); CONNECTOR_MODULES by default. */
  connectorModules?: readonly ConnectorModule[];
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
  publicUrl: string | null;
  testStepMs: number;
  connectors: ConnectorRegistry;
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
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Logs carry the path, never the query string (it can hold IBANs) nor headers (tokens). */
const serializers = {
  req(request: { method: string; url: string; id: string }) {
    return { method: request.method, path: request.url.split('?')[0], id: request.id };
  },
};

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  // Request ids are integers (the Powens error body's request_id), unique per process run.
  let nextRequestId = randomInt(1, 2 ** 20) * 2 ** 30;
  const app = Fastify({
    logger: options.logger === false || options.logger === undefined ? false : { ...(options.logger === true ? {} : options.logger), serializers },
    bodyLimit: BODY_LIMIT,
    genReqId: () => String(nextRequestId++),
    trustProxy: options.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // No type coercion: a body with [[1]] as an amount or 123 as a label is refused, not reinterpreted.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const clock = options.clock ?? systemClock;
  const secret = await installationSecret(options.store.db, 'signing');
  const connectors = options.connectors ?? new ConnectorRegistry({
    db: options.store.db, clock, keyring: options.keyring ?? null, testBank: options.testBank ?? true, ...(options.connectorModules ? { modules: options.connectorModules } : {}),
    log: (message, data) => app.log.warn(data, message),
  });
  const context: AppContext = {
    store: options.store,
    clock,
    routes: [],
    secret,
    publicUrl: options.publicUrl ?? null,
    testStepMs: options.testConnectorStepMs ?? 15 * 60 * 1000,
    connectors,
    actions(request) {
      const baseUrl = options.publicUrl ?? `${request.protocol}://${request.host}`;
      return { db: options.store.db, clock, secret, baseUrl, testStepMs: this.testStepMs, connectors, log: (level, message, data) => request.log[level](data ?? {}, message) };
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

  app.addHook('onRequest', makeAccessHook(context.store.db, context.clock));
  // No text column (SQLite or PostgreSQL) may hold a NUL byte: refuse it up front, naming the field.
  app.addHook('preValidation', (request, _reply, done) => {
    const field = findNulByte(request.query, '') ?? findNulByte(request.body, '');
    done(field === null ? undefined : new ApiError('invalidValue', `${field || 'body'}: must not contain NUL bytes`, { field: field || 'body' }));
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
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
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A service token from POST /2.0/auth/token, or a payment-scoped token.' } } },
      tags: [
        { name: 'auth', description: 'Service and payment-scoped tokens' },
        { name: 'payments', description: 'Payments' },
        { name: 'validation', description: 'Payment validation: what a (custom) validation webview does' },
        { name: 'connectors', description: 'Banks' },
        { name: 'admin', description: 'Domain configuration and webhooks' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(ErrorBody);
  app.addSchema(PaymentResponse);

  await app.register(authTokenRoutes, { prefix: '/2.0' });
  await app.register(paymentRoutes, { prefix: '/2.0' });
  await app.register(docsRoutes, { prefix: '/2.0' });
  await app.register(paymentActionRoutes, { prefix: '/2.0' });
  await app.register(connectorRoutes, { prefix: '/2.0' });
  await app.register(testbankRoutes, { prefix: '/2.0' });
  await app.register(bankReturnRoutes, { prefix: '/2.0' });
  await app.register(exchangeRoutes, { prefix: '/2.0' });
  await app.register(adminRoutes, { prefix: '/2.0' });
  await app.register(webviewRoutes, { prefix: '/2.0' });
  app.get('/health', { schema: { hide: true }, config: { access: 'public' } }, async () => ({ status: 'ok' }));
  return app;
}

/** Path of the first string (key or value) holding U+0000, or null. */
export function findNulByte(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNulByte(item, `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at;
    const found = findNulByte(item, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

export type PayrailApp = Awaited<ReturnType<typeof buildApp>>;
