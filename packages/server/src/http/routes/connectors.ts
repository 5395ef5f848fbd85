/**
 * `GET /2.0/connectors`, `GET /2.0/connectors/{uuid}` and `GET /2.0/connectors/{uuid}/sources`
 * (docs/reference/powens-pay-api.md §10): public, as Powens documents them. A bearer token, if sent, is ignored; `id_payment`
 * only filters the list (it reveals no field of the payment).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError, invalid } from '../../domain/errors.ts';
import type { PaymentSettings } from '../../connectors/types.ts';
import { isCompatible } from '../../domain/compatibility.ts';
import type { ConnectorRegistry } from '../../connectors/registry.ts';
import type { Connector } from '../../connectors/types.ts';
import { compatibilityOf } from '../../services/payment-actions.ts';
import { getPayment } from '../../services/payments.ts';
import { errorResponses } from '../schemas.ts';

// payment_settings is always present on Pay connectors; the expand is accepted as Powens' clients send it.
const EXPANDS = ['payment_fields', 'payment_settings', 'countries', 'fields', 'sources', 'urls'] as const;
// Made on first use: ICU's display names cost start-up time and memory (docs/performance.md).
let regionNames: Intl.DisplayNames | null = null;

export function connectorView(connector: Connector, expand: readonly string[]): Record<string, unknown> {
  const d = connector.descriptor;
  const view: Record<string, unknown> = {
    id: d.id,
    uuid: d.uuid,
    name: d.name,
    hidden: d.hidden,
    charged: false,
    code: null,
    beta: d.beta,
    color: d.color,
    slug: d.slug,
    restricted: false,
    capabilities: d.capabilities,
    products: d.products,
    auth_mechanism: 'webauth',
    transfer_mechanism: 'webauth',
    available_auth_mechanisms: ['webauth'],
    payment_settings: settingsView(d.payment_settings),
  };
  if (expand.includes('payment_fields'))
    view.payment_fields = d.payment_fields.map((f) => ({ ...f, auth_mechanisms: f.auth_mechanisms ?? ['webauth'], connector_sources: [] }));
  if (expand.includes('countries')) {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
    const names = regionNames;
    view.countries = d.countries.map((id) => ({ id, name: names.of(id) ?? id }));
  }
  if (expand.includes('fields')) view.fields = [];
  if (expand.includes('sources')) view.sources = sourcesOf(connector);
  if (expand.includes('urls')) view.urls = [];
  return view;
}

/** Amounts are JSON numbers, as Powens prints them, written from their exact decimal text. */
function settingsView(settings: PaymentSettings): Record<string, unknown> {
  const amounts = (value: PaymentSettings['minimum_amount']) =>
    value === null ? null : Object.fromEntries(Object.entries(value).map(([type, amount]) => [type, JSON.rawJSON(amount)]));
  return { ...settings, minimum_amount: amounts(settings.minimum_amount), maximum_amount: amounts(settings.maximum_amount) };
}

/**
 * A connector's sources (Powens' ConnectorSource): Payrail's connectors have one, the bank's open
 * API (`openapi`), through which every payment goes.
 */
export function sourcesOf(connector: Connector): Record<string, unknown>[] {
  const d = connector.descriptor;
  return [
    {
      id: d.id,
      id_connector: d.id,
      name: 'openapi',
      priority: 1,
      auth_mechanism: 'webauth',
      available_auth_mechanisms: ['webauth'],
      disabled: null,
      capabilities: d.capabilities,
      products: d.products,
    },
  ];
}

async function findConnector(registry: ConnectorRegistry, uuid: string): Promise<Connector> {
  const connector = /^\d{1,9}$/.test(uuid) ? await registry.byId(Number(uuid)) : await registry.byUuid(uuid);
  if (!connector) throw new ApiError('notFound', `no connector ${uuid}`, { field: 'uuid' });
  return connector;
}

function parseExpand(value: string | undefined): string[] {
  if (!value) return [];
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) if (!(EXPANDS as readonly string[]).includes(item)) throw invalid('expand', `must be among ${EXPANDS.join(', ')}`);
  return items;
}

const Query = Type.Object({
  country_codes: Type.Optional(Type.String({ maxLength: 512, description: 'Comma-separated ISO 3166 alpha-2 codes.' })),
  id_payment: Type.Optional(Type.String({ maxLength: 20, description: 'Only connectors compatible with this payment (no token needed).' })),
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
        description: 'Pay connectors, filtered by country and by compatibility with a payment (id_payment). No authentication.',
        querystring: Query,
        response: {
          200: Type.Object({ connectors: Type.Array(Type.Record(Type.String(), Type.Unknown())), total: Type.Integer() }),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      const expand = parseExpand(request.query.expand);
      let connectors = (await registry.list()).filter((c) => !c.descriptor.hidden);
      if (request.query.country_codes) {
        const codes = request.query.country_codes
          .toUpperCase()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        connectors = connectors.filter((c) => c.descriptor.countries.some((country) => codes.includes(country)));
      }
      if (request.query.id_payment) {
        if (!/^\d{1,15}$/.test(request.query.id_payment)) throw invalid('id_payment', 'must be a payment id');
        // Public, as documented: the payment only filters the list, whatever token (if any) is sent.
        const row = await store.db.selectFrom('payments').select(['id', 'domain_id']).where('id', '=', Number(request.query.id_payment)).executeTakeFirst();
        if (!row) throw new ApiError('notFound', `payment ${request.query.id_payment} does not exist`, { field: 'id_payment' });
        const record = await getPayment(store.db, row.domain_id, row.id);
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
    async (request) => connectorView(await findConnector(registry, request.params.uuid), parseExpand(request.query.expand)),
  );

  app.get(
    '/connectors/:uuid/sources',
    {
      config: { access: 'public' },
      schema: {
        tags: ['connectors'],
        summary: "A bank's sources",
        description: "The connector's sources (Powens' ConnectorSource); Payrail's connectors have one, openapi. No authentication.",
        params: Type.Object({ uuid: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ sources: Type.Array(Type.Record(Type.String(), Type.Unknown())), total: Type.Integer() }), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const sources = sourcesOf(await findConnector(registry, request.params.uuid));
      return { sources, total: sources.length };
    },
  );
};
