/**
 * The UK Open Banking model bank on its own, as a TPP would call it: answers that never depend on
 * the Host header, the token endpoint's client authentication, the TPP's detached JWS checked,
 * idempotency by key (same key and body: the first consent; another body: refused), a payment
 * whose Initiation differs from its consent refused (U008), every answer signed (checked with
 * jose), the injected faults, and v3.1.11's error codes.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDetached, verifyDetached } from '../src/connectors/obie/jws.ts';
import { startObieSimulator, type ObieSimulator } from '../src/connectors/obie/simulator/index.ts';

const CONSENT = {
  Data: {
    Initiation: {
      InstructionIdentification: 'PR1-abc',
      EndToEndIdentification: 'ORDER42',
      LocalInstrument: 'UK.OBIE.FPS',
      InstructedAmount: { Amount: '10.00', Currency: 'GBP' },
      CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40051512345678', Name: 'Tea Shop Ltd' },
      RemittanceInformation: { Unstructured: ['Order 42'] },
    },
  },
  Risk: { PaymentContextCode: 'BillingGoodsAndServicesInAdvance' },
};

for (const version of ['4.0', '3.1.11'] as const) {
  describe(`UK Open Banking ${version} model bank`, () => {
    let sim: ObieSimulator;
    const key = () => createPrivateKey(readFileSync(sim.clientKey.path, 'utf8'));

    beforeAll(async () => {
      sim = await startObieSimulator({ apiVersion: version, keysDir: mkdtempSync(join(tmpdir(), 'obie-sim-')) });
    });
    afterAll(async () => sim.close());

    async function clientToken(): Promise<string> {
      const seconds = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'PS256', kid: sim.clientKey.kid })
        .setIssuer(sim.clientId)
        .setSubject(sim.clientId)
        .setAudience(`${sim.issuer}/token`)
        .setIssuedAt(seconds)
        .setExpirationTime(seconds + 60)
        .setJti(randomUUID())
        .sign(key());
      const answer = await fetch(`${sim.issuer}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'payments',
          client_id: sim.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      });
      expect(answer.status).toBe(200);
      return ((await answer.json()) as { access_token: string }).access_token;
    }

    async function postConsent(body: unknown, options: { key?: string; signature?: string | null } = {}) {
      const text = JSON.stringify(body);
      const signature =
        options.signature === undefined
          ? await signDetached(text, key(), {
              kid: sim.clientKey.kid,
              iss: sim.clientId,
              tan: 'openbanking.org.uk',
              unencodedPayload: version !== '4.0',
              now: Date.now(),
            })
          : options.signature;
      const response = await fetch(`${sim.baseUrl}/domestic-payment-consents`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${await clientToken()}`,
          'Content-Type': 'application/json',
          'x-idempotency-key': options.key ?? randomUUID(),
          'x-fapi-interaction-id': 'f0e1d2c3-0000-4000-8000-000000000001',
          ...(signature ? { 'x-jws-signature': signature } : {}),
        },
        body: text,
      });
      const raw = await response.text();
      return { status: response.status, headers: response.headers, raw, json: JSON.parse(raw) };
    }

    it('never builds a URL from the Host header: the issuer and links are its own', async () => {
      const body = await new Promise<string>((resolve, reject) => {
        const url = new URL(`${sim.url}/.well-known/openid-configuration`);
        const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { Host: 'evil.example:666' } }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      const doc = JSON.parse(body);
      expect(doc.issuer).toBe(sim.issuer);
      for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) expect(doc[k]).toMatch(new RegExp(`^${sim.url}/`));
      expect(body).not.toContain('evil.example');
    });

    it('refuses a client that cannot prove its key (private_key_jwt)', async () => {
      const answer = await fetch(`${sim.issuer}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'payments', client_id: sim.clientId }),
      });
      expect(answer.status).toBe(401);
      expect(((await answer.json()) as { error: string }).error).toBe('invalid_client');
    });

    it('creates a consent, signs its answer, echoes the interaction id; the same key and body give the first consent, another body is refused', async () => {
      const idempotency = randomUUID();
      const first = await postConsent(CONSENT, { key: idempotency });
      expect(first.status, first.raw).toBe(201);
      expect(first.json.Data.Status).toBe(version === '4.0' ? 'AWAU' : 'AwaitingAuthorisation');
      expect(first.json.Links.Self).toBe(`${sim.baseUrl}/domestic-payment-consents/${first.json.Data.ConsentId}`);
      expect(first.headers.get('x-fapi-interaction-id')).toBe('f0e1d2c3-0000-4000-8000-000000000001');
      const { createLocalJWKSet } = await import('jose');
      const jwks = (await (await fetch(`${sim.issuer}/jwks`)).json()) as import('jose').JSONWebKeySet;
      expect(createLocalJWKSet(jwks)).toBeTypeOf('function');
      expect(await verifyDetached(first.headers.get('x-jws-signature') ?? undefined, first.raw, jwks, { now: Date.now() })).toMatchObject({ ok: true });
      expect(
        await verifyDetached(first.headers.get('x-jws-signature') ?? undefined, first.raw.replace('10.00', '11.00'), jwks, { now: Date.now() }),
      ).toMatchObject({
        ok: false,
      });
      const again = await postConsent(CONSENT, { key: idempotency });
      expect(again.status).toBe(201);
      expect(again.json.Data.ConsentId).toBe(first.json.Data.ConsentId);
      const changed = structuredClone(CONSENT);
      changed.Data.Initiation.InstructedAmount.Amount = '99.00';
      const other = await postConsent(changed, { key: idempotency });
      expect(other.status).toBe(400);
      expect(other.json.Errors[0].ErrorCode).toBe(version === '4.0' ? 'U006' : 'UK.OBIE.Header.Invalid');
    });

    it('checks the detached JWS: missing, malformed, over another body', async () => {
      const missing = await postConsent(CONSENT, { signature: null });
      expect(missing.json.Errors[0].ErrorCode).toBe(version === '4.0' ? 'U019' : 'UK.OBIE.Signature.Missing');
      const malformed = await postConsent(CONSENT, { signature: 'a.b.c' });
      expect(malformed.json.Errors[0].ErrorCode).toBe(version === '4.0' ? 'U018' : 'UK.OBIE.Signature.Malformed');
      const forged = await signDetached('{"other":1}', key(), {
        kid: sim.clientKey.kid,
        iss: sim.clientId,
        tan: 'openbanking.org.uk',
        unencodedPayload: false,
        now: Date.now(),
      });
      const invalid = await postConsent(CONSENT, { signature: forged });
      expect(invalid.status).toBe(400);
      expect(invalid.json.Errors[0].ErrorCode).toBe(version === '4.0' ? 'U015' : 'UK.OBIE.Signature.Invalid');
      expect(sim.received.count('CreateDomesticPaymentConsents')).toBeGreaterThan(0);
    });

    it('injects faults: a rejection with a code of the standard, a 503', async () => {
      sim.faults.add({ kind: 'reject', operation: 'CreateDomesticPaymentConsents', code: 'U023' });
      const rejected = await postConsent(CONSENT);
      expect(rejected.status).toBe(400);
      expect(rejected.json.Errors[0].ErrorCode).toBe(version === '4.0' ? 'U023' : 'UK.OBIE.Unsupported.Currency');
      sim.faults.add({ kind: 'error', operation: 'CreateDomesticPaymentConsents', status: 503 });
      const response = await fetch(`${sim.baseUrl}/domestic-payment-consents`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${await clientToken()}` },
        body: '{}',
      });
      expect(response.status).toBe(503);
      expect(() => sim.faults.add({ kind: 'reject', code: 'NOT_A_CODE' })).toThrow(/UK Open Banking/);
    });
  });
}
