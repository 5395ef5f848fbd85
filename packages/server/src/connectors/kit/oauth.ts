/**
 * OAuth 2.0 authorization code (RFC 6749) with PKCE S256 (RFC 7636) and `state`, and the OpenID
 * Connect hybrid flow (`response_type=code id_token`, `nonce`; OpenID Connect Core §3.3), as the
 * connector kit offers them (docs/banks.md, "Consent flows"):
 *
 * 1. `startAuthorization` builds the bank's authorization URL, with a signed request object
 *    (RFC 9101, `typ: oauth-authz-req+jwt`) where the bank wants one (FAPI, UK Open Banking), and
 *    returns what must be kept for the return (`PendingAuthorization`): the connector seals it
 *    into the attempt's data (`sealPending`), never in clear.
 * 2. The payer comes back to Payrail's consent return (`/2.0/consent/return`), in the query or,
 *    for the hybrid flow, in the fragment, which that page forwards; the connector's `bankReturn`
 *    gets the values and calls `checkReturn`: `state` compared in constant time, the bank's error
 *    mapped, and for the hybrid flow the id_token verified (signature against the bank's JWKS,
 *    `iss`, `aud`, `exp`, `nonce`, `c_hash`, `s_hash`) before the code is used.
 * 3. `exchangeCode` sends the code and the PKCE verifier to the token endpoint through the core's
 *    bank HTTP client (attempt row, deadline, redacted exchange log), with the client authenticated
 *    by `client_secret_basic`/`client_secret_post`, `private_key_jwt` (RFC 7523) or
 *    `tls_client_auth` (RFC 8705: the bank's mTLS certificate, nothing in the body); the payer's
 *    token is sealed (`sealToken`) and kept on the attempt for the calls that need it.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { BankHttp, BankResponse, ConnectorContext } from './types.ts';

/** A private key as jose takes it: a JWK with `d`, or a KeyObject/CryptoKey. */
export type SigningKey = import('jose').JWK | import('jose').CryptoKey | import('node:crypto').KeyObject;

export type ClientAuth =
  | { method: 'client_secret_basic' | 'client_secret_post'; secret: string }
  | { method: 'private_key_jwt'; key: SigningKey; kid: string; alg: string }
  /** RFC 8705: the client is the mTLS certificate of the bank's transport; only `client_id` in the body. */
  | { method: 'tls_client_auth' }
  /**
   * The configured bank's own client authentication (client-token.ts), added by the core's HTTP
   * client that holds its secrets (`BankRequest.clientAuth`): the connector never sees them.
   */
  | { method: 'bank' };

export interface OAuthClient {
  clientId: string;
  /** The authorization server's issuer (`iss` of its id_tokens; `aud` of our request objects and client assertions). */
  issuer: string;
  authorizationEndpoint: string;
  /** Absolute URL, from the bank's configuration (never from a bank's answer). */
  tokenEndpoint: string;
  /** Payrail's consent return (`consentReturnUrl`), registered at the bank. */
  redirectUri: string;
  scope: string;
  auth: ClientAuth;
  /** Sign the authorization request as a request object (FAPI, UK Open Banking). */
  requestObject?: { key: SigningKey; kid: string; alg: string } | null;
  /** id_token signature algorithms accepted (default PS256, ES256, RS256). */
  idTokenAlgorithms?: string[];
}

export type OAuthFlow = 'oauth2' | 'oidc-hybrid';

/** What the return needs, kept sealed on the attempt between the authorization request and the return. */
export interface PendingAuthorization {
  flow: OAuthFlow;
  state: string;
  verifier: string;
  nonce: string | null;
}

/** Where the bank sends the payer back (the `redirect_uri` registered at the bank). */
export function consentReturnUrl(baseUrl: string): string {
  return `${baseUrl}/2.0/consent/return`;
}

function random(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * The authorization request. `state` starts with the payment id (`<id>.<random>`) so Payrail's
 * return page finds the payment; only the random part proves anything, checked against the sealed
 * copy. `claims` go into the request object (e.g. `openbanking_intent_id`) or, without one, nowhere.
 */
export async function startAuthorization(
  client: OAuthClient,
  options: { flow: OAuthFlow; paymentId: number; now: number; params?: Record<string, string>; claims?: Record<string, unknown> },
): Promise<{ url: string; pending: PendingAuthorization }> {
  const pending: PendingAuthorization = {
    flow: options.flow,
    state: `${options.paymentId}.${random(24)}`,
    verifier: random(48),
    nonce: options.flow === 'oidc-hybrid' ? random(24) : null,
  };
  const params: Record<string, string> = {
    response_type: options.flow === 'oidc-hybrid' ? 'code id_token' : 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope: options.flow === 'oidc-hybrid' && !client.scope.split(' ').includes('openid') ? `openid ${client.scope}` : client.scope,
    state: pending.state,
    code_challenge: pkceChallenge(pending.verifier),
    code_challenge_method: 'S256',
    ...(pending.nonce ? { nonce: pending.nonce } : {}),
    ...(options.params ?? {}),
  };
  const url = new URL(client.authorizationEndpoint);
  if (client.requestObject) {
    const { SignJWT } = await import('jose');
    const seconds = Math.floor(options.now / 1000);
    const request = await new SignJWT({ ...params, ...(options.claims ? { claims: options.claims } : {}) })
      .setProtectedHeader({ alg: client.requestObject.alg, kid: client.requestObject.kid, typ: 'oauth-authz-req+jwt' })
      .setIssuer(client.clientId)
      .setAudience(client.issuer)
      .setIssuedAt(seconds)
      .setNotBefore(seconds)
      .setExpirationTime(seconds + 300)
      .setJti(randomUUID())
      .sign(client.requestObject.key);
    // RFC 9101 §5: the parameters the bank reads without the object, repeated outside it.
    for (const key of ['response_type', 'client_id', 'scope', 'redirect_uri']) url.searchParams.set(key, params[key]!);
    url.searchParams.set('request', request);
  } else {
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  }
  return { url: url.toString(), pending };
}

/** The payment id a return's `state` names (its prefix), or null: only a hint, proved by `checkReturn`. */
export function paymentIdOfState(state: string | undefined): number | null {
  const id = state?.split('.')[0];
  return id && /^\d{1,15}$/.test(id) ? Number(id) : null;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** OpenID Connect Core §3.3.2.11: the left half of the hash (by the id_token's alg) of the value, base64url. */
export function halfHash(value: string, alg: string): string {
  const bits = alg.endsWith('512') ? 'sha512' : alg.endsWith('384') ? 'sha384' : 'sha256';
  const digest = createHash(bits).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export type ReturnCheck =
  | { ok: true; foreign?: undefined; code: string; idToken: Record<string, unknown> | null }
  /**
   * The `state` is not the one sent: not this payer's answer (forged, or an older attempt's).
   * Nothing may change: the payment keeps waiting for the genuine return.
   */
  | { ok: false; foreign: true }
  /** The payer refused, or the bank's answer for this state cannot be trusted: the payment is rejected with this Powens code. */
  | { ok: false; foreign?: undefined; error_code: string; error_description: string };

/**
 * Checks the bank's return against what was sent. `jwks` is the bank's key set (needed for the
 * hybrid flow). Never trusts a value before `state` matches.
 */
export async function checkReturn(
  client: OAuthClient,
  pending: PendingAuthorization,
  params: Record<string, string>,
  options: { now: number; jwks?: import('jose').JSONWebKeySet | null },
): Promise<ReturnCheck> {
  if (!params.state || !sameText(params.state, pending.state)) return { ok: false, foreign: true };
  if (params.error) {
    const refused = params.error === 'access_denied';
    return {
      ok: false,
      error_code: refused ? 'CancelledByUser' : 'authenticationFailed',
      error_description: (params.error_description ?? (refused ? 'The payer refused at the bank.' : `The bank answered ${params.error}.`)).slice(0, 500),
    };
  }
  if (!params.code) return { ok: false, error_code: 'authenticationFailed', error_description: 'The bank returned no authorization code.' };
  if (pending.flow !== 'oidc-hybrid') return { ok: true, code: params.code, idToken: null };
  if (!params.id_token || !options.jwks) {
    return { ok: false, error_code: 'authenticationFailed', error_description: 'The bank returned no id_token.' };
  }
  const { createLocalJWKSet, jwtVerify } = await import('jose');
  try {
    const { payload, protectedHeader } = await jwtVerify(params.id_token, createLocalJWKSet(options.jwks), {
      issuer: client.issuer,
      audience: client.clientId,
      algorithms: client.idTokenAlgorithms ?? ['PS256', 'ES256', 'RS256'],
      currentDate: new Date(options.now),
      clockTolerance: 60,
      requiredClaims: ['exp', 'iat', 'sub', 'nonce', 'c_hash'],
    });
    if (typeof payload.nonce !== 'string' || !sameText(payload.nonce, pending.nonce ?? '')) throw new Error('nonce');
    if (payload.c_hash !== halfHash(params.code, protectedHeader.alg)) throw new Error('c_hash');
    // FAPI 1.0 Advanced §5.2.2.1: s_hash protects the state; checked whenever the bank sends it.
    if (payload.s_hash !== undefined && payload.s_hash !== halfHash(params.state, protectedHeader.alg)) throw new Error('s_hash');
    return { ok: true, code: params.code, idToken: payload as Record<string, unknown> };
  } catch (error) {
    const what = (error as { claim?: string }).claim ?? (error as Error).message;
    return { ok: false, error_code: 'authenticationFailed', error_description: `The bank's id_token is not valid (${String(what).slice(0, 60)}).` };
  }
}

/** The bank's key set, read through the bank client (its own exchange-log row). */
export async function fetchJwks(http: BankHttp, url: string): Promise<import('jose').JSONWebKeySet | null> {
  const response = await http.send({ operation: 'jwks', method: 'GET', path: '/', url });
  if (response.kind !== 'response' || response.status !== 200) return null;
  const body = response.body as { keys?: unknown };
  return Array.isArray(body?.keys) ? (body as import('jose').JSONWebKeySet) : null;
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_at: number | null;
  refresh_token: string | null;
  scope: string | null;
}

export type Exchange =
  | { kind: 'ok'; token: TokenSet; idToken: string | null }
  | { kind: 'refused'; error: string; description: string; status: number }
  | { kind: 'unknown'; reason: string };

/**
 * The headers and form fields that authenticate client `clientId` at `audience` (the token
 * endpoint: the `aud` of a client assertion). Empty for `bank`: the transport adds them.
 */
export async function clientAuthentication(
  clientId: string,
  audience: string,
  auth: ClientAuth,
  now: number,
): Promise<{ headers: Record<string, string>; form: Record<string, string> }> {
  switch (auth.method) {
    case 'client_secret_basic': {
      // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
      const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
      return { headers: { Authorization: `Basic ${Buffer.from(`${encode(clientId)}:${encode(auth.secret)}`).toString('base64')}` }, form: {} };
    }
    case 'client_secret_post':
      return { headers: {}, form: { client_id: clientId, client_secret: auth.secret } };
    case 'private_key_jwt': {
      const { SignJWT } = await import('jose');
      const seconds = Math.floor(now / 1000);
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: auth.alg, kid: auth.kid })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(audience)
        .setIssuedAt(seconds)
        .setExpirationTime(seconds + 120)
        .setJti(randomUUID())
        .sign(auth.key);
      return {
        headers: {},
        form: { client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion },
      };
    }
    case 'tls_client_auth':
      return { headers: {}, form: { client_id: clientId } };
    case 'bank':
      return { headers: {}, form: {} };
  }
}

/**
 * The authorization code for the payer's token (RFC 6749 §4.1.3, with the PKCE verifier). A lost
 * answer is `unknown`: the code is single-use, so it is never sent twice.
 */
export function exchangeCode(http: BankHttp, client: OAuthClient, input: { code: string; verifier: string; now: number }): Promise<Exchange> {
  const grant = { grant_type: 'authorization_code', code: input.code, redirect_uri: client.redirectUri, code_verifier: input.verifier };
  return tokenRequest(http, client, grant, input.now);
}

/**
 * A client-credentials token (RFC 6749 §4.4), for the calls a bank makes on the client's own
 * behalf (UK Open Banking's consent creation and status reads): asked through the bank client
 * with the client's authentication. Safe to ask again: it creates nothing at the bank.
 */
export function clientCredentials(http: BankHttp, client: OAuthClient, input: { scope: string; now: number }): Promise<Exchange> {
  return tokenRequest(http, client, { grant_type: 'client_credentials', scope: input.scope }, input.now);
}

/** One request to the client's token endpoint with this grant, the client authenticated as configured. */
async function tokenRequest(http: BankHttp, client: OAuthClient, grant: Record<string, string>, now: number): Promise<Exchange> {
  const { headers, form } = await clientAuthentication(client.clientId, client.tokenEndpoint, client.auth, now);
  const response = await http.send({
    operation: 'token',
    method: 'POST',
    path: '/',
    url: client.tokenEndpoint,
    headers,
    ...(client.auth.method === 'bank' ? { clientAuth: true } : {}),
    form: { ...grant, ...form },
  });
  return tokenAnswer(response, now);
}

/** A token endpoint's answer: a token, a refusal (4xx), or unknown (no answer, 5xx). */
function tokenAnswer(response: BankResponse, now: number): Exchange {
  if (response.kind === 'unknown') return { kind: 'unknown', reason: response.reason };
  const body = (response.body ?? {}) as Record<string, unknown>;
  if (response.status >= 500) return { kind: 'unknown', reason: `token endpoint answered ${response.status}` };
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    return {
      kind: 'refused',
      status: response.status,
      error: typeof body.error === 'string' ? body.error : 'invalid_response',
      description: typeof body.error_description === 'string' ? body.error_description.slice(0, 300) : `token endpoint answered ${response.status}`,
    };
  }
  return {
    kind: 'ok',
    idToken: typeof body.id_token === 'string' ? body.id_token : null,
    token: {
      access_token: body.access_token,
      token_type: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
      expires_at: typeof body.expires_in === 'number' ? now + body.expires_in * 1000 : null,
      refresh_token: typeof body.refresh_token === 'string' ? body.refresh_token : null,
      scope: typeof body.scope === 'string' ? body.scope : null,
    },
  };
}

// ---- what is kept between the steps: sealed, on the attempt ----

function vaultOf(ctx: Pick<ConnectorContext, 'vault'>): NonNullable<ConnectorContext['vault']> {
  if (!ctx.vault) throw new Error('this connector context has no vault: secrets cannot be kept');
  return ctx.vault;
}

/** The pending authorization, sealed for the attempt's data (the verifier is a secret). */
export function sealPending(ctx: Pick<ConnectorContext, 'vault'>, pending: PendingAuthorization): string {
  return vaultOf(ctx).seal(JSON.stringify(pending));
}

function openSealed<T>(ctx: Pick<ConnectorContext, 'vault'>, sealed: unknown): T | null {
  if (typeof sealed !== 'string') return null;
  try {
    return JSON.parse(vaultOf(ctx).open(sealed)) as T;
  } catch {
    return null;
  }
}

export function openPending(ctx: Pick<ConnectorContext, 'vault'>, sealed: unknown): PendingAuthorization | null {
  return openSealed<PendingAuthorization>(ctx, sealed);
}

/** The payer's token, sealed for the attempt's data; `openToken` gives it back for a call that needs it. */
export function sealToken(ctx: Pick<ConnectorContext, 'vault'>, token: TokenSet): string {
  return vaultOf(ctx).seal(JSON.stringify(token));
}

export function openToken(ctx: Pick<ConnectorContext, 'vault'>, sealed: unknown): TokenSet | null {
  return openSealed<TokenSet>(ctx, sealed);
}
