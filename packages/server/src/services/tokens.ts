/** Service tokens (`POST /auth/token`), payment-scoped tokens and bearer authentication. */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError, invalid, missing } from '../domain/errors.ts';
import { isAdmin, parseScopeParam, SCOPED_TOKEN_SCOPES, type Scope } from '../domain/scopes.ts';
import { FINAL_STATES, type PaymentState } from '../domain/states.ts';
import type { Database } from '../store/schema.ts';
import { precompile } from '../store/precompiled.ts';
import { findClient } from './clients.ts';
import { newToken, tokenHash, verifySecret } from './secrets.ts';
import { readJson } from '../store/rows.ts';

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
  expiresAt: number;
}

export interface TokenRequest {
  grant_type?: unknown;
  client_id?: unknown;
  client_secret?: unknown;
  scope?: unknown;
}

const insertToken = precompile((db, $) =>
  db.insertInto('tokens').values($.row(['token_hash', 'client_ref', 'domain_id', 'scopes', 'payment_id', 'expires_at', 'created_at'] as const)),
);

/** Creates a random token and stores only its hash; returns the token, which is shown once. */
async function storeToken(
  db: Kysely<Database>,
  clock: Clock,
  grant: { clientRef: number; domainId: number; scopes: readonly string[]; paymentId: number | null; ttlSeconds: number },
): Promise<string> {
  const token = newToken();
  const now = clock.now();
  await insertToken.execute(db, {
    token_hash: tokenHash(token),
    client_ref: grant.clientRef,
    domain_id: grant.domainId,
    scopes: grant.scopes.join(' '),
    payment_id: grant.paymentId,
    expires_at: now + grant.ttlSeconds * 1000,
    created_at: now,
  });
  return token;
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

  const token = await storeToken(db, clock, {
    clientRef: client.id,
    domainId: client.domain_id,
    scopes,
    paymentId: null,
    ttlSeconds: SERVICE_TOKEN_TTL_SECONDS,
  });
  return { token, scope: scopes.join(' '), token_type: 'Bearer' as const, expires_in: SERVICE_TOKEN_TTL_SECONDS };
}

/**
 * Authenticated principals are kept a few seconds per store, so that a burst of requests with one
 * token costs one lookup. An entry never outlives its token, and the cache is bounded.
 */
const PRINCIPAL_CACHE_MS = 5_000;
const PRINCIPAL_CACHE_MAX = 10_000;
const principalCaches = new WeakMap<object, Map<string, { principal: Principal; until: number }>>();

function principalCache(db: Kysely<Database>): Map<string, { principal: Principal; until: number }> {
  let cache = principalCaches.get(db);
  if (!cache) {
    cache = new Map();
    principalCaches.set(db, cache);
  }
  return cache;
}

/** The cached principal of a token (without a database read), or undefined when not cached (or stale). */
export function cachedPrincipal(db: Kysely<Database>, clock: Clock, token: string): Principal | undefined {
  if (token.length === 0 || token.length > 512) return undefined;
  const cached = principalCache(db).get(tokenHash(token));
  return cached && cached.until > clock.now() ? cached.principal : undefined;
}

export async function authenticate(db: Kysely<Database>, clock: Clock, token: string): Promise<Principal | null> {
  if (token.length === 0 || token.length > 512) return null;
  const hash = tokenHash(token);
  const now = clock.now();
  const cache = principalCache(db);
  const cached = cache.get(hash);
  if (cached && cached.until > now) return cached.principal;
  if (cached) cache.delete(hash);
  const principal = await lookupPrincipal(db, hash, now);
  if (principal) {
    if (cache.size >= PRINCIPAL_CACHE_MAX) cache.clear();
    cache.set(hash, { principal, until: Math.min(now + PRINCIPAL_CACHE_MS, principal.expiresAt) });
  }
  return principal;
}

/** Was this token real but is now past its expiry? (The webview tells the payer their link expired.) */
export async function tokenExpired(db: Kysely<Database>, clock: Clock, token: string): Promise<boolean> {
  if (token.length === 0 || token.length > 512) return false;
  const row = await db.selectFrom('tokens').select('expires_at').where('token_hash', '=', tokenHash(token)).executeTakeFirst();
  return row !== undefined && row.expires_at <= clock.now();
}

const selectPrincipal = precompile((db, $) =>
  db
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
    .where('tokens.token_hash', '=', $('hash')),
);

async function lookupPrincipal(db: Kysely<Database>, hash: string, now: number): Promise<Principal | null> {
  const row = (await selectPrincipal.execute(db, { hash })).rows[0];
  if (!row || row.expiresAt <= now) return null;
  return Object.freeze({
    tokenId: row.tokenId,
    clientRef: row.clientRef,
    clientId: row.clientId,
    domainId: row.domainId,
    scopes: row.scopes.split(' '),
    paymentId: row.paymentId,
    redirectUris: readJson(row.redirectUris),
    expiresAt: row.expiresAt,
  });
}

/**
 * Mints a token bound to one payment (docs/reference/powens-pay-api.md §2.3). Admin tokens may grant any non-admin payment
 * scope; a payment's own validate token may only mint another validate token for it.
 */
export async function issueScopedToken(
  db: Kysely<Database>,
  clock: Clock,
  principal: Principal,
  payment: { id: number; state: PaymentState },
  scopeParam: unknown,
) {
  const paymentId = payment.id;
  const scopes = parseScopeParam(scopeParam);
  const selfMinted = principal.paymentId !== null;
  // A payment's own token renews nothing: not once the payment is final, and never past its own expiry.
  if (selfMinted && FINAL_STATES.has(payment.state)) {
    throw new ApiError('forbidden', `payment ${paymentId} is ${payment.state}: its tokens cannot mint new ones`);
  }
  for (const scope of scopes) {
    if (!SCOPED_TOKEN_SCOPES.includes(scope)) {
      throw invalid('scope', `${scope} cannot be granted to a payment-scoped token; allowed: ${SCOPED_TOKEN_SCOPES.join(', ')}`);
    }
    if (!isAdmin(principal.scopes) && !principal.scopes.includes(scope)) {
      throw new ApiError('forbidden', `this token cannot grant ${scope}`, { field: 'scope' });
    }
  }
  const ttlSeconds = selfMinted ? Math.floor((principal.expiresAt - clock.now()) / 1000) : SCOPED_TOKEN_TTL_SECONDS;
  if (ttlSeconds <= 0) throw new ApiError('unauthorized', 'The token is invalid or has expired.');
  const token = await storeToken(db, clock, { clientRef: principal.clientRef, domainId: principal.domainId, scopes, paymentId, ttlSeconds });
  return { token, scope: scopes.join(' '), id_payment: paymentId, expires_in: ttlSeconds };
}

export type { Scope };
