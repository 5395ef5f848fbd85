/**
 * Powens' security features over HTTP (issue 10 item 8): response signatures verified with `jose`
 * against GET /2.0/sign-keys (and after rotation), end-to-end encrypted inputs (JWE for the key of
 * GET /2.0/publickey), and terms of service acceptance.
 */
import { CompactEncrypt, compactVerify, createLocalJWKSet, decodeProtectedHeader, importJWK, importSPKI, type JWK } from 'jose';
import { expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { rotateSigningKey } from '../src/services/jose-keys.ts';
import { bearer, describeEachDb, expectErrorBody, VALID_IBAN } from './support/helpers.ts';

async function encryptFor(jwk: JWK, text: string): Promise<string> {
  const key = await importJWK(jwk, 'RSA-OAEP-256');
  return new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid! }).encrypt(key);
}

describeEachDb('response signatures, end-to-end encryption, terms', (ctx) => {
  const get = (url: string, token?: string) => ctx().app.inject({ url, headers: token ? bearer(token) : {} });

  it('signs a response with sign_response=true: a JWS that verifies with the key of /sign-keys, payload fields exact', async () => {
    const admin = await ctx().token('payments:admin');
    const id = await ctx().createPayment();
    const plain = await get(`/2.0/payments/${id}`, admin);
    const signed = await get(`/2.0/payments/${id}?sign_response=true`, admin);
    expect(signed.statusCode).toBe(200);
    expect(signed.headers['content-type']).toBe('application/jose');
    const header = decodeProtectedHeader(signed.body);
    expect(header).toMatchObject({ alg: 'RS256', kid: expect.any(String), key_url: `http://localhost:80/2.0/sign-keys/${header.kid}` });

    const keys = (await get('/2.0/sign-keys')).json() as { keys: (JWK & { id: number; public_key: string; deprecated: string | null })[] };
    const listed = keys.keys.find((k) => String(k.id) === header.kid)!;
    expect(listed.deprecated).toBeNull();
    const { payload } = await compactVerify(signed.body, createLocalJWKSet({ keys: keys.keys }));
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({
      request_url: `http://localhost:80/2.0/payments/${id}?sign_response=true`,
      response_timestamp: '2026-01-15 10:00:00',
      response_payload: plain.json(),
    });
    // The PEM Powens documents verifies it too, and GET /sign-keys/{id} answers the same key.
    await compactVerify(signed.body, await importSPKI(listed.public_key, 'RS256'));
    expect((await get(`/2.0/sign-keys/${header.kid}`)).json()).toEqual(listed);
    expect((await get('/2.0/sign-keys/999999')).statusCode).toBe(404);
    // A tampered payload does not verify.
    const [h, p, s] = signed.body.split('.');
    const tampered = `${h}.${Buffer.from(Buffer.from(p!, 'base64url').toString().replace('created', 'done')).toString('base64url')}.${s}`;
    await expect(compactVerify(tampered, createLocalJWKSet({ keys: keys.keys }))).rejects.toThrow();
  });

  it('keeps old signatures verifiable after rotation and signs new responses with the new key', async () => {
    const admin = await ctx().token('payments:admin');
    const before = (await get('/2.0/terms?sign_response=true')).body;
    const oldKid = decodeProtectedHeader(before).kid!;
    const rotated = await rotateSigningKey(ctx().store.db, ctx().app.payrail.keyring, ctx().clock);
    expect(rotated.deprecated).toBe(Number(oldKid));
    const after = (await get(`/2.0/payments?sign_response=true`, admin)).body;
    expect(decodeProtectedHeader(after).kid).toBe(String(rotated.current));

    const keys = (await get('/2.0/sign-keys')).json().keys as (JWK & { id: number; deprecated: string | null })[];
    expect(keys.find((k) => k.id === Number(oldKid))!.deprecated).toBe('2026-01-15 10:00:00');
    expect(keys.find((k) => k.id === rotated.current)!.deprecated).toBeNull();
    const jwks = createLocalJWKSet({ keys });
    await compactVerify(before, jwks);
    await compactVerify(after, jwks);
    // Private keys are stored sealed under the key-encryption keyring, never as clear PEM.
    const rows = await ctx().store.db.selectFrom('jose_keys').select('private_sealed').execute();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(row.private_sealed).toMatch(/^kek1\.[0-9a-f]{12}\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('publishes an RSA-OAEP-256 JWK and decrypts JWE connector fields and payer fields before use', async () => {
    const jwk = (await get('/2.0/publickey')).json() as JWK;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RSA-OAEP-256', use: 'enc', kid: expect.any(String), e: 'AQAB' });
    expect(jwk).not.toHaveProperty('d');
    const id = await ctx().createPayment();
    const token = await ctx().scopedToken(id);
    const response = await ctx().app.inject({
      method: 'POST',
      url: `/2.0/payments/${id}`,
      headers: bearer(token),
      payload: {
        connector_uuid: TEST_CONNECTOR_UUID,
        webview_url: 'https://merchant.example/own',
        fields: { use_case_pay: await encryptFor(jwk, 'otp_sms') },
        payer: { scheme_name: 'iban', identification: await encryptFor(jwk, VALID_IBAN), label: 'Germaine Michu' },
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    // otp_sms asks for a code: the decrypted value chose the scenario (the legacy default redirects).
    expect(response.json()).toMatchObject({ state: 'validating', action: 'additionalInformationNeeded' });
    const admin = await ctx().token('payments:admin');
    const read = (await get(`/2.0/payments/${id}?show_sensitive=true`, admin)).json();
    expect(read.payer.identification).toBe(VALID_IBAN);
  });

  it('answers 400 naming the field for a malformed JWE, one for another key, or one tampered with', async () => {
    const jwk = (await get('/2.0/publickey')).json() as JWK;
    const good = await encryptFor(jwk, 'otp_sms');
    const [h, k, iv, c, t] = good.split('.');
    const foreign = { ...jwk, kid: '424242' };
    const cases: [string, string][] = [
      ['fields.use_case_pay', `${h}.${k}.${iv}.${c}.${t!.slice(0, -4)}AAAA`], // tag tampered
      ['fields.use_case_pay', 'eyJub3QiOiJqc29uIn0.a.bbbbbbbbbbbbbbbb.cccccccccccccccccc.dddddddddddd'], // header without alg/enc
      ['fields.use_case_pay', await encryptFor(foreign, 'otp_sms')], // kid unknown
    ];
    for (const [field, value] of cases) {
      const id = await ctx().createPayment();
      const token = await ctx().scopedToken(id);
      const response = await ctx().app.inject({
        method: 'POST',
        url: `/2.0/payments/${id}`,
        headers: bearer(token),
        payload: { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own', fields: { use_case_pay: value } },
      });
      expect(response.statusCode, response.body).toBe(400);
      expectErrorBody(response.json());
      expect(response.json()).toMatchObject({ code: 'invalidValue', field });
      expect((await get(`/2.0/payments/${id}`, token)).json().state).toBe('created');
    }
  });

  it('serves the terms and records the payer acceptance with a timestamp', async () => {
    const terms = (await get('/2.0/terms')).json();
    expect(terms).toMatchObject({ terms: { id: expect.any(Number), version: 1 }, content: expect.stringContaining('bank'), language: 'en' });
    const id = await ctx().createPayment();
    const token = await ctx().scopedToken(id);
    expect((await get(`/2.0/payments/${id}/terms`, token)).json()).toEqual({ id_terms: terms.terms.id, to_sign: true, accepted: null });
    const post = (id_terms: unknown) => ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}/terms`, headers: bearer(token), payload: { id_terms } });
    const wrong = await post(terms.terms.id + 1);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'invalidValue', field: 'id_terms' });
    ctx().clock.advance(60_000);
    const accepted = await post(terms.terms.id);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toEqual({ success: 'ok' });
    expect((await get(`/2.0/payments/${id}/terms`, token)).json()).toEqual({ id_terms: terms.terms.id, to_sign: false, accepted: '2026-01-15 10:01:00' });
    // Another payment's scoped token cannot read or accept these terms.
    const other = await ctx().scopedToken(await ctx().createPayment());
    expect((await get(`/2.0/payments/${id}/terms`, other)).statusCode).toBe(403);
  });
});
