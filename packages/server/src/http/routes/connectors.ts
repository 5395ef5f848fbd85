/** `GET /2.0/connectors` and `GET /2.0/connectors/{uuid}` (spec §10): no authentication needed. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError, invalid } from '../../domain/errors.ts';
import { isCompatible } from '../../domain/compatibility.ts';
import type { Connector } from '../../connectors/types.ts';
import { compatibilityOf } from '../../services/payment-actions.ts';
import { getPayment } from '../../services/payments.ts';
import { authenticate } from '../../services/tokens.ts';
import { bearerToken, checkAccess } from '../access.ts';
import { ACCESS } from './payments.ts';
import { errorResponses } from '../schemas.ts';

const EXPANDS = ['payment_fields', 'countries', 'fields', 'sources', 'urls'] as const;
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

export function connectorView(connector: Connector, expand: readonly string[]): Record<string, unknown> {
  const d = connector.descriptor;
  const view: Record<string, unknown> = {
    id: d.id, uuid: d.uuid, name: d.name, hidden: d.hidden, charged: false, code: null, beta: d.beta, color: d.color, slug: d.slug,
    restricted: false, capabilities: d.capabilities, products: d.products, auth_mechanism: 'webauth', transfer_mechanism: 'webauth',
    available_auth_mechanisms: ['webauth'], payment_settings: d.payment_settings,
  };
  if (expand.includes('payment_fields')) view.payment_fields = d.payment_fields.map((f) => ({ ...f, auth_mechanisms: f.auth_mechanisms ?? ['webauth'], connector_sources: [] }));
  if (expand.includes('countries')) view.countries = d.countries.map((id) => ({ id, name: regionNames.of(id) ?? id }));
  if (expand.includes('fields')) view.fields = [];
  if (expand.includes('sources')) view.sources = [];
  if (expand.includes('urls')) view.urls = [];
  return view;
}

function parseExpand(value: string | undefined): string[] {
  if (!value) return [];
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!(EXPANDS as readonly string[]).includes(item)) throw invalid('expand', `must be among ${EXPANDS.join(', ')}`);
  return items;
}

const Query = Type.Object({
  country_codes: Type.Optional(Type.String({ maxLength: 512, description: 'Comma-separated ISO 3166 alpha-2 codes.' })),
  id_payment: Type.Optional(Type.String({ maxLength: 20, description: 'Only connectors compatible with this payment (needs a token that can read it).' })),
  expand: Type.Optional(Type.String({ maxLength: 200, description: `Comma-separated: ${EXPANDS.join(', ')}.` })),
  top: Type.Optional(Type.String({ maxLength: 10 })),
  top_key: Type.Optional(Type.String({ maxLength: 20 })),
});

export const connectorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, connectors: registry } = app.payrail;

  app.get(
    '/connectors',
    {
      config: { access: 'public' },
      schema: {
        tags: ['connectors'],
        summary: 'List banks',
        description: 'Pay connectors, filtered by country and (with id_payment and a token that can read that payment) by compatibility with a payment.',
        querystring: Query,
        response: { 200: Type.Object({ connectors: Type.Array(Type.Record(Type.String(), Type.Unknown())), total: Type.Integer() }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const expand = parseExpand(request.query.expand);
      let connectors = (await registry.list()).filter((c) => !c.descriptor.hidden);
      if (request.query.country_codes) {
        const codes = request.query.country_codes.toUpperCase().split(',').map((s) => s.trim()).filter(Boolean);
        connectors = connectors.filter((c) => c.descriptor.countries.some((country) => codes.includes(country)));
      }
      if (request.query.id_payment) {
        if (!/^\d{1,15}$/.test(request.query.id_payment)) throw invalid('id_payment', 'must be a payment id');
        const token = bearerToken(request);
        const principal = token ? await authenticate(store.db, clock, token) : null;
        if (!principal) throw new ApiError('unauthorized', 'id_payment needs a bearer token that can read the payment');
        checkAccess(principal, ACCESS.getPayment, request.query.id_payment);
        const record = await getPayment(store.db, principal.domainId, Number(request.query.id_payment));
        connectors = connectors.filter((c) => isCompatible(compatibilityOf(record, c, clock.now())));
      }
      return { connectors: connectors.map((c) => connectorView(c, expand)), total: connectors.length };
    },
  );

  app.get(
    '/connectors/:uuid',
    {
      config: { access: 'public' },
      schema: {
        tags: ['connectors'],
        summary: 'One bank',
        description: 'A connector by UUID (or its deprecated numeric id), with optional expands such as payment_fields.',
        params: Type.Object({ uuid: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ expand: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { uuid } = request.params;
      const connector = /^\d{1,9}$/.test(uuid) ? await registry.byId(Number(uuid)) : await registry.byUuid(uuid);
      if (!connector) throw new ApiError('notFound', `no connector ${uuid}`, { field: 'uuid' });
      return connectorView(connector, parseExpand(request.query.expand));
    },
  );
};
