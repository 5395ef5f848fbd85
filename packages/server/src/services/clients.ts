/** Domains (tenants) and the client applications that belong to them. */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { invalid } from '../domain/errors.ts';
import { parseAbsoluteUrl } from '../domain/urls.ts';
import type { ClientRow, Database } from '../store/schema.ts';
import { hashSecret } from './secrets.ts';

export const DEFAULT_DOMAIN = 'default';

export interface CreatedClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  name: string;
  domain: string;
}

/** A redirect URI a client may register: absolute, no query string, no fragment, no javascript:/data:. */
export function checkRegisteredRedirectUri(uri: string): string {
  const { url } = parseAbsoluteUrl(uri, 'redirect_uri');
  if (['javascript:', 'data:', 'vbscript:', 'file:'].includes(url.protocol)) throw invalid('redirect_uri', `${url.protocol} URLs are not allowed`);
  if (url.search || uri.includes('?')) throw invalid('redirect_uri', `${uri} must not contain a query string`);
  if (url.hash || uri.includes('#')) throw invalid('redirect_uri', `${uri} must not contain a fragment`);
  return uri;
}

export async function ensureDomain(db: Kysely<Database>, name: string, now: number): Promise<number> {
  const existing = await db.selectFrom('domains').select('id').where('name', '=', name).executeTakeFirst();
  if (existing) return existing.id;
  const row = await db.insertInto('domains').values({ name, created_at: now }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function countClients(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('clients')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function createClient(
  db: Kysely<Database>,
  options: { name: string; redirectUris: string[]; domain?: string; now: number; clientId?: string; clientSecret?: string },
): Promise<CreatedClient> {
  if (!options.name.trim()) throw invalid('name', 'must not be empty');
  const redirectUris = [...new Set(options.redirectUris.map(checkRegisteredRedirectUri))];
  const domain = options.domain ?? DEFAULT_DOMAIN;
  const domainId = await ensureDomain(db, domain, options.now);
  const client_id = options.clientId ?? randomBytes(12).toString('hex');
  const client_secret = options.clientSecret ?? randomBytes(32).toString('base64url');
  await db
    .insertInto('clients')
    .values({
      domain_id: domainId,
      client_id,
      secret_hash: await hashSecret(client_secret),
      name: options.name.trim(),
      redirect_uris: JSON.stringify(redirectUris),
      created_at: options.now,
    })
    .execute();
  return { client_id, client_secret, redirect_uris: redirectUris, name: options.name.trim(), domain };
}

export async function findClient(db: Kysely<Database>, clientId: string): Promise<ClientRow | undefined> {
  return db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}
