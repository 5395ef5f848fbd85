/**
 * The bank's OAuth 2.0 client (docs/banks.md, "OAuth2 pre-step"): how Payrail authenticates to a
 * bank's authorization server, and the access token many banks want before the first API call
 * (client credentials grant, RFC 6749 §4.4). Configured per bank in its profile's `oauth` key; the
 * secret material (a client secret, the signing key of `private_key_jwt`, the mTLS certificate of
 * `tls_client_auth`) stays inside the bank's transport (http.ts): a connector asks for client
 * authentication (`BankRequest.clientAuth`) and never sees it.
 *
 * The token is kept in memory, per process and per bank, renewed `renew_before_ms` before it
 * expires; a 401 answer forgets it (http.ts renews it and repeats the call once when the call is
 * safe to repeat, never an initiation). It is never stored, and the exchange log blanks it.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { type ClientAuth, clientAuthentication } from './oauth.ts';
import { CLIENT_AUTH_METHODS, type BankOAuthProfile, type ClientAuthMethod } from './types.ts';

export { CLIENT_AUTH_METHODS, type BankOAuthProfile, type ClientAuthMethod };

export class OAuthProfileError extends Error {}

const JWT_ALGS = ['PS256', 'RS256', 'ES256'];

function httpUrl(value: unknown, key: string): string {
  if (typeof value !== 'string') throw new OAuthProfileError(`oauth.${key} must be an absolute http(s) URL`);
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
    return url.toString();
  } catch {
    throw new OAuthProfileError(`oauth.${key} must be an absolute http(s) URL`);
  }
}

const KEYS = ['client_id', 'client_auth', 'token_url', 'scope', 'hosts', 'jwt_alg', 'jwt_kid', 'renew_before_ms'];

/** Checks a profile's raw `oauth` value; throws `OAuthProfileError` naming the key. */
export function checkOAuthProfile(raw: unknown): BankOAuthProfile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new OAuthProfileError('oauth must be an object');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) throw new OAuthProfileError(`oauth.${key} is not a known key (${KEYS.join(', ')})`);
  if (typeof o.client_id !== 'string' || o.client_id.trim() === '' || o.client_id.length > 200)
    throw new OAuthProfileError('oauth.client_id is required (at most 200 characters)');
  if (!CLIENT_AUTH_METHODS.includes(o.client_auth as ClientAuthMethod))
    throw new OAuthProfileError(`oauth.client_auth must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
  const optionalText = (key: string, max: number): string | null => {
    const value = o[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string' || value.length > max) throw new OAuthProfileError(`oauth.${key} must be a string of at most ${max} characters`);
    return value;
  };
  const hosts = o.hosts ?? [];
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(h)))
    throw new OAuthProfileError('oauth.hosts must be a list of host or host:port');
  const jwtAlg = optionalText('jwt_alg', 10);
  if (jwtAlg !== null && !JWT_ALGS.includes(jwtAlg)) throw new OAuthProfileError(`oauth.jwt_alg must be one of ${JWT_ALGS.join(', ')}`);
  const renew = o.renew_before_ms ?? 60_000;
  if (typeof renew !== 'number' || !Number.isInteger(renew) || renew < 0 || renew > 3_600_000)
    throw new OAuthProfileError('oauth.renew_before_ms must be an integer from 0 to 3600000');
  return {
    client_id: o.client_id,
    client_auth: o.client_auth as ClientAuthMethod,
    token_url: o.token_url === undefined || o.token_url === null ? null : httpUrl(o.token_url, 'token_url'),
    scope: optionalText('scope', 500),
    hosts: (hosts as string[]).map((h) => h.toLowerCase()),
    jwt_alg: jwtAlg,
    jwt_kid: optionalText('jwt_kid', 200),
    renew_before_ms: renew,
  };
}

/** What each client authentication needs of the bank's material (checked when a bank is added). */
export function oauthMaterialProblem(
  profile: BankOAuthProfile,
  has: { clientSecret: boolean; signingKey: boolean; clientCert: boolean },
): { field: string; reason: string } | null {
  if ((profile.client_auth === 'client_secret_basic' || profile.client_auth === 'client_secret_post') && !has.clientSecret)
    return { field: 'oauth_client_secret', reason: `oauth.client_auth ${profile.client_auth} needs the client secret (--oauth-client-secret-file)` };
  if (profile.client_auth === 'private_key_jwt' && !has.signingKey)
    return { field: 'signing_key', reason: 'oauth.client_auth private_key_jwt signs with the signing key: give --signing-key and --signing-cert' };
  if (profile.client_auth === 'tls_client_auth' && !has.clientCert)
    return { field: 'client_cert', reason: 'oauth.client_auth tls_client_auth needs the mTLS certificate: give --client-cert and --client-key' };
  return null;
}

/** The opened secrets the client authentication uses; they live only in the bank's transport. */
export interface OAuthMaterial {
  clientSecret?: string | null;
  signingKey?: string | null;
  signingCert?: string | null;
}

/** A bank's OAuth client inside its transport: its authentication, and its token cache when it has a pre-step. */
export interface BankOAuth {
  profile: BankOAuthProfile;
  /** The headers and form fields that authenticate Payrail at `audience` (the token endpoint). */
  authenticate(audience: string, now: number): Promise<{ headers: Record<string, string>; form: Record<string, string> }>;
  /** The pre-step's token cache; null without `token_url`. */
  tokens: ClientTokens | null;
}

function clientAuthOf(profile: BankOAuthProfile, material: OAuthMaterial): ClientAuth {
  switch (profile.client_auth) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (!material.clientSecret) throw new Error(`oauth.client_auth ${profile.client_auth} needs the client secret`);
      return { method: profile.client_auth, secret: material.clientSecret };
    case 'private_key_jwt': {
      if (!material.signingKey) throw new Error('oauth.client_auth private_key_jwt needs the signing key');
      const key: KeyObject = createPrivateKey(material.signingKey);
      const alg = profile.jwt_alg ?? (key.asymmetricKeyType === 'ec' ? 'ES256' : 'PS256');
      const kid = profile.jwt_kid ?? (material.signingCert ? new X509Certificate(material.signingCert).serialNumber.toUpperCase() : 'payrail');
      return { method: 'private_key_jwt', key, kid, alg };
    }
    case 'tls_client_auth':
      return { method: 'tls_client_auth' };
  }
}

export function createBankOAuth(profile: BankOAuthProfile, material: OAuthMaterial): BankOAuth {
  const auth = clientAuthOf(profile, material);
  return {
    profile,
    authenticate: (audience, now) => clientAuthentication(profile.client_id, audience, auth, now),
    tokens: profile.token_url ? new ClientTokens(profile.renew_before_ms) : null,
  };
}

export interface ClientToken {
  value: string;
  /** The answer's `token_type` as the bank wrote it (a bearer token: `Bearer`, `bearer`…); `Bearer` when it wrote none. */
  type: string;
  /** Epoch ms; null: the bank said nothing, the token is used until a 401. */
  expiresAt: number | null;
}

export type TokenFetch = { ok: true; token: ClientToken } | { ok: false; reason: string; unknown: boolean };

/**
 * One bank's client-credentials token, per process. Concurrent calls share one renewal; a token is
 * renewed `renewBeforeMs` (at most half its lifetime) before it expires, and forgotten on a 401.
 */
export class ClientTokens {
  private current: (ClientToken & { renewAt: number | null }) | null = null;
  private inflight: Promise<TokenFetch> | null = null;
  private readonly renewBeforeMs: number;

  constructor(renewBeforeMs: number) {
    this.renewBeforeMs = renewBeforeMs;
  }

  /** The token to send now: the cached one while it is fresh, else one fetched with `fetch` (shared by concurrent callers). */
  async get(now: number, fetch: () => Promise<TokenFetch>, issuedAt: () => number): Promise<TokenFetch> {
    const current = this.current;
    if (current && (current.renewAt === null || now < current.renewAt)) return { ok: true, token: current };
    this.inflight ??= fetch()
      .then((result) => {
        if (result.ok) {
          const { expiresAt } = result.token;
          const issued = issuedAt();
          const lead = expiresAt === null ? 0 : Math.min(this.renewBeforeMs, Math.max(0, (expiresAt - issued) / 2));
          this.current = { ...result.token, renewAt: expiresAt === null ? null : expiresAt - lead };
        }
        return result;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  /** The bank answered 401 to this token: the next call gets a new one. */
  invalidate(value: string): void {
    if (this.current?.value === value) this.current = null;
  }

  /** Forgets the token (tests, a bank whose configuration changed). */
  clear(): void {
    this.current = null;
  }
}

/** The token endpoint's answer (RFC 6749 §5.1) read into a token, or why not. */
export function readTokenAnswer(status: number, body: unknown, now: number): TokenFetch {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (status >= 500 || status === 429) return { ok: false, unknown: true, reason: `token endpoint answered ${status}` };
  if (status !== 200 || typeof b.access_token !== 'string' || b.access_token === '') {
    const error = typeof b.error === 'string' ? b.error.slice(0, 60) : `HTTP ${status}`;
    // The bank's own words say which (no client certificate, a wrong one, a wrong secret): the operator's first clue.
    const words =
      typeof b.error_description === 'string'
        ? b.error_description
            .replace(/\p{Cc}/gu, ' ')
            .trim()
            .slice(0, 200)
        : '';
    const said = words !== '' ? `: ${words}` : '';
    return { ok: false, unknown: false, reason: `the bank's token endpoint refused Payrail's client (${error}${said})` };
  }
  if (typeof b.token_type === 'string' && b.token_type.toLowerCase() !== 'bearer')
    return { ok: false, unknown: false, reason: `the bank's token endpoint gave a ${b.token_type.slice(0, 20)} token, not a bearer token` };
  const expiresIn = typeof b.expires_in === 'number' ? b.expires_in : typeof b.expires_in === 'string' ? Number(b.expires_in) : Number.NaN;
  return {
    ok: true,
    token: {
      value: b.access_token,
      type: typeof b.token_type === 'string' ? b.token_type : 'Bearer',
      expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : null,
    },
  };
}
