/**
 * The authentication headers of one delivery, from the endpoint's provider (docs/reference/powens-pay-api.md §9.4): an HMAC
 * provider's key signs instead of the endpoint's own; an OAuth provider adds `Authorization: Bearer`
 * with a client-credentials token fetched from the merchant's token URL and cached until it expires.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { loadUndici, RefusedAddressError, refusedHost, webhookDispatcher } from './address-policy.ts';

export interface AuthProviderRow {
  id: number;
  type: string;
  config: string;
  secret: string;
}

/** Tokens without `expires_in` are reused this long; every token is renewed this margin before it expires. */
const DEFAULT_TOKEN_TTL_MS = 5 * 60_000;
const EXPIRY_MARGIN_MS = 30_000;
const TOKEN_TIMEOUT_MS = 10_000;

// Per store (tests run several in one process), per provider: the token and when to stop using it.
const tokenCaches = new WeakMap<object, Map<number, { token: string; until: number }>>();

function cacheOf(db: Kysely<Database>) {
  let cache = tokenCaches.get(db);
  if (!cache) {
    cache = new Map();
    tokenCaches.set(db, cache);
  }
  return cache;
}

export async function loadAuthProvider(db: Kysely<Database>, id: number | null): Promise<AuthProviderRow | null> {
  if (id === null) return null;
  return (await db.selectFrom('webhook_auth_providers').select(['id', 'type', 'config', 'secret']).where('id', '=', id).executeTakeFirst()) ?? null;
}

/** Forgets a provider's token (the receiver refused it): the next attempt fetches a new one. */
export function forgetToken(db: Kysely<Database>, providerId: number): void {
  cacheOf(db).delete(providerId);
}

export interface TokenRequest {
  now: number;
  clientSecret: string;
  allowPrivate: boolean;
  timeoutMs?: number;
}

/** A bearer token for an OAuth provider, from the cache or the token URL (client credentials, HTTP Basic as RFC 6749 §2.3.1). */
export async function oauthToken(db: Kysely<Database>, provider: AuthProviderRow, request: TokenRequest): Promise<string> {
  const cache = cacheOf(db);
  const hit = cache.get(provider.id);
  if (hit && hit.until > request.now) return hit.token;
  const config = JSON.parse(provider.config) as { url: string; client_id: string };
  if (refusedHost(new URL(config.url), request.allowPrivate)) throw new RefusedAddressError();
  const basic = Buffer.from(`${encodeURIComponent(config.client_id)}:${encodeURIComponent(request.clientSecret)}`).toString('base64');
  const dispatcher = await webhookDispatcher(request.allowPrivate);
  const { fetch } = await loadUndici();
  const response = await fetch(config.url, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(request.timeoutMs ?? TOKEN_TIMEOUT_MS),
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    dispatcher,
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`oauth token: HTTP ${response.status}`);
  }
  const answer = (await response.json().catch(() => null)) as { access_token?: unknown; token_type?: unknown; expires_in?: unknown } | null;
  if (!answer || typeof answer.access_token !== 'string' || !answer.access_token) throw new Error('oauth token: no access_token in the answer');
  if (typeof answer.token_type === 'string' && answer.token_type.toLowerCase() !== 'bearer') throw new Error('oauth token: token_type is not Bearer');
  const lifetime = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in * 1000 : DEFAULT_TOKEN_TTL_MS;
  cache.set(provider.id, { token: answer.access_token, until: request.now + Math.max(0, lifetime - EXPIRY_MARGIN_MS) });
  return answer.access_token;
}
