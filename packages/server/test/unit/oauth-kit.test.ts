/**
 * The connector kit's OAuth 2.0 / OpenID Connect pieces (connectors/kit/oauth.ts), without a
 * network: the authorization request, the checks of a return (state, error, id_token signature,
 * iss, aud, nonce, c_hash, s_hash) and the token exchange's client authentication.
 */
import { describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import {
  checkReturn,
  exchangeCode,
  halfHash,
  type OAuthClient,
  openPending,
  pkceChallenge,
  sealPending,
  startAuthorization,
} from '../../src/connectors/kit/oauth.ts';
import type { BankHttp, BankRequest } from '../../src/connectors/kit/types.ts';
import { redactBody, redactForm } from '../../src/connectors/kit/redact.ts';
import { consentVault } from '../../src/services/consent-vault.ts';

const NOW = Date.parse('2026-03-02T10:00:00Z');

async function keys() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' } as JWK;
  return { privateKey, publicKey, jwk };
}

function client(overrides: Partial<OAuthClient> = {}): OAuthClient {
  return {
    clientId: 'client-1',
    issuer: 'https://as.bank.example',
    authorizationEndpoint: 'https://as.bank.example/authorize?tenant=7',
    tokenEndpoint: 'https://as.bank.example/token',
    redirectUri: 'https://pay.example/2.0/consent/return',
    scope: 'payments',
    auth: { method: 'client_secret_basic', secret: 's3cr:et é' },
    idTokenAlgorithms: ['ES256'],
    ...overrides,
  };
}

/** A BankHttp that records the request and answers what it is told. */
function recordingHttp(answer: { status: number; body: unknown } | 'lost'): BankHttp & { sent: BankRequest[] } {
  const sent: BankRequest[] = [];
  return {
    sent,
    async send(request) {
      sent.push(request);
      if (answer === 'lost') return { kind: 'unknown', reason: 'timeout', requestId: 'r1' };
      return { kind: 'response', status: answer.status, headers: {}, body: answer.body, requestId: 'r1' };
    },
  };
}

describe('connector kit: OAuth 2.0 and OpenID Connect', () => {
  it('computes the PKCE S256 challenge of RFC 7636, appendix B', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('builds a code request with state and PKCE, keeping the endpoint’s own query', async () => {
    const { url, pending } = await startAuthorization(client(), { flow: 'oauth2', paymentId: 42, now: NOW });
    const u = new URL(url);
    expect(u.searchParams.get('tenant')).toBe('7');
    expect(u.searchParams.get('response_type')).toBe('code');
    expect(u.searchParams.get('state')).toBe(pending.state);
    expect(pending.state).toMatch(/^42\.[A-Za-z0-9_-]{32}$/);
    expect(u.searchParams.get('code_challenge')).toBe(pkceChallenge(pending.verifier));
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');
    expect(u.searchParams.get('nonce')).toBeNull();
    expect(pending.verifier.length).toBeGreaterThanOrEqual(43);
  });

  it('signs a hybrid request object (typ oauth-authz-req+jwt) carrying nonce, state, PKCE and the claims', async () => {
    const k = await keys();
    const c = client({ requestObject: { key: k.privateKey, kid: 'k1', alg: 'ES256' } });
    const { url, pending } = await startAuthorization(c, {
      flow: 'oidc-hybrid',
      paymentId: 7,
      now: NOW,
      claims: { id_token: { openbanking_intent_id: { value: 'I-1' } } },
    });
    const u = new URL(url);
    expect(u.searchParams.get('response_type')).toBe('code id_token');
    expect(u.searchParams.get('scope')).toBe('openid payments');
    expect(u.searchParams.get('state')).toBeNull(); // only inside the signed object
    const request = u.searchParams.get('request')!;
    expect(decodeProtectedHeader(request)).toMatchObject({ alg: 'ES256', kid: 'k1', typ: 'oauth-authz-req+jwt' });
    const { payload } = await jwtVerify(request, k.publicKey, { issuer: 'client-1', audience: 'https://as.bank.example', currentDate: new Date(NOW) });
    expect(payload).toMatchObject({
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: pkceChallenge(pending.verifier),
      claims: { id_token: { openbanking_intent_id: { value: 'I-1' } } },
    });
  });

  it('ignores a return whose state differs (foreign), maps access_denied to CancelledByUser, needs a code', async () => {
    const { pending } = await startAuthorization(client(), { flow: 'oauth2', paymentId: 1, now: NOW });
    expect(await checkReturn(client(), pending, { state: `${pending.state}x`, code: 'c' }, { now: NOW })).toEqual({ ok: false, foreign: true });
    expect(await checkReturn(client(), pending, { code: 'c' }, { now: NOW })).toEqual({ ok: false, foreign: true });
    expect(await checkReturn(client(), pending, { state: pending.state, error: 'access_denied' }, { now: NOW })).toMatchObject({
      ok: false,
      error_code: 'CancelledByUser',
    });
    expect(await checkReturn(client(), pending, { state: pending.state }, { now: NOW })).toMatchObject({ ok: false });
    expect(await checkReturn(client(), pending, { state: pending.state, code: 'abc' }, { now: NOW })).toMatchObject({ ok: true, code: 'abc', idToken: null });
  });

  it('verifies the hybrid id_token: signature, iss, aud, nonce, c_hash, s_hash', async () => {
    const bank = await keys();
    const other = await keys();
    const { pending } = await startAuthorization(client(), { flow: 'oidc-hybrid', paymentId: 3, now: NOW });
    const code = 'the-code';
    const token = async (claims: Record<string, unknown>, key = bank.privateKey) =>
      new SignJWT({
        iss: 'https://as.bank.example',
        aud: 'client-1',
        sub: 'payer',
        iat: Math.floor(NOW / 1000),
        exp: Math.floor(NOW / 1000) + 300,
        nonce: pending.nonce,
        c_hash: halfHash(code, 'ES256'),
        s_hash: halfHash(pending.state, 'ES256'),
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .sign(key);
    const jwks = { keys: [bank.jwk] };
    const check = async (id_token: string) => checkReturn(client(), pending, { state: pending.state, code, id_token }, { now: NOW, jwks });
    const good = await check(await token({}));
    expect(good.ok).toBe(true);
    for (const bad of [
      await token({ nonce: 'another' }),
      await token({ c_hash: halfHash('other-code', 'ES256') }),
      await token({ s_hash: halfHash('other-state', 'ES256') }),
      await token({ iss: 'https://evil.example' }),
      await token({ aud: 'someone-else' }),
      await token({}, other.privateKey),
    ]) {
      expect(await check(bad)).toMatchObject({ ok: false, error_code: 'authenticationFailed' });
    }
    expect(await checkReturn(client(), pending, { state: pending.state, code }, { now: NOW, jwks })).toMatchObject({ ok: false });
  });

  it('authenticates the client at the token endpoint: client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth', async () => {
    const ok = { status: 200, body: { access_token: 'at', token_type: 'Bearer', expires_in: 60 } };
    const basic = recordingHttp(ok);
    const result = await exchangeCode(basic, client(), { code: 'c1', verifier: 'v1', now: NOW });
    expect(result).toMatchObject({ kind: 'ok', token: { access_token: 'at', expires_at: NOW + 60_000 } });
    expect(basic.sent[0]).toMatchObject({ operation: 'token', method: 'POST', url: 'https://as.bank.example/token' });
    expect(basic.sent[0]!.form).toEqual({
      grant_type: 'authorization_code',
      code: 'c1',
      redirect_uri: 'https://pay.example/2.0/consent/return',
      code_verifier: 'v1',
    });
    expect(Buffer.from(basic.sent[0]!.headers!.Authorization!.slice(6), 'base64').toString()).toBe('client-1:s3cr%3Aet+%C3%A9');

    const post = recordingHttp(ok);
    await exchangeCode(post, client({ auth: { method: 'client_secret_post', secret: 'p' } }), { code: 'c', verifier: 'v', now: NOW });
    expect(post.sent[0]!.form).toMatchObject({ client_id: 'client-1', client_secret: 'p' });

    const k = await keys();
    const jwt = recordingHttp(ok);
    await exchangeCode(jwt, client({ auth: { method: 'private_key_jwt', key: k.privateKey, kid: 'k1', alg: 'ES256' } }), {
      code: 'c',
      verifier: 'v',
      now: NOW,
    });
    const form = jwt.sent[0]!.form!;
    expect(form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const { payload } = await jwtVerify(form.client_assertion!, await importJWK(k.jwk, 'ES256'), { currentDate: new Date(NOW) });
    expect(payload).toMatchObject({ iss: 'client-1', sub: 'client-1', aud: 'https://as.bank.example/token' });
    expect(payload.jti).toBeTruthy();
    expect(jwt.sent[0]!.headers).toEqual({});

    const tls = recordingHttp(ok);
    await exchangeCode(tls, client({ auth: { method: 'tls_client_auth' } }), { code: 'c', verifier: 'v', now: NOW });
    expect(tls.sent[0]!.form).toEqual({
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: 'https://pay.example/2.0/consent/return',
      code_verifier: 'v',
      client_id: 'client-1',
    });
    expect(tls.sent[0]!.headers).toEqual({});
  });

  it('a refused exchange is refused, a lost or 5xx one is unknown (the code is never sent twice)', async () => {
    expect(
      await exchangeCode(recordingHttp({ status: 400, body: { error: 'invalid_grant' } }), client(), { code: 'c', verifier: 'v', now: NOW }),
    ).toMatchObject({
      kind: 'refused',
      error: 'invalid_grant',
    });
    const lost = recordingHttp('lost');
    expect(await exchangeCode(lost, client(), { code: 'c', verifier: 'v', now: NOW })).toMatchObject({ kind: 'unknown' });
    expect(lost.sent).toHaveLength(1);
    expect(await exchangeCode(recordingHttp({ status: 503, body: null }), client(), { code: 'c', verifier: 'v', now: NOW })).toMatchObject({ kind: 'unknown' });
  });

  it('keeps the pending authorization sealed; the exchange log blanks codes, verifiers, secrets and tokens', async () => {
    const ctx = { vault: consentVault('installation-secret') };
    const { pending } = await startAuthorization(client(), { flow: 'oauth2', paymentId: 5, now: NOW });
    const sealed = sealPending(ctx, pending);
    expect(sealed).not.toContain(pending.verifier);
    expect(openPending(ctx, sealed)).toEqual(pending);
    expect(openPending({ vault: consentVault('another-installation') }, sealed)).toBeNull();
    const logged = redactBody(
      redactForm({ grant_type: 'authorization_code', code: 'c0de', code_verifier: 'v3r', client_secret: 's', client_assertion: 'a.b.c' }),
    )!;
    for (const secret of ['c0de', 'v3r', '"s"', 'a.b.c']) expect(logged).not.toContain(secret);
    expect(logged).toContain('authorization_code');
    const answer = redactBody({ access_token: 'AT', refresh_token: 'RT', id_token: 'IT', token_type: 'Bearer', psuData: { password: 'pw' } })!;
    for (const secret of ['AT', 'RT', 'IT', 'pw']) expect(answer).not.toContain(`"${secret}"`);
    expect(answer).toContain('Bearer');
  });
});
