/** Service tokens (`POST /auth/token`), payment-scoped tokens and bearer authentication. */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError, invalid, missing } from '../domain/errors.ts';
import { isAdmin, parseScopeParam, SCOPED_TOKEN_SCOPES, type Scope } from '../domain/scopes.ts';
import type { Database } from '../store/schema.ts';
import { findClient } from './clients.ts';
import { newToken, tokenHash, verifySecret } from './secrets.ts';

export const SERVICE_TOKEN_TTL_SECONDS = 30 * 60;
export const SCOPED_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Who is calling: resolved from the bearer token once per request. */
export interface Principal {
  tokenId: number;
  clientRef: number;
  clientId: string;
  domainId: number;
  scopes: readonly string[];
  /** Set when the token is bound to one payment. */
  paymentId: number | null;
  redirectUris: readonly string[];
}

export interface TokenRequest {
  grant_type?: unknown;
  client_id?: unknown;
  client_secret?: unknown;
  scope?: unknown;
}

const BAD_CREDENTIALS = 'client_id or client_secret is wrong';

export async function issueServiceToken(db: Kysely<Database>, clock: Clock, body: TokenRequest) {
  if (body.grant_type === undefined || body.grant_type === null || body.grant_type === '') throw missing('grant_type');
  if (body.grant_type !== 'client_credentials') throw invalid('grant_type', 'only client_credentials is supported');
  if (typeof body.client_id !== 'string' || body.client_id === '') throw missing('client_id');
  if (typeof body.client_secret !== 'string' || body.client_secret === '') throw missing('client_secret');
  const scopes = parseScopeParam(body.scope);

  const client = body.client_id.length <= 200 ? await findClient(db, body.client_id) : undefined;
  // An unknown client and a wrong secret get the same answer, after the same work.
  const ok = await verifySecret(body.client_secret.slice(0, 1024), client?.secret_hash ?? null);
  if (!client || !ok) throw new ApiError('unauthorized', BAD_CREDENTIALS);

  const token = newToken();
  const now = clock.now();
  await db
    .insertInto('tokens')
    .values({
      token_hash: tokenHash(token),
      client_ref: client.id,
      domain_id: client.domain_id,
      scopes: scopes.join(' '),
      payment_id: null,
      expires_at: now + SERVICE_TOKEN_TTL_SECONDS * 1000,
      created_at: now,
    })
    .execute();
  return { token, scope: scopes.join(' '), token_type: 'Bearer' as const, expires_in: SERVICE_TOKEN_TTL_SECONDS };
}

export async function authenticate(db: Kysely<Database>, clock: Clock, token: string): Promise<Principal | null> {
  if (token.length === 0 || token.length > 512) return null;
  const row = await db
    .selectFrom('tokens')
    .innerJoin('clients', 'clients.id', 'tokens.client_ref')
    .select([
      'tokens.id as tokenId',
      'tokens.client_ref as clientRef',
      'tokens.domain_id as domainId',
      'tokens.scopes',
      'tokens.payment_id as paymentId',
      'tokens.expires_at as expiresAt',
      'clients.client_id as clientId',
      'clients.redirect_uris as redirectUris',
    ])
    .where('tokens.token_hash', '=', tokenHash(token))
    .executeTakeFirst();
  if (!row || row.expiresAt <= clock.now()) return null;
  return {
    tokenId: row.tokenId,
    clientRef: row.clientRef,
    clientId: row.clientId,
    domainId: row.domainId,
    scopes: row.scopes.split(' '),
    paymentId: row.paymentId,
    redirectUris: JSON.parse(row.redirectUris) as string[],
  };
}

/**
 * Mints a token bound to one payment (spec §2.3). Admin tokens may grant any non-admin payment
 * scope; a payment's own validate token may only mint another validate token for it.
 */
export async function issueScopedToken(db: Kysely<Database>, clock: Clock, principal: Principal, paymentId: number, scopeParam: unknown) {
  const scopes = parseScopeParam(scopeParam);
  for (const scope of scopes) {
    if (!SCOPED_TOKEN_SCOPES.includes(scope)) {
      throw invalid('scope', `${scope} cannot be granted to a payment-scoped token; allowed: ${SCOPED_TOKEN_SCOPES.join(', ')}`);
    }
    if (!isAdmin(principal.scopes) && !principal.scopes.includes(scope)) {
      throw new ApiError('forbidden', `this token cannot grant ${scope}`, { field: 'scope' });
    }
  }
  const token = newToken();
  const now = clock.now();
  await db
    .insertInto('tokens')
    .values({
      token_hash: tokenHash(token),
      client_ref: principal.clientRef,
      domain_id: principal.domainId,
      scopes: scopes.join(' '),
      payment_id: paymentId,
      expires_at: now + SCOPED_TOKEN_TTL_SECONDS * 1000,
      created_at: now,
    })
    .execute();
  return { token, scope: scopes.join(' '), id_payment: paymentId, expires_in: SCOPED_TOKEN_TTL_SECONDS };
}

export type { Scope };
