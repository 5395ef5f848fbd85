/**
 * Webhook authentication providers (Powens' POST /webhooks/auth, docs/reference/powens-pay-api.md §9.4): `hmac_signature` signs
 * deliveries with a generated key (shown once), `oauth` makes Payrail fetch a bearer token from the
 * merchant's token URL with the client-credentials grant. Secrets are stored sealed, never listed.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError, invalid, missing } from '../domain/errors.ts';
import type { Database, WebhookAuthConfig } from '../store/schema.ts';
import { refusedUrlMessage, refusedWebhookHost } from './address-policy.ts';
import { checkEndpointUrl, type EndpointPolicy } from './endpoint-url.ts';
import { sealSecret } from '../services/secret-box.ts';
import { readJson } from '../store/rows.ts';

export const AUTH_TYPES = ['hmac_signature', 'oauth'] as const;
export const AUTH_PROVIDERS_MAX = 100;

function text(value: unknown, field: string, max: number): string {
  if (value === undefined || value === null || value === '') throw missing(field);
  if (typeof value !== 'string' || value.length > max) throw invalid(field, `must be a string of at most ${max} characters`);
  return value;
}

async function checkOauthConfig(config: Record<string, unknown>, policy: EndpointPolicy): Promise<{ shown: WebhookAuthConfig; secret: string }> {
  const url = checkEndpointUrl(config.url, 'config.url');
  const refused = await refusedWebhookHost(new URL(url), policy.allowPrivate);
  if (refused) throw invalid('config.url', refusedUrlMessage(refused, policy.allowPrivate));
  const grant = config.grant_type ?? 'client_credentials';
  if (grant !== 'client_credentials') throw invalid('config.grant_type', 'must be "client_credentials"');
  const clientId = text(config.client_id, 'config.client_id', 256);
  const secret = text(config.client_secret, 'config.client_secret', 1024);
  return { shown: { url, client_id: clientId, grant_type: grant }, secret };
}

export async function createAuthProvider(
  db: Kysely<Database>,
  clock: Clock,
  domainId: number,
  input: { type?: unknown; name?: unknown; config?: unknown },
  policy: EndpointPolicy,
) {
  const type = input.type;
  if (typeof type !== 'string' || !(AUTH_TYPES as readonly string[]).includes(type)) throw invalid('type', `must be one of ${AUTH_TYPES.join(', ')}`);
  const name = text(input.name, 'name', 200);
  const config = (input.config ?? {}) as Record<string, unknown>;
  if (typeof config !== 'object' || Array.isArray(config)) throw invalid('config', 'must be an object');
  const count = await db
    .selectFrom('webhook_auth_providers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('domain_id', '=', domainId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= AUTH_PROVIDERS_MAX)
    throw invalid('type', `a domain has at most ${AUTH_PROVIDERS_MAX} webhook authentication providers; delete one first`);
  let shown: WebhookAuthConfig = {};
  let secret: string;
  if (type === 'oauth') ({ shown, secret } = await checkOauthConfig(config, policy));
  else secret = randomBytes(32).toString('base64url');
  const created_at = clock.now();
  const { id } = await db
    .insertInto('webhook_auth_providers')
    .values({ domain_id: domainId, name, type, config: JSON.stringify(shown), secret: sealSecret(policy.keyring, secret), created_at })
    .returning('id')
    .executeTakeFirstOrThrow();
  // The generated HMAC key is answered once, as Powens does; an OAuth client secret came from the caller.
  return { id, type, name, config: type === 'hmac_signature' ? { secret_key: secret } : shown, created_at };
}

export async function listAuthProviders(db: Kysely<Database>, domainId: number) {
  const rows = await db
    .selectFrom('webhook_auth_providers')
    .select(['id', 'type', 'name', 'config', 'created_at'])
    .where('domain_id', '=', domainId)
    .orderBy('id')
    .limit(AUTH_PROVIDERS_MAX)
    .execute();
  return rows.map((r) => ({ ...r, config: readJson(r.config) }));
}

/** Checks that a provider belongs to the domain (linking an endpoint to it). */
export async function checkAuthProvider(db: Kysely<Database>, domainId: number, value: unknown): Promise<number | null> {
  if (value === undefined || value === null) return null;
  const id = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw invalid('id_auth', 'must be the id of a webhook authentication provider');
  const row = await db.selectFrom('webhook_auth_providers').select('id').where('id', '=', id).where('domain_id', '=', domainId).executeTakeFirst();
  if (!row) throw invalid('id_auth', `no webhook authentication provider ${id}`);
  return id;
}

/** Deletes a provider; refused while an enabled endpoint uses it (its deliveries would lose their authentication). */
export async function deleteAuthProvider(db: Kysely<Database>, domainId: number, id: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('webhook_auth_providers').select('id').where('id', '=', id).where('domain_id', '=', domainId).executeTakeFirst();
    if (!row) throw new ApiError('notFound', `no webhook authentication provider ${id}`, { field: 'id' });
    const used = await trx.selectFrom('webhook_endpoints').select('id').where('auth_id', '=', id).where('enabled', '=', 1).executeTakeFirst();
    if (used) throw invalid('id', `is used by webhook endpoint ${used.id}; delete that endpoint first`);
    await trx.updateTable('webhook_endpoints').set({ auth_id: null }).where('auth_id', '=', id).execute();
    await trx.deleteFrom('webhook_auth_providers').where('id', '=', id).execute();
  });
}
