/** Domain configuration and webhooks (docs/reference/powens-pay-api.md §6.2, §9): payments:admin only. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { invalid } from '../../domain/errors.ts';
import { CONFIG_KEYS, getConfig, setConfig } from '../../services/config.ts';
import { createAuthProvider, deleteAuthProvider, listAuthProviders } from '../../webhooks/auth-providers.ts';
import { createEndpoint, disableEndpoint, listDeliveries, listEndpoints, replayDelivery, WEBHOOK_EVENTS } from '../../webhooks/endpoints.ts';
import { principalOf, type AccessRule } from '../access.ts';
import { errorResponses } from '../schemas.ts';
import { isDeliveryStatus } from '../../store/schema.ts';

export const ADMIN_ONLY: AccessRule = { service: [], paymentScoped: [] };
const security = [{ bearer: [] }];
const ConfigMap = Type.Object(
  Object.fromEntries(
    Object.entries(CONFIG_KEYS).map(([key, spec]) => [
      key,
      Type.Optional(Type.String({ maxLength: 64, description: `${spec.description} (default "${spec.default}")` })),
    ]),
  ),
  { title: 'DomainConfig' },
);
const Endpoint = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  event: Type.String(),
  enabled: Type.Boolean(),
  created_at: Type.Integer(),
  id_auth: Type.Union([Type.Integer(), Type.Null()], {
    description: 'the authentication provider of its deliveries (POST /webhooks/auth); null: its own HMAC key',
  }),
});
const AuthProvider = Type.Object(
  {
    id: Type.Integer(),
    type: Type.String(),
    name: Type.String(),
    created_at: Type.Integer(),
    config: Type.Object({ url: Type.Optional(Type.String()), client_id: Type.Optional(Type.String()), grant_type: Type.Optional(Type.String()) }),
  },
  { title: 'WebhookAuthProvider' },
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) });

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock } = app.payrail;

  app.get(
    '/config',
    {
      config: { access: ADMIN_ONLY },
      schema: { tags: ['admin'], summary: 'Read the domain configuration', security, response: { 200: ConfigMap, ...errorResponses(401, 403) } },
    },
    async (request) => getConfig(store.db, principalOf(request).domainId),
  );

  app.post(
    '/config',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Set domain configuration keys',
        description:
          'A map of keys to string values, as Powens takes them; unknown keys and bad values are refused and nothing is written. Answers the whole configuration.',
        security,
        body: ConfigMap,
        response: { 200: ConfigMap, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => setConfig(store.db, principalOf(request).domainId, request.body as Record<string, unknown>),
  );

  app.post(
    '/webhooks',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Register a webhook endpoint',
        description: 'Deliveries are signed with the HMAC secret_key returned here, once (BI-Signature, BI-Signature-Date as Powens signs them).',
        security,
        body: Type.Object({
          url: Type.String({ maxLength: 2048 }),
          event: Type.Optional(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e)))),
          id_auth: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'a provider from POST /webhooks/auth' })),
        }),
        response: { 200: Type.Intersect([Endpoint, Type.Object({ secret_key: Type.String() })]), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) =>
      createEndpoint(store.db, clock, principalOf(request).domainId, request.body, {
        keyring: app.payrail.keyring,
        allowPrivate: app.payrail.allowPrivateWebhooks,
      }),
  );

  app.get(
    '/webhooks',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'List webhook endpoints',
        security,
        response: { 200: Type.Object({ webhooks: Type.Array(Endpoint) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ webhooks: await listEndpoints(store.db, principalOf(request).domainId) }),
  );

  app.delete(
    '/webhooks/:id',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Disable a webhook endpoint',
        security,
        params: IdParams,
        response: { 200: Type.Object({ success: Type.Literal('ok') }), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      await disableEndpoint(store.db, principalOf(request).domainId, Number(request.params.id));
      return { success: 'ok' as const };
    },
  );

  app.get(
    '/webhooks/deliveries',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Delivery log',
        description: 'Newest first, each with every attempt (time, HTTP status, duration, error).',
        security,
        querystring: Type.Object({
          payment_id: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
          status: Type.Optional(Type.String({ maxLength: 20, description: 'pending, delivered or failed' })),
          limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
        }),
        response: { 200: Type.Object({ deliveries: Type.Array(Type.Record(Type.String(), Type.Unknown())) }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { payment_id, status, limit } = request.query;
      if (status && !isDeliveryStatus(status)) throw invalid('status', 'must be pending, delivered or failed');
      return {
        deliveries: await listDeliveries(store.db, principalOf(request).domainId, {
          ...(payment_id ? { paymentId: Number(payment_id) } : {}),
          ...(status ? { status } : {}),
          limit: Math.min(Number(limit ?? 100) || 100, 1000),
        }),
      };
    },
  );

  app.post(
    '/webhooks/deliveries/:id/replay',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Send a delivery again',
        security,
        params: IdParams,
        response: { 200: Type.Object({ id: Type.Integer() }), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => ({ id: await replayDelivery(store.db, clock, principalOf(request).domainId, Number(request.params.id)) }),
  );

  app.post(
    '/webhooks/auth',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Create a webhook authentication provider',
        description:
          '`hmac_signature`: deliveries of the endpoints linked to it (id_auth) are signed with the config.secret_key answered here, once. ' +
          '`oauth`: Payrail fetches a bearer token from config.url with the client-credentials grant (HTTP Basic client authentication), caches it until it expires and sends it as `Authorization: Bearer`.',
        security,
        body: Type.Object({
          type: Type.String({ maxLength: 32, description: 'hmac_signature or oauth' }),
          name: Type.String({ maxLength: 200 }),
          config: Type.Optional(
            Type.Object({
              url: Type.Optional(Type.String({ maxLength: 2048 })),
              client_id: Type.Optional(Type.String({ maxLength: 256 })),
              client_secret: Type.Optional(Type.String({ maxLength: 1024 })),
              grant_type: Type.Optional(Type.String({ maxLength: 32 })),
            }),
          ),
        }),
        response: {
          200: Type.Object({
            id: Type.Integer(),
            type: Type.String(),
            name: Type.String(),
            created_at: Type.Integer(),
            config: Type.Object({
              secret_key: Type.Optional(Type.String()),
              url: Type.Optional(Type.String()),
              client_id: Type.Optional(Type.String()),
              grant_type: Type.Optional(Type.String()),
            }),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) =>
      createAuthProvider(store.db, clock, principalOf(request).domainId, request.body, {
        keyring: app.payrail.keyring,
        allowPrivate: app.payrail.allowPrivateWebhooks,
      }),
  );

  app.get(
    '/webhooks/auth',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'List webhook authentication providers',
        description: 'Secrets are never shown again.',
        security,
        response: { 200: Type.Object({ providers: Type.Array(AuthProvider) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ providers: await listAuthProviders(store.db, principalOf(request).domainId) }),
  );

  app.delete(
    '/webhooks/auth/:id',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Delete a webhook authentication provider',
        description: 'Refused while an enabled endpoint uses it.',
        security,
        params: IdParams,
        response: { 200: Type.Object({ success: Type.Literal('ok') }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await deleteAuthProvider(store.db, principalOf(request).domainId, Number(request.params.id));
      return { success: 'ok' as const };
    },
  );
};
