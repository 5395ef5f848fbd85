/**
 * The UK Open Banking connector against the model bank, through the core's bank HTTP client and
 * `prism proxy --errors` with the official file between them (v4.0.0 and v3.1.11), on every
 * database: consent, the payer's decision at the authorize page, the id_token checks before the
 * code exchange, the payment, its status over time; a lost consent or payment answer asked again
 * with the same idempotency key; scheduled payments and standing orders in the standard's shape.
 * The test plays the core's part of applying outcomes; the browser flow is in test/e2e/obie.test.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBankTransport, type BankTransport } from '../src/connectors/kit/http.ts';
import type { ConfiguredBank, Connector, ConnectorOutcome, ConnectorPayment } from '../src/connectors/kit/index.ts';
import { openPending, sealPending } from '../src/connectors/kit/oauth.ts';
import { createObieConnector, type ObieData } from '../src/connectors/obie/connector.ts';
import { OBIE_SETTINGS } from '../src/connectors/obie/index.ts';
import { checkOptions } from '../src/connectors/obie/profile.ts';
import { startObieSimulator, type ObieSimulator } from '../src/connectors/obie/simulator/index.ts';
import { API_ROOT, type ApiVersion } from '../src/connectors/obie/versions.ts';
import { CONNECTOR_MODULES } from '../src/connectors/modules.ts';
import { addBank } from '../src/services/banks.ts';
import { bearer, connectorContexts, describeEachDb, guideBody, storedConnectorPayment } from './support/helpers.ts';
import { OBIE_SPECS, startPrismMock, startPrismProxy, type Prism } from './support/prism.ts';

const SORT_CODE_ACCOUNT = '40051512345678';
const SETTLE_MS = 4_000;
const BASE = 'https://payrail.example';

for (const version of ['4.0', '3.1.11'] as ApiVersion[]) {
  describeEachDb(`UK Open Banking ${version} connector against the model bank (Prism proxy)`, (ctx) => {
    let sim: ObieSimulator;
    let prism: Prism;
    let signingKey: string;
    const transports: BankTransport[] = [];

    beforeAll(async () => {
      sim = await startObieSimulator({ apiVersion: version, clock: ctx().clock, settleAfterMs: SETTLE_MS, keysDir: mkdtempSync(join(tmpdir(), 'obie-keys-')) });
      prism = await startPrismProxy(`${sim.url}${API_ROOT[version]}`, OBIE_SPECS[version]);
      signingKey = readFileSync(sim.clientKey.path, 'utf8');
    }, 180_000);
    afterAll(async () => {
      await Promise.all(transports.map((t) => t.close()));
      await prism?.stop();
      await sim?.close();
    });
    beforeEach(() => sim.faults.clear());

    let nextBankId = 1;
    function bank(profile: Record<string, unknown> = {}): { connector: Connector; transport: BankTransport } {
      const configured: ConfiguredBank = {
        id: nextBankId++,
        uuid: crypto.randomUUID(),
        name: 'Model bank',
        standard: 'obie',
        base_url: prism.url,
        country: 'GB',
        bic: null,
        sca_approach: 'redirect',
        profile: {
          ...checkOptions({
            api_version: version,
            issuer: sim.issuer,
            client_id: sim.clientId,
            signing_kid: sim.clientKey.kid,
            timeout_ms: 2_000,
            execution_date_types: ['first_open_day', 'instant', 'deferred', 'periodic'],
            ...profile,
          }),
        },
        has_client_cert: false,
        has_ca: false,
        has_signing_key: true,
        created_at: 0,
      };
      const transport = createBankTransport(configured, { signingKey });
      transports.push(transport);
      return { connector: createObieConnector(configured, OBIE_SETTINGS), transport };
    }

    async function payment(type: 'first_open_day' | 'deferred' | 'periodic' = 'first_open_day'): Promise<ConnectorPayment> {
      const body = guideBody(type === 'periodic' ? 'first_open_day' : type);
      const instruction = body.instructions[0]! as Record<string, unknown>;
      Object.assign(instruction, {
        currency: 'GBP',
        label: 'Order 42',
        reference_id: 'ORDER42',
        beneficiary: { scheme_name: 'sort_code_account_number', identification: SORT_CODE_ACCOUNT, label: 'Tea Shop Ltd' },
      });
      if (type === 'periodic') Object.assign(instruction, { execution_date_type: 'periodic', start_date: '2026-02-16', frequency: 'monthly' });
      delete (body as Record<string, unknown>).payer_identity;
      delete instruction.beneficiary_identity;
      const id = await ctx().createPayment(body);
      return storedConnectorPayment(ctx(), id);
    }

    const { context, vault } = connectorContexts(ctx, { baseUrl: BASE, returnUrls: { ok: `${BASE}/ok`, nok: `${BASE}/nok` }, secret: 'obie-test-secret' });

    function applied(p: ConnectorPayment, o: ConnectorOutcome | null): ConnectorPayment {
      if (!o) return p;
      const state = o.kind === 'state' ? o.state : o.kind === 'refused' ? 'rejected' : o.kind === 'unknown' ? p.state : 'validating';
      return {
        ...p,
        state,
        data: o.data,
        bank_payment_id: o.bank_reference ?? p.bank_payment_id,
        action: o.kind === 'redirect' ? 'redirect' : null,
        consent: o.consent === undefined ? p.consent : o.consent,
      };
    }

    /** The payer at the authorize page: the page shows the payment, the button is pressed, the bank's redirect is read. */
    async function decide(url: string, decision: 'approve' | 'refuse'): Promise<{ page: string; params: Record<string, string> }> {
      const page = await (await fetch(url)).text();
      const ticket = /name="ticket" value="([^"]+)"/.exec(page)?.[1];
      const token = /name="token" value="([^"]+)"/.exec(page)?.[1];
      expect(ticket, page).toBeTruthy();
      const answer = await fetch(`${sim.url}/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ticket: ticket!, token: token!, decision }).toString(),
      });
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(`${BASE}/2.0/consent/return`);
      const params = Object.fromEntries(new URLSearchParams(decision === 'approve' ? location.hash.slice(1) : location.search));
      return { page, params };
    }

    it('pays a GBP payment to a sort code account: consent, Approve, id_token checked, payment, status to done; Prism sees no violation', async () => {
      const mark = prism.mark();
      const { connector, transport } = bank();
      let p = await payment();
      const started = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
      expect(started.kind, JSON.stringify(started)).toBe('redirect');
      p = applied(p, started);
      const data = p.data as ObieData;
      expect(data.consent_key!.length).toBeLessThanOrEqual(40);
      const consent = sim.bank.consents.get(data.consent_id!)!;
      expect(consent.status).toBe(version === '4.0' ? 'AWAU' : 'AwaitingAuthorisation');
      expect(consent.initiation).toMatchObject({
        InstructedAmount: { Amount: '50.90', Currency: 'GBP' },
        CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: SORT_CODE_ACCOUNT, Name: 'Tea Shop Ltd' },
        EndToEndIdentification: 'ORDER42',
      });
      const url = new URL((started as { validate_uri: string }).validate_uri);
      expect(url.searchParams.get('response_type')).toBe('code id_token');
      expect(url.searchParams.get('request')).toBeTruthy();

      const { page, params } = await decide(url.toString(), 'approve');
      expect(page).toContain('£50.90');
      expect(page).toContain('Tea Shop Ltd');
      expect(page).toContain('40-05-15 12345678');
      expect(Object.keys(params).sort()).toEqual(['code', 'id_token', 'state']);
      const returned = await connector.bankReturn(p, params, context(p, transport));
      expect(returned, JSON.stringify(returned)).toMatchObject({ kind: 'state', state: 'pending', bank_status: version === '4.0' ? 'RCVD' : 'Pending' });
      p = applied(p, returned);
      expect(sim.bank.consents.get(data.consent_id!)!.status).toBe(version === '4.0' ? 'COND' : 'Consumed');
      expect(sim.bank.payments.size).toBeGreaterThan(0);

      ctx().clock.advance(SETTLE_MS);
      const settled = await connector.status(p, context(p, transport));
      expect(settled).toMatchObject({ kind: 'state', state: 'done', bank_status: version === '4.0' ? 'ACSC' : 'AcceptedSettlementCompleted' });
      // Prism was in between (it logs each request it validated), and found nothing wrong.
      expect(prism.log().slice(mark)).toMatch(/domestic-payment-consents/);
      expect(prism.log().slice(mark)).toMatch(/domestic-payments/);
      expect(prism.problems(mark)).toEqual([]);
    });

    it('Refuse at the bank ends rejected (CancelledByUser), nothing is paid', async () => {
      const { connector, transport } = bank();
      let p = await payment();
      p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
      const before = sim.bank.payments.size;
      const { params } = await decide(String((p.data as ObieData).authorize), 'refuse');
      expect(params.error).toBe('access_denied');
      const outcome = await connector.bankReturn(p, params, context(p, transport));
      expect(outcome).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'CancelledByUser' });
      expect(sim.bank.payments.size).toBe(before);
    });

    it('a tampered id_token or a wrong nonce is refused before the code is used: the payment is not executed', async () => {
      const { connector, transport } = bank();
      for (const attack of ['signature', 'nonce'] as const) {
        let p = await payment();
        p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
        const { params } = await decide(String((p.data as ObieData).authorize), 'approve');
        const before = sim.bank.payments.size;
        const tokensBefore = sim.bank.tokens.size;
        if (attack === 'signature') {
          const [h, body, sig] = params.id_token!.split('.');
          const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
          claims.openbanking_intent_id = 'sdp-someone-else';
          params.id_token = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
        } else {
          const pending = openPending({ vault }, p.consent)!;
          p = { ...p, consent: sealPending({ vault }, { ...pending, nonce: 'not-the-nonce-we-sent' }) };
        }
        const outcome = await connector.bankReturn(p, params, context(p, transport));
        expect(outcome, attack).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'authenticationFailed' });
        expect(sim.bank.payments.size, attack).toBe(before);
        // The code was never exchanged: no payer token was issued.
        expect(sim.bank.tokens.size, attack).toBe(tokensBefore);
      }
    });

    it('a consent whose answer was lost is asked again with the same idempotency key; the bank answers with the first consent', async () => {
      const { connector, transport } = bank();
      let p = await payment();
      sim.faults.add({ kind: 'error', status: 500, operation: 'CreateDomesticPaymentConsents', afterProcessing: true });
      const lost = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
      expect(lost.kind).toBe('unknown');
      p = applied(p, lost);
      const key = (p.data as ObieData).consent_key!;
      const made = [...sim.bank.consents.values()].filter((c) => c.initiation.InstructionIdentification === (p.data as ObieData).instruction_id);
      expect(made).toHaveLength(1);
      const again = await connector.status(p, context(p, transport));
      // Found and kept on record (the payer starts afresh: the connector does not send anyone to it).
      expect(again?.kind).toBe('unknown');
      expect((again!.data as ObieData).consent_id).toBe(made[0]!.id);
      p = applied(p, again);
      expect(await connector.status(p, context(p, transport))).toBeNull();
      expect(sim.received.initiations.filter((i) => i.requestId === key)).toHaveLength(2);
      expect([...sim.bank.consents.values()].filter((c) => c.initiation.InstructionIdentification === (p.data as ObieData).instruction_id)).toHaveLength(1);
      // A new attempt has a new key.
      const other = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
      expect((other.data as ObieData).consent_key).not.toBe(key);
    });

    it('a payment whose answer was lost is asked again with the same key and the payer token: one payment at the bank', async () => {
      const { connector, transport } = bank();
      let p = await payment();
      p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
      const { params } = await decide(String((p.data as ObieData).authorize), 'approve');
      const before = sim.bank.payments.size;
      sim.faults.add({ kind: 'error', status: 500, operation: 'CreateDomesticPayments', afterProcessing: true });
      const lost = await connector.bankReturn(p, params, context(p, transport));
      expect(lost.kind).toBe('unknown');
      p = applied(p, lost);
      expect(sim.bank.payments.size).toBe(before + 1);
      const again = await connector.status(p, context(p, transport));
      expect(again).toMatchObject({ kind: 'state', state: 'pending' });
      expect(sim.bank.payments.size).toBe(before + 1);
      expect(sim.received.initiations.filter((i) => i.requestId === (p.data as ObieData).payment_key)).toHaveLength(2);
    });

    it('a scheduled payment and a standing order reach the bank in the standard shape (Prism checks the bodies)', async () => {
      const mark = prism.mark();
      const { connector, transport } = bank();
      for (const type of ['deferred', 'periodic'] as const) {
        let p = await payment(type);
        p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
        const consent = sim.bank.consents.get((p.data as ObieData).consent_id!)!;
        expect(consent.kind).toBe(type === 'deferred' ? 'scheduled' : 'standing-order');
        if (type === 'deferred') expect(consent.initiation.RequestedExecutionDateTime).toBe('2026-02-02T00:00:00+00:00');
        else if (version === '4.0') expect(consent.initiation.MandateRelatedInformation).toMatchObject({ Frequency: { Type: 'IntrvlMnthDay:01:16' } });
        else expect(consent.initiation.Frequency).toBe('IntrvlMnthDay:01:16');
        const { params } = await decide(String((p.data as ObieData).authorize), 'approve');
        const outcome = await connector.bankReturn(p, params, context(p, transport));
        expect(outcome, type).toMatchObject({ kind: 'state', state: 'pending' });
      }
      expect(prism.problems(mark)).toEqual([]);
    });

    it('payment_settings and /incompatibilities refuse early what the bank does not offer (currency, execution type)', async () => {
      const t = ctx();
      const added = await addBank(
        { db: t.store.db, clock: t.clock, keyring: t.app.payrail.keyring, modules: CONNECTOR_MODULES },
        {
          name: `UK bank ${version} ${t.dialect}`,
          standard: 'obie',
          base_url: prism.url,
          country: 'GB',
          signing_key: signingKey,
          profile: { api_version: version, issuer: sim.issuer, client_id: sim.clientId, signing_kid: sim.clientKey.kid },
        },
      );
      expect(JSON.stringify(added)).not.toMatch(/PRIVATE KEY/);
      t.app.payrail.connectors.invalidate();
      const admin = await t.token('payments:admin');
      const connectors = (await t.app.inject({ url: '/2.0/connectors', headers: bearer(admin) })).json();
      const listed = (connectors.connectors ?? connectors).find((c: { uuid: string }) => c.uuid === added.uuid);
      expect(listed.payment_settings).toMatchObject({
        currencies: ['GBP'],
        execution_date_types: ['first_open_day', 'instant'],
        cancellation_available: false,
        maximum_number_of_instructions: 1,
      });
      const reasonsOf = async (id: number) =>
        (await t.app.inject({ url: `/2.0/payments/${id}/incompatibilities`, headers: bearer(admin) }))
          .json()
          .find((r: { connector_uuid: string }) => r.connector_uuid === added.uuid)
          ?.reasons.map((r: { code: string }) => r.code) ?? [];
      expect(await reasonsOf(await t.createPayment(guideBody('first_open_day')))).toContain('nspCurrency');
      const deferred = guideBody('deferred');
      Object.assign(deferred.instructions[0]!, {
        currency: 'GBP',
        beneficiary: { scheme_name: 'sort_code_account_number', identification: SORT_CODE_ACCOUNT, label: 'Tea Shop Ltd' },
      });
      expect(await reasonsOf(await t.createPayment(deferred))).toContain('nspDateType');
    });

    it("an answer whose signature does not verify against the bank's JWKS is not trusted (unknown)", async () => {
      const { connector, transport } = bank();
      const p = await payment();
      sim.settings.signAnswers = false;
      try {
        const outcome = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
        expect(outcome).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/signature/) });
      } finally {
        sim.settings.signAnswers = true;
      }
    });

    it('against prism mock alone (the file as the bank): the consent request is valid, and its answer is read', async () => {
      const mock = await startPrismMock(OBIE_SPECS[version]);
      try {
        const mark = mock.mark();
        // The payment API is the mock; the authorization server stays the model bank's. The mock cannot sign answers.
        const { connector, transport } = bank({ verify_response_signatures: false, timeout_ms: 20_000 }); // Prism compiles its validators on the first request
        const configured = transport.bank;
        const mocked = createBankTransport({ ...configured, base_url: mock.url }, { signingKey });
        transports.push(mocked);
        const p = await payment();
        const outcome = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, mocked));
        // The file's example consent comes back: the payer is sent to the authorize endpoint with a request object naming it.
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ kind: 'redirect' });
        expect((outcome as { validate_uri: string }).validate_uri).toMatch(new RegExp(`^${sim.issuer}/authorize\\?`));
        expect(mock.log().slice(mark)).toMatch(/domestic-payment-consents/);
        expect(mock.problems(mark)).toEqual([]);
      } finally {
        await mock.stop();
      }
    }, 180_000);

    it('cancellation is not offered by the standard', async () => {
      const { connector, transport } = bank();
      const p = await payment();
      expect(await connector.cancel(p, context(p, transport))).toMatchObject({ kind: 'refused', error_code: 'notSupported' });
    });
  });
}

describe('detached JWS', () => {
  it('signs and verifies both variants with jose; a changed body or a missing claim fails', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { signDetached, verifyDetached } = await import('../src/connectors/obie/jws.ts');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = Date.parse('2026-01-15T10:00:00Z');
    for (const unencodedPayload of [false, true]) {
      const body = '{"Data":{"Initiation":{}},"Risk":{}}';
      const jws = await signDetached(body, privateKey, { kid: 'k1', iss: 'org/ssa', tan: 'openbanking.org.uk', unencodedPayload, now });
      expect(jws).toMatch(/^[\w-]+\.\.[\w-]+$/);
      const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString());
      expect(header.crit).toEqual([
        ...(unencodedPayload ? ['b64'] : []),
        'http://openbanking.org.uk/iat',
        'http://openbanking.org.uk/iss',
        'http://openbanking.org.uk/tan',
      ]);
      expect(await verifyDetached(jws, body, publicKey, { now })).toMatchObject({ ok: true });
      expect(await verifyDetached(jws, body.replace('{}', '{"x":1}'), publicKey, { now })).toMatchObject({ ok: false, reason: 'invalid' });
      expect(await verifyDetached(undefined, body, publicKey, { now })).toMatchObject({ ok: false, reason: 'missing' });
    }
  });
});
