/**
 * The STET connector against the STET simulator on loopback with `prism proxy --errors` and STET's
 * official 1.5.0.43 file between them, through the core's own bank HTTP client (a call record
 * before each call, X-Request-ID = its id, deadline, signature, exchange log), on every database.
 * The test plays the core's part of applying outcomes; the whole stack runs in test/e2e/stet.test.ts.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createStetConnector, type StetData } from '../src/connectors/stet/connector.ts';
import { STET_SETTINGS, stetModule } from '../src/connectors/stet/index.ts';
import { checkOptions } from '../src/connectors/stet/profile.ts';
import { startStetSimulator, type StetSimulator } from '../src/connectors/stet/simulator/index.ts';
import { createBankHttp, createBankTransport, type BankTransport, type CallRecord } from '../src/connectors/kit/http.ts';
import type { ConfiguredBank, Connector, ConnectorContext, ConnectorOutcome, ConnectorPayment } from '../src/connectors/kit/index.ts';
import { attemptRecorder, settleCalls } from '../src/services/attempts.ts';
import { consentVault } from '../src/services/consent-vault.ts';
import { connectorPayment } from '../src/services/payment-actions.ts';
import { getPayment } from '../src/services/payments.ts';
import { startPrismProxy, STET_SPEC, type Prism } from './support/prism.ts';
import { describeEachDb, guideBody } from './support/helpers.ts';

const PAYER = 'FR7630006000011234567890189';
const BASE = 'https://payrail.example';
const RETURN = { ok: `${BASE}/2.0/bank-return/ok?state=7.sig`, nok: `${BASE}/2.0/bank-return/nok?state=7.sig` };
const SETTLE_MS = 4_000;

describeEachDb('STET connector against the simulator, behind prism proxy --errors', (ctx) => {
  let sim: StetSimulator;
  let prism: Prism;
  let mark = 0;
  const transports: BankTransport[] = [];

  beforeAll(async () => {
    sim = await startStetSimulator({ clock: ctx().clock, settleAfterMs: SETTLE_MS });
    prism = await startPrismProxy(sim.baseUrl, STET_SPEC);
  }, 180_000);
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await prism?.stop();
    await sim?.close();
  });
  beforeEach(() => {
    sim.faults.clear();
    Object.assign(sim.settings, { confirmation: true, redirectFlow: 'oauth2' });
    mark = prism.mark();
  });
  const prismSilent = () => expect(prism.problems(mark), prism.log().slice(mark)).toEqual([]);

  let nextBankId = 1;
  function bank(profile: Record<string, unknown> = {}, sca: 'redirect' | 'decoupled' = 'redirect'): { connector: Connector; transport: BankTransport } {
    const configured: ConfiguredBank = {
      id: nextBankId++,
      uuid: crypto.randomUUID(),
      name: 'Banque simulée',
      standard: 'stet',
      base_url: prism.url,
      country: 'FR',
      bic: null,
      sca_approach: sca,
      profile: { ...checkOptions({ client_id: sim.clientId, token_url: sim.tokenUrl, key_id: sim.keyIdUrl, timeout_ms: 2_000, ...profile }, sca) },
      has_client_cert: false,
      has_ca: false,
      has_signing_key: true,
      created_at: 0,
    };
    const transport = createBankTransport(configured, { signingKey: sim.keys.key, signingCert: sim.keys.cert }, stetModule.signatureScheme!(configured));
    transports.push(transport);
    return { connector: createStetConnector(configured, STET_SETTINGS), transport };
  }

  async function payment(type: 'first_open_day' | 'instant' | 'deferred' = 'first_open_day', payer = true): Promise<ConnectorPayment> {
    const body = guideBody(type, payer ? { payer: { scheme_name: 'iban', identification: PAYER } } : {});
    const id = await ctx().createPayment(body);
    const domain = await ctx().store.db.selectFrom('payments').select('domain_id').where('id', '=', id).executeTakeFirstOrThrow();
    return { ...connectorPayment(await getPayment(ctx().store.db, domain.domain_id, id)), psu_ip_address: '198.51.100.23' };
  }

  const clients: { calls: CallRecord[] }[] = [];
  function context(p: ConnectorPayment, transport: BankTransport): ConnectorContext {
    const c = ctx();
    const http = createBankHttp({ transport, recorder: attemptRecorder(c.store.db), clock: c.clock, paymentId: p.id });
    clients.push(http);
    return {
      now: c.clock.now(),
      clock: c.clock,
      baseUrl: BASE,
      testStepMs: 1000,
      sign: (v) => `sig-${v}`,
      returnUrls: RETURN,
      http,
      vault: consentVault('test-secret'),
    };
  }

  function applied(p: ConnectorPayment, o: ConnectorOutcome | null): ConnectorPayment {
    if (!o) return p;
    const state = o.kind === 'state' ? o.state : o.kind === 'refused' ? 'rejected' : o.kind === 'unknown' || o.kind === 'cancelling' ? p.state : 'validating';
    return {
      ...p,
      state,
      data: o.data,
      consent: o.consent === undefined ? p.consent : o.consent,
      bank_payment_id: o.bank_reference ?? p.bank_payment_id,
      action: o.kind === 'redirect' ? 'redirect' : o.kind === 'decoupled' ? 'decoupled' : o.kind === 'fields' ? 'fields' : null,
    };
  }

  /** The payer on the bank's page: Approve or Refuse; where the bank sends them. */
  async function onPage(url: string, decision: 'approve' | 'refuse'): Promise<URL> {
    const page = await (await fetch(url)).text();
    expect(page).toContain('>Approve</button>');
    expect(page).toContain('>Refuse</button>');
    const form = new URLSearchParams();
    for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(m[1]!, m[2]!.replace(/&amp;/g, '&'));
    form.set('decision', decision);
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!;
    const answer = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(answer.status).toBe(303);
    return new URL(answer.headers.get('location')!);
  }

  const calls = async (p: ConnectorPayment) => {
    for (const http of clients.splice(0)) await settleCalls(ctx().store.db, http.calls, null);
    return ctx().store.db.selectFrom('bank_calls').selectAll().where('payment_id', '=', p.id).orderBy('started_at').execute();
  };
  const atBank = (p: ConnectorPayment) => sim.payments.get((p.data as StetData).resource_id!)!;

  it('REDIRECT (OAuth2 + PKCE): token, POST /payment-requests, consent page, code for token, confirmation, status until ACSC → done', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', validate_uri: expect.stringContaining(`${sim.url}/authorize?`) });
    const authorize = new URL((start as { validate_uri: string }).validate_uri);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      scope: 'pisp',
      client_id: sim.clientId,
      redirect_uri: `${BASE}/2.0/consent/return`,
      code_challenge_method: 'S256',
      state: expect.stringMatching(new RegExp(`^${p.id}\\.`)),
    });
    p = applied(p, start);
    const body = atBank(p).body as Record<string, any>;
    expect(body).toMatchObject({
      numberOfTransactions: 1,
      paymentTypeInformation: { serviceLevel: 'SEPA' },
      debtorAccount: { iban: PAYER },
      chargeBearer: 'SLEV',
      supplementaryData: { acceptedAuthenticationApproach: ['REDIRECT'], successfulReportUrl: RETURN.ok, unsuccessfulReportUrl: RETURN.nok },
    });
    expect(body.creditTransferTransaction[0]).toMatchObject({
      instructedAmount: { amount: 50.9, currency: 'EUR' },
      beneficiary: { creditor: { name: 'ACME Corp.' } },
      remittanceInformation: { unstructured: ['Test'] },
    });
    const back = await onPage(authorize.toString(), 'approve');
    expect(back.origin + back.pathname).toBe(`${BASE}/2.0/consent/return`);
    const returned = await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport));
    expect(returned).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACCP', consent: null });
    p = applied(p, returned);
    expect((await calls(p)).map((c) => `${c.operation} ${c.http_status}`)).toEqual(['token 200', 'initiate 201', 'token 200', 'confirm 200']);
    ctx().clock.advance(SETTLE_MS / 2);
    const acsp = await connector.status(p, context(p, transport));
    expect(acsp).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACSP' });
    p = applied(p, acsp);
    ctx().clock.advance(SETTLE_MS);
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });
    // X-Request-ID is the call's id; the client token was asked for once.
    const recorded = await calls(p);
    expect(recorded.map((c) => c.operation)).toEqual(['token', 'initiate', 'token', 'confirm', 'status', 'status']);
    for (const c of recorded.filter((r) => r.operation !== 'token')) expect(sim.received.calls.some((r) => r.requestId === c.id)).toBe(true);
    prismSilent();
  });

  it('Refuse on the consent page → RJCT (CUST) → rejected CancelledByUser', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    p = applied(p, start);
    const back = await onPage((start as { validate_uri: string }).validate_uri, 'refuse');
    expect(back.searchParams.get('error')).toBe('access_denied');
    const returned = await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport));
    expect(returned).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'CancelledByUser', bank_status: 'RJCT' });
    prismSilent();
  });
});
