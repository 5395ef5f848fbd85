/**
 * The STET connector against the STET simulator on loopback with `prism proxy --errors` and STET's
 * official 1.5.0.43 file between them, through the core's own bank HTTP client (a call record
 * before each call, X-Request-ID = its id, deadline, signature, exchange log), on every database.
 * The test plays the core's part of applying outcomes; the whole stack runs in test/e2e/stet.test.ts.
 */
import { X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createStetConnector, type StetData } from '../src/connectors/stet/connector.ts';
import { STET_SETTINGS, stetModule } from '../src/connectors/stet/index.ts';
import { checkOptions } from '../src/connectors/stet/profile.ts';
import { startStetSimulator, type StetSimulator } from '../src/connectors/stet/simulator/index.ts';
import { generateTppKeys } from '../src/connectors/stet/simulator/keys.ts';
import { createBankTransport, type BankTransport } from '../src/connectors/kit/http.ts';
import type { ConfiguredBank, Connector, ConnectorOutcome, ConnectorPayment } from '../src/connectors/kit/index.ts';
import { checkCancel, checkCompatible, compatibilityOf } from '../src/services/payment-checks.ts';
import { getPayment } from '../src/services/payments.ts';
import { startPrismMock, startPrismProxy, STET_SPEC, type Prism } from './support/prism.ts';
import { bankCallsInOrder, connectorContexts, describeEachDb, guideBody, storedConnectorPayment } from './support/helpers.ts';

const PAYER = 'FR7630006000011234567890189';
const BASE = 'https://payrail.example';
const RETURN = { ok: `${BASE}/2.0/bank-return/ok?state=7.sig`, nok: `${BASE}/2.0/bank-return/nok?state=7.sig` };
const SETTLE_MS = 4_000;

describeEachDb('STET connector against the simulator, behind prism proxy --errors', (ctx) => {
  let sim: StetSimulator;
  let prism: Prism;
  let mock: Prism;
  let mark = 0;
  const transports: BankTransport[] = [];

  beforeAll(async () => {
    sim = await startStetSimulator({ clock: ctx().clock, settleAfterMs: SETTLE_MS });
    [prism, mock] = await Promise.all([startPrismProxy(sim.baseUrl, STET_SPEC), startPrismMock(STET_SPEC)]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await Promise.all([prism?.stop(), mock?.stop()]);
    await sim?.close();
  });
  beforeEach(() => {
    sim.faults.clear();
    Object.assign(sim.settings, {
      confirmation: true,
      redirectFlow: 'oauth2',
      refuseHalAccept: false,
      lowerCaseTokenType: false,
      requirePsuIpAddress: false,
      createStatus: 201,
      verifySignatures: true,
      consentLink: true,
      cancellationApproval: false,
    });
    mark = prism.mark();
  });
  const prismSilent = () => expect(prism.problems(mark), prism.log().slice(mark)).toEqual([]);

  let nextBankId = 1;
  function bank(
    profile: Record<string, unknown> = {},
    sca: 'redirect' | 'decoupled' = 'redirect',
    baseUrl?: string,
    keys: { key: string; cert: string } = sim.keys,
  ): { connector: Connector; transport: BankTransport } {
    const configured: ConfiguredBank = {
      id: nextBankId++,
      uuid: crypto.randomUUID(),
      name: 'Banque simulée',
      standard: 'stet',
      base_url: baseUrl ?? prism.url,
      country: 'FR',
      bic: null,
      sca_approach: sca,
      profile: { ...checkOptions({ client_id: sim.clientId, token_url: sim.tokenUrl, key_id: sim.keyIdUrl, timeout_ms: 10_000, ...profile }, sca) },
      has_client_cert: false,
      has_ca: false,
      has_signing_key: true,
      created_at: 0,
    };
    const transport = createBankTransport(configured, { signingKey: keys.key, signingCert: keys.cert }, stetModule.signatureScheme!(configured));
    transports.push(transport);
    return { connector: createStetConnector(configured, STET_SETTINGS), transport };
  }

  async function payment(
    type: 'first_open_day' | 'instant' | 'deferred' = 'first_open_day',
    payer = true,
    more: Record<string, unknown> = {},
  ): Promise<ConnectorPayment> {
    const body = guideBody(type, { ...(payer ? { payer: { scheme_name: 'iban', identification: PAYER } } : {}), ...more });
    const id = await ctx().createPayment(body);
    return storedConnectorPayment(ctx(), id);
  }
  /** The payment as the core holds it (what its checks read). */
  async function record(id: number) {
    const domain = await ctx().store.db.selectFrom('payments').select('domain_id').where('id', '=', id).executeTakeFirstOrThrow();
    return getPayment(ctx().store.db, domain.domain_id, id);
  }

  const { context, settle } = connectorContexts(ctx, { baseUrl: BASE, returnUrls: RETURN, secret: 'test-secret' });

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
    await settle();
    return bankCallsInOrder(ctx().store.db, p.id);
  };
  const atBank = (p: ConnectorPayment) => sim.payments.get((p.data as StetData).resource_id!)!;
  /** The API calls the bank received for this payment (token calls left out), in order. */
  const receivedFor = async (p: ConnectorPayment) => {
    const ids = new Set((await calls(p)).filter((c) => c.operation !== 'token').map((c) => c.id));
    return sim.received.calls.filter((c) => c.requestId !== null && ids.has(c.requestId));
  };

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
  const START = { fields: {}, validate_mechanism: 'webauth' };

  it("prism mock alone (the file's own examples): the initiation passes validation and the payer goes to the example consentApproval link", async () => {
    const mockMark = mock.mark();
    const { connector, transport } = bank({ timeout_ms: 15_000 }, 'redirect', mock.url);
    const p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', validate_uri: expect.stringMatching(/^https:\/\/psd2\.aspsp\/consent-approval\?/) });
    await new Promise((r) => setTimeout(r, 100));
    expect(mock.problems(mockMark), mock.log().slice(mockMark)).toEqual([]);
  });

  it('plain redirect (before 1.5): report URL, the status shows the consent, the client token confirms', async () => {
    sim.settings.redirectFlow = 'redirect';
    const { connector, transport } = bank({ redirect_flow: 'redirect' });
    let p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', validate_uri: expect.stringContaining(`${sim.url}/consent/`) });
    p = applied(p, start);
    const back = await onPage((start as { validate_uri: string }).validate_uri, 'approve');
    expect(back.toString()).toBe(RETURN.ok);
    const returned = await connector.bankReturn(p, { result: 'ok' }, context(p, transport));
    expect(returned).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACCP' });
    expect(atBank(p).confirmedAt).not.toBeNull();
    prismSilent();
  });

  it('a bank that executes on consent (confirmation false): no confirmation call', async () => {
    sim.settings.confirmation = false;
    const { connector, transport } = bank({ confirmation: false });
    let p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    p = applied(p, start);
    const back = await onPage((start as { validate_uri: string }).validate_uri, 'approve');
    const returned = await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport));
    expect(returned).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACCP' });
    expect((await calls(p)).map((c) => c.operation)).not.toContain('confirm');
    prismSilent();
  });

  it('PKCE off: no code_challenge, and the bank exchanges the code without a verifier check', async () => {
    const { connector, transport } = bank({ pkce: false });
    let p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    const url = new URL((start as { validate_uri: string }).validate_uri);
    expect(url.searchParams.has('code_challenge')).toBe(false);
    p = applied(p, start);
    const back = await onPage(url.toString(), 'approve');
    expect(await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport))).toMatchObject({ kind: 'state', state: 'pending' });
    prismSilent();
  });

  it('DECOUPLED: the payer approves in the app, resume confirms on ACTC and reads ACCP', async () => {
    const { connector, transport } = bank({}, 'decoupled');
    let p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({ kind: 'decoupled' });
    p = applied(p, start);
    expect(atBank(p).approach).toBe('DECOUPLED');
    expect((await connector.resume(p, context(p, transport))).kind).toBe('decoupled');
    sim.approve(atBank(p).id);
    expect(await connector.resume(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACCP' });
    prismSilent();
  });

  it('EMBEDDED-1-FACTOR: the one-time code goes to the confirmation as psuAuthenticationFactor; a wrong one is rejected', async () => {
    const { connector, transport } = bank({ approach: 'EMBEDDED-1-FACTOR' });
    let p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({ kind: 'fields', fields: [{ name: 'sca_code' }] });
    p = applied(p, start);
    const done = await connector.submitFields(p, { sca_code: atBank(p).otp }, context(p, transport));
    expect(done).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACCP' });
    let q = await payment();
    q = applied(q, await connector.start(q, START, context(q, transport)));
    const wrong = await connector.submitFields(q, { sca_code: '000000' }, context(q, transport));
    expect(wrong).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'authenticationFailed' });
    // The code is not kept anywhere: not in the outcome's data, not in the exchange log.
    expect(JSON.stringify(done.data)).not.toContain(atBank(p).otp);
    prismSilent();
  });

  it('bulk: several creditTransferTransaction entries reach the bank; standing order: standingOrderCharacteristics', async () => {
    const { connector, transport } = bank({ bulk: true, max_instructions: 5, standing_orders: true });
    const two = guideBody('first_open_day').instructions[0]!;
    let p = await payment('first_open_day', true, { instructions: [two, { ...two, amount: 12.3, reference_id: 'SECOND' }] });
    p = applied(p, await connector.start(p, START, context(p, transport)));
    expect((atBank(p).body.creditTransferTransaction as unknown[]).length).toBe(2);
    expect(atBank(p).body.numberOfTransactions).toBe(2);
    const periodic = { ...two, execution_date_type: 'periodic', start_date: '2026-03-02', end_date: '2026-12-02', frequency: 'monthly' };
    let q = await payment('first_open_day', true, { instructions: [periodic] });
    q = applied(q, await connector.start(q, START, context(q, transport)));
    expect((atBank(q).body.creditTransferTransaction as Record<string, unknown>[])[0]).toMatchObject({
      standingOrderCharacteristics: { frequency: 'MNTH', executionRule: 'FWNG', startDate: '2026-03-02T00:00:00.000Z' },
    });
    prismSilent();
  });

  /** A payment the payer approved at the bank (REDIRECT), returned and confirmed. */
  async function consented(connector: Connector, transport: BankTransport): Promise<ConnectorPayment> {
    let p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    p = applied(p, start);
    const back = await onPage((start as { validate_uri: string }).validate_uri, 'approve');
    return applied(p, await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport)));
  }

  it('cancellation: PUT of the payment request with CANC and DS02 → rejected CancelledByClient', async () => {
    const { connector, transport } = bank();
    const p = await consented(connector, transport);
    const cancelled = await connector.cancel(p, context(p, transport));
    expect(cancelled).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'CancelledByClient', bank_status: 'CANC' });
    expect(sim.ledger.status(atBank(p))).toEqual({ status: 'CANC', reason: 'DS02' });
    expect(sim.received.count('paymentRequestPut')).toBeGreaterThan(0);
    prismSilent();
  });

  it('a lost initiation answer is unknown and never sent again; a lost status answer is unknown, the next read decides', async () => {
    const { connector, transport } = bank();
    const p = await payment();
    sim.faults.add({ kind: 'drop', operation: 'paymentRequestsPost', afterProcessing: true });
    const before = sim.received.initiations.length;
    const lost = await connector.start(p, START, context(p, transport));
    expect(lost).toMatchObject({ kind: 'unknown' });
    expect(await connector.status(applied(p, lost), context(p, transport))).toBeNull(); // no id: nothing to ask, nothing re-sent
    expect(sim.received.initiations.length).toBe(before + 1);
    expect((await calls(p)).filter((c) => c.operation === 'initiate').map((c) => c.outcome)).toEqual(['unknown']);

    const decoupled = bank({}, 'decoupled');
    let q = await payment();
    q = applied(q, await decoupled.connector.start(q, START, context(q, decoupled.transport)));
    sim.approve(atBank(q).id);
    sim.faults.add({ kind: 'error', status: 503, operation: 'paymentRequestsGet' });
    expect(await decoupled.connector.status(q, context(q, decoupled.transport))).toMatchObject({ kind: 'unknown' });
    expect(await decoupled.connector.status(q, context(q, decoupled.transport))).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACCP' });
  });

  it('a 401 forgets the client token: a status read is made once more with a fresh one, an initiation never (the next one gets a fresh token)', async () => {
    const { connector, transport } = bank();
    const p = await payment();
    const started = applied(p, await connector.start(p, START, context(p, transport))); // a token is kept
    sim.faults.add({ kind: 'reject', code: 'UNAUTHORIZED', operation: 'paymentRequestsPost' });
    const q = await payment();
    expect(await connector.start(q, START, context(q, transport))).toMatchObject({ kind: 'refused', error_description: expect.stringContaining('401') });
    expect((await calls(q)).map((c) => `${c.operation} ${c.http_status}`)).toEqual(['initiate 401']);
    const r = await payment();
    expect(await connector.start(r, START, context(r, transport))).toMatchObject({ kind: 'redirect' });
    expect((await calls(r)).map((c) => `${c.operation} ${c.http_status}`)).toEqual(['token 200', 'initiate 201']);

    sim.faults.add({ kind: 'reject', code: 'UNAUTHORIZED', operation: 'paymentRequestsGet' });
    await connector.status(started, context(started, transport));
    expect((await calls(started)).map((c) => `${c.operation} ${c.http_status}`).slice(-3)).toEqual(['status 401', 'token 200', 'status 200']);
  });

  it('the client token is asked for once and reused, renewed 30 s before it expires; a refused one sends nothing to the API, a lost one leaves a status read unknown', async () => {
    const { connector, transport } = bank();
    const operations = async (p: ConnectorPayment) => (await calls(p)).map((c) => `${c.operation} ${c.http_status}`);
    const p = await payment();
    const started = applied(p, await connector.start(p, START, context(p, transport)));
    expect(await operations(p)).toEqual(['token 200', 'initiate 201']);
    const q = await payment();
    expect(await connector.start(q, START, context(q, transport))).toMatchObject({ kind: 'redirect' });
    expect(await operations(q)).toEqual(['initiate 201']);
    // The simulator's token lives 3600 s: 29 s before it expires, a new one is asked for first.
    ctx().clock.advance(3_600_000 - 29_000);
    const r = await payment();
    expect(await connector.start(r, START, context(r, transport))).toMatchObject({ kind: 'redirect' });
    expect(await operations(r)).toEqual(['token 200', 'initiate 201']);

    ctx().clock.advance(3_600_000);
    sim.faults.add({ kind: 'reject', code: 'BAD_REQUEST', operation: 'token', text: 'client suspended' });
    const s = await payment();
    expect(await connector.start(s, START, context(s, transport))).toMatchObject({
      kind: 'refused',
      error_code: 'websiteUnavailable',
      error_description: expect.stringContaining('invalid_request: client suspended'),
    });
    expect(await operations(s)).toEqual(['token 400']);
    sim.faults.add({ kind: 'error', status: 503, operation: 'token' });
    expect(await connector.status(started, context(started, transport))).toMatchObject({ kind: 'unknown' });
    expect((await operations(p)).slice(2)).toEqual(['token 503']);
  });

  it('a bank error (ErrorModel) is mapped to a Powens code', async () => {
    const { connector, transport } = bank();
    const p = await payment();
    sim.faults.add({ kind: 'reject', code: 'BAD_REQUEST', text: 'creditorAccount: unknown IBAN', operation: 'paymentRequestsPost' });
    expect(await connector.start(p, START, context(p, transport))).toMatchObject({ kind: 'refused', error_code: 'invalidBeneficiary' });
    prismSilent();
  });
  it('profile accept: a bank that answers 406 to application/hal+json is called with application/json', async () => {
    sim.settings.refuseHalAccept = true;
    const hal = bank({}, 'redirect', sim.baseUrl);
    const p = await payment();
    expect(await hal.connector.start(p, START, context(p, hal.transport))).toMatchObject({
      kind: 'refused',
      error_code: 'bug',
      error_description: expect.stringContaining('406'),
    });
    const json = bank({ accept: 'application/json' }, 'redirect', sim.baseUrl);
    const q = await payment();
    expect(await json.connector.start(q, START, context(q, json.transport))).toMatchObject({ kind: 'redirect' });
  });

  it("profile token_type: a bank returning 'bearer' that takes only 'Bearer' works with the default, not with as_returned", async () => {
    sim.settings.lowerCaseTokenType = true;
    const asReturned = bank({ token_type: 'as_returned' }, 'redirect', sim.baseUrl);
    const p = await payment();
    expect(await asReturned.connector.start(p, START, context(p, asReturned.transport))).toMatchObject({
      kind: 'refused',
      error_description: expect.stringContaining('401'),
    });
    const normal = bank({}, 'redirect', sim.baseUrl);
    const q = await payment();
    expect(await normal.connector.start(q, START, context(q, normal.transport))).toMatchObject({ kind: 'redirect' });
  });

  it("profile psu_headers: the payer's IPv4 PSU-IP-Address is sent (the TPP's for an IPv6 payer); a bank that needs it refuses a call without", async () => {
    sim.settings.requirePsuIpAddress = true;
    const none = bank({ psu_headers: false });
    const p = await payment();
    expect(await none.connector.start(p, START, context(p, none.transport))).toMatchObject({ kind: 'refused', error_code: 'invalidValue' });
    const sent = bank({ tpp_ip_address: '203.0.113.5' });
    const q = { ...(await payment()), psu_ip_address: '2001:db8::7' };
    expect(await sent.connector.start(q, START, context(q, sent.transport))).toMatchObject({ kind: 'redirect' });
    prismSilent();
  });

  it('profile resource_id_from: an id the bank puts only in its consent link (query parameter)', async () => {
    // The simulator puts the id in the link's `context` parameter as well as in Location.
    const { connector, transport } = bank({ resource_id_from: 'query', resource_id_param: 'context' });
    const p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', bank_reference: expect.stringMatching(/^PR/) });
    expect(sim.payments.has((start as { bank_reference: string }).bank_reference)).toBe(true);
    prismSilent();
  });

  it('a create answered 200 instead of 201 is taken as created: the payer goes to the consent link and the payment proceeds', async () => {
    // STET's 1.5 file allows only 201 for POST /payment-requests (prism proxy --errors would refuse
    // the 200 as a violation), so this bank is reached without Prism.
    sim.settings.createStatus = 200;
    const { connector, transport } = bank({}, 'redirect', sim.baseUrl);
    let p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({
      kind: 'redirect',
      bank_reference: expect.stringMatching(/^PR/),
      validate_uri: expect.stringContaining(`${sim.url}/authorize?`),
    });
    expect((await calls(p)).map((c) => `${c.operation} ${c.http_status}`)).toEqual(['token 200', 'initiate 200']);
    p = applied(p, start);
    const back = await onPage((start as { validate_uri: string }).validate_uri, 'approve');
    expect(await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport))).toMatchObject({
      kind: 'state',
      state: 'pending',
      bank_status: 'ACCP',
    });
  });

  it('profile signing: off, no Signature or Digest is sent (a bank that checks refuses the call); on, the bank checks them and refuses a wrong signature', async () => {
    const signedOf = async (p: ConnectorPayment) => (await receivedFor(p)).map((c) => c.signed);
    // STET's file makes Signature and Digest required headers: prism proxy --errors refuses an
    // unsigned request itself, so the unsigned bank is reached without Prism.
    sim.settings.verifySignatures = false;
    const off = bank({ signing: false }, 'redirect', sim.baseUrl);
    const p = await payment();
    expect(await off.connector.start(p, START, context(p, off.transport))).toMatchObject({ kind: 'redirect' });
    expect(await signedOf(p)).toEqual([{ signature: false, digest: false }]);
    const on = bank();
    const q = await payment();
    expect(await on.connector.start(q, START, context(q, on.transport))).toMatchObject({ kind: 'redirect' });
    expect(await signedOf(q)).toEqual([{ signature: true, digest: true }]);

    sim.settings.verifySignatures = true;
    const r = await payment();
    expect(await off.connector.start(r, START, context(r, off.transport))).toMatchObject({
      kind: 'refused',
      error_description: expect.stringContaining('401'),
    });
    const otherDir = `${process.env.TMPDIR ?? '/tmp'}/payrail-stet-test-other-${crypto.randomUUID()}`;
    const other = generateTppKeys(otherDir, sim.clientId);
    rmSync(otherDir, { recursive: true, force: true }); // the keys are in memory now
    const wrong = bank({}, 'redirect', prism.url, other);
    const s = await payment();
    expect(await wrong.connector.start(s, START, context(s, wrong.transport))).toMatchObject({
      kind: 'refused',
      error_description: expect.stringContaining('401'),
    });
    expect(sim.received.calls.at(-1)).toMatchObject({ operation: 'paymentRequestsPost', signed: { signature: true, digest: true } });
    expect((await calls(s)).filter((c) => c.operation === 'initiate').every((c) => c.http_status === 401)).toBe(true);
    prismSilent();
  });

  it('profile authorization_url: a bank whose answer has no consentApproval link sends the payer to the configured authorization URL', async () => {
    sim.settings.consentLink = false;
    const authorize = `${sim.url}/oauth2/authorize`;
    const { connector, transport } = bank({ authorization_url: authorize });
    const p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', bank_reference: expect.stringMatching(/^PR/) });
    const url = new URL((start as { validate_uri: string }).validate_uri);
    expect(url.origin + url.pathname).toBe(authorize);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: sim.clientId,
      redirect_uri: `${BASE}/2.0/consent/return`,
      state: expect.stringMatching(new RegExp(`^${p.id}\\.`)),
    });
    // Without it, the payer would not be sent there.
    const none = bank();
    const q = await payment();
    const other = new URL(((await none.connector.start(q, START, context(q, none.transport))) as { validate_uri: string }).validate_uri);
    expect(other.origin + other.pathname).not.toBe(authorize);
    prismSilent();
  });

  it('profile timeout_ms: a bank call that hangs ends unknown at that deadline, never re-sent', async () => {
    const { connector, transport } = bank({ timeout_ms: 500 }, 'redirect', sim.baseUrl);
    const first = await payment();
    await connector.start(first, START, context(first, transport)); // a client token is kept
    const p = await payment();
    sim.faults.add({ kind: 'hang', operation: 'paymentRequestsPost' });
    const before = sim.received.initiations.length;
    const started = performance.now();
    expect(await connector.start(p, START, context(p, transport))).toMatchObject({ kind: 'unknown' });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(5_000); // the default deadline is 10 s
    expect(sim.received.initiations.length).toBe(before + 1);
    expect((await calls(p)).map((c) => `${c.operation} ${c.outcome}`)).toEqual(['initiate unknown']);
  });

  it("profile poll_payer_ms, poll_initial_ms, poll_max_ms: the next status read while the payer is at the bank's page, after their return, and at most", async () => {
    const tuned = bank({ poll_payer_ms: 7_000, poll_initial_ms: 3_000, poll_max_ms: 60_000 });
    const standard = bank();
    let p = await payment();
    const c = context(p, tuned.transport);
    p = applied(p, await tuned.connector.start(p, START, c));
    expect(p.state).toBe('validating');
    expect(tuned.connector.pollIntervalMs(p, context(p, tuned.transport))).toBe(7_000);
    expect(standard.connector.pollIntervalMs(p, context(p, standard.transport))).toBe(20_000);
    const back = await onPage(((p.data as StetData).consent_url ?? '') as string, 'approve');
    p = applied(p, await tuned.connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, tuned.transport)));
    expect(p.state).toBe('pending');
    expect(tuned.connector.pollIntervalMs(p, context(p, tuned.transport))).toBe(3_000);
    expect(standard.connector.pollIntervalMs(p, context(p, standard.transport))).toBe(2_000);
    ctx().clock.advance(3_600_000);
    expect(tuned.connector.pollIntervalMs(p, context(p, tuned.transport))).toBe(60_000);
    expect(standard.connector.pollIntervalMs(p, context(p, standard.transport))).toBe(900_000);
    prismSilent();
  });

  it("cancellation the payer must approve: the PUT's answer has a consentApproval link → cancelling with that page; Approve → CANC DS02 → rejected CancelledByClient", async () => {
    sim.settings.cancellationApproval = true;
    const { connector, transport } = bank();
    let p = await consented(connector, transport);
    expect(p.state).toBe('pending');
    const cancelling = await connector.cancel(p, context(p, transport));
    expect(cancelling).toMatchObject({ kind: 'cancelling', validate_uri: `${sim.url}/cancellation/${atBank(p).id}` });
    p = applied(p, cancelling);
    expect(p.state).toBe('pending');
    // Until the payer approves, the bank has not cancelled anything.
    expect(sim.ledger.status(atBank(p)).status).toBe('ACCP');
    expect(await connector.status(p, context(p, transport))).toBeNull(); // nothing changed
    const returned = await onPage((cancelling as { validate_uri: string }).validate_uri, 'approve');
    expect(returned.toString()).toBe(RETURN.ok);
    expect(sim.ledger.status(atBank(p))).toEqual({ status: 'CANC', reason: 'DS02' });
    expect(await connector.status(p, context(p, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'CancelledByClient',
      bank_status: 'CANC',
    });
    prismSilent();
  });

  it('profile key_id_form: the keyId of the Signature the bank receives is the certificate URL, the client id, the serial or the base64 DER', async () => {
    const cert = new X509Certificate(sim.keys.cert);
    const forms = { url: sim.keyIdUrl, client_id: sim.clientId, serial: cert.serialNumber.toUpperCase(), der: cert.raw.toString('base64') };
    expect(new Set(Object.values(forms)).size).toBe(4);
    for (const [form, keyId] of Object.entries(forms)) {
      const { connector, transport } = bank({ key_id_form: form });
      const p = await payment();
      expect(await connector.start(p, START, context(p, transport)), form).toMatchObject({ kind: 'redirect' });
      expect(
        (await receivedFor(p)).map((c) => c.signature?.keyId),
        form,
      ).toEqual([keyId]);
    }
    prismSilent();
  });

  it('profile signed_headers: the headers= list of the Signature the bank receives follows it (psu-* = the PSU headers sent; digest and x-request-id always)', async () => {
    const listed = async (profile: Record<string, unknown>) => {
      const { connector, transport } = bank(profile);
      const p = await payment();
      expect(await connector.start(p, START, context(p, transport))).toMatchObject({ kind: 'redirect' }); // the bank checked the signature
      return (await receivedFor(p)).map((c) => c.signature?.headers);
    };
    expect(await listed({})).toEqual([['(request-target)', 'digest', 'x-request-id', 'psu-ip-address']]);
    expect(await listed({ signed_headers: ['(request-target)', 'authorization', 'x-request-id', 'digest'] })).toEqual([
      ['(request-target)', 'authorization', 'x-request-id', 'digest'],
    ]);
    expect(await listed({ signed_headers: ['(request-target)'] })).toEqual([['(request-target)', 'digest', 'x-request-id']]);
    prismSilent();
  });

  it('profile amount_type: instructedAmount.amount reaches the bank as a JSON number (default) or a decimal string', async () => {
    const number = bank();
    const p = await payment();
    const started = applied(p, await number.connector.start(p, START, context(p, number.transport)));
    const sent = (atBank(started).body.creditTransferTransaction as { instructedAmount: unknown }[])[0]!.instructedAmount;
    expect(sent).toStrictEqual({ amount: 50.9, currency: 'EUR' });
    prismSilent();
    // STET's 1.5 file types the amount as a number (prism proxy --errors would refuse a string), so
    // the 1.4-style bank taking strings is reached without Prism.
    const text = bank({ amount_type: 'string' }, 'redirect', sim.baseUrl);
    const q = await payment();
    const textStarted = applied(q, await text.connector.start(q, START, context(q, text.transport)));
    expect((atBank(textStarted).body.creditTransferTransaction as { instructedAmount: unknown }[])[0]!.instructedAmount).toStrictEqual({
      amount: '50.90',
      currency: 'EUR',
    });
  });

  it('profile execution_date_level: requestedExecutionDate in each creditTransferTransaction (default) or once at payment level (1.4 shape)', async () => {
    const two = guideBody('deferred').instructions[0]!;
    const instructions = [two, { ...two, amount: 12.3, reference_id: 'SECOND' }];
    const sentBy = async (profile: Record<string, unknown>, baseUrl?: string) => {
      const { connector, transport } = bank({ bulk: true, ...profile }, 'redirect', baseUrl);
      const p = await payment('deferred', true, { instructions });
      const start = await connector.start(p, START, context(p, transport));
      expect(start).toMatchObject({ kind: 'redirect' });
      const body = atBank(applied(p, start)).body as Record<string, any>;
      return {
        payment: body.requestedExecutionDate,
        instructions: body.creditTransferTransaction.map((t: Record<string, unknown>) => t.requestedExecutionDate),
      };
    };
    const date = '2026-02-02T00:00:00.000Z';
    expect(await sentBy({})).toEqual({ payment: undefined, instructions: [date, date] });
    prismSilent();
    // STET's 1.5 file requires requestedExecutionDate in each transaction and has none at payment
    // level (prism proxy --errors refuses the 1.4 shape), so the 1.4-style bank is reached without Prism.
    expect(await sentBy({ execution_date_level: 'payment' }, sim.baseUrl)).toEqual({ payment: date, instructions: [undefined, undefined] });
  });

  /** A payment the core's checks and the connector both refuse before any bank call: the reason's code, the connector's error. */
  async function refusedEarly(connector: Connector, transport: BankTransport, p: ConnectorPayment, code: string) {
    expect(
      compatibilityOf(await record(p.id), connector, ctx().clock.now())
        .filter((r) => r.type === 'incompatible')
        .map((r) => r.code),
    ).toContain(code);
    const before = sim.received.calls.length;
    const refused = await connector.start(p, START, context(p, transport));
    expect(sim.received.calls.length).toBe(before);
    expect(await calls(p)).toEqual([]);
    return refused;
  }

  it('profile minimum_amount: a payment below it is refused before any bank call, naming the amount; at it, it goes to the bank', async () => {
    const high = bank({ minimum_amount: '60.00' });
    const p = await payment();
    // The core's check (payment_settings): the Powens error on connector_uuid, minAmount with the bank's minimum.
    const held = await record(p.id);
    expect(compatibilityOf(held, high.connector, ctx().clock.now())).toContainEqual(
      expect.objectContaining({ code: 'minAmount', type: 'incompatible', value_connector: '60.00', value_payment: 5090 }),
    );
    let refused: unknown = null;
    try {
      checkCompatible(held, high.connector, ctx().clock.now());
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'invalidValue', field: 'connector_uuid', message: expect.stringContaining('minAmount') });
    // The connector refuses it too, should it be asked: the error names the bank's minimum.
    expect(await refusedEarly(high.connector, high.transport, p, 'minAmount')).toMatchObject({
      kind: 'refused',
      error_code: 'invalidAmount',
      error_description: expect.stringContaining('60.00 EUR'),
    });
    const exact = bank({ minimum_amount: '50.90' });
    const q = await payment();
    expect(compatibilityOf(await record(q.id), exact.connector, ctx().clock.now()).map((r) => r.code)).not.toContain('minAmount');
    expect(await exact.connector.start(q, START, context(q, exact.transport))).toMatchObject({ kind: 'redirect' });
    prismSilent();
  });

  it('profile initiating_party: the initiatingParty name the bank receives (Payrail by default)', async () => {
    const nameOf = async (profile: Record<string, unknown>) => {
      const { connector, transport } = bank(profile);
      const p = await payment();
      return atBank(applied(p, await connector.start(p, START, context(p, transport)))).body.initiatingParty;
    };
    expect(await nameOf({})).toEqual({ name: 'Payrail' });
    expect(await nameOf({ initiating_party: 'Boutique Exemple SAS' })).toEqual({ name: 'Boutique Exemple SAS' });
    prismSilent();
  });

  it('profile execution_date_types: a type the bank does not offer is refused before any bank call; an offered one goes to the bank', async () => {
    const only = bank({ execution_date_types: ['first_open_day'] });
    expect(only.connector.descriptor.payment_settings.execution_date_types).toEqual(['first_open_day']);
    expect(await refusedEarly(only.connector, only.transport, await payment('instant'), 'nspDateType')).toMatchObject({
      kind: 'refused',
      error_code: 'invalidValue',
      error_description: expect.stringContaining('instant'),
    });
    const offered = await payment();
    expect(await only.connector.start(offered, START, context(offered, only.transport))).toMatchObject({ kind: 'redirect' });
    const all = bank();
    const p = await payment('instant');
    const start = await all.connector.start(p, START, context(p, all.transport));
    expect(start).toMatchObject({ kind: 'redirect' });
    expect(atBank(applied(p, start)).body.paymentTypeInformation).toMatchObject({ localInstrument: 'INST' });
    prismSilent();
  });

  it('profile currencies: EUR only (a SEPA credit transfer); a payment in another currency is refused before any bank call', async () => {
    expect(() => checkOptions({ client_id: sim.clientId, token_url: sim.tokenUrl, key_id: sim.keyIdUrl, currencies: ['USD'] }, 'redirect')).toThrow(
      /currencies/,
    );
    const { connector, transport } = bank({ currencies: ['EUR'] });
    expect(connector.descriptor.payment_settings.currencies).toEqual(['EUR']);
    const usd = guideBody('first_open_day').instructions[0]!;
    const p = await payment('first_open_day', true, { instructions: [{ ...usd, currency: 'USD' }] });
    expect(await refusedEarly(connector, transport, p, 'nspCurrency')).toMatchObject({
      kind: 'refused',
      error_code: 'invalidCurrency',
      error_description: expect.stringContaining('EUR'),
    });
    prismSilent();
  });

  it('profile bulk and max_instructions: several instructions at a bank without bulk, or more than max_instructions, are refused before any bank call', async () => {
    const one = guideBody('first_open_day').instructions[0]!;
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ ...one, reference_id: `REF${i + 1}` }));
    const single = bank();
    expect(await refusedEarly(single.connector, single.transport, await payment('first_open_day', true, { instructions: many(2) }), 'nspBulk')).toMatchObject({
      kind: 'refused',
      error_code: 'invalidValue',
      error_description: expect.stringContaining('at most 1 instruction'),
    });
    const two = bank({ bulk: true, max_instructions: 2 });
    expect(await refusedEarly(two.connector, two.transport, await payment('first_open_day', true, { instructions: many(3) }), 'maxBulk')).toMatchObject({
      kind: 'refused',
      error_code: 'invalidValue',
      error_description: expect.stringContaining('at most 2 instruction'),
    });
    const p = await payment('first_open_day', true, { instructions: many(2) });
    const start = await two.connector.start(p, START, context(p, two.transport));
    expect(start).toMatchObject({ kind: 'redirect' });
    expect((atBank(applied(p, start)).body.creditTransferTransaction as unknown[]).length).toBe(2);
    prismSilent();
  });

  it('profile cancellation: false, the core refuses to cancel a pending payment (Powens notSupported) instead of asking the bank', async () => {
    const pending = async (profile: Record<string, unknown>) => {
      const { connector } = bank(profile);
      const held = await record((await payment()).id);
      return () => checkCancel({ ...held.payment, state: 'pending', state_detail: null }, connector, ['first_open_day']);
    };
    expect((await pending({}))()).toBe('bank');
    expect(await pending({ cancellation: false })).toThrow(expect.objectContaining({ code: 'notSupported' }));
  });

  it('profile version: a 1.4 bank gets the 1.4 defaults (amounts as strings, the date at payment level, the plain redirect with report URLs)', async () => {
    // The 1.4 shapes are refused by STET's 1.5 file (see amount_type, execution_date_level): no Prism.
    sim.settings.redirectFlow = 'redirect';
    const { connector, transport } = bank({ version: '1.4.1' }, 'redirect', sim.baseUrl);
    const p = await payment();
    const start = await connector.start(p, START, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', validate_uri: expect.stringContaining(`${sim.url}/consent/`) });
    const body = atBank(applied(p, start)).body as Record<string, any>;
    expect(body.requestedExecutionDate).toEqual(expect.any(String));
    expect(body.creditTransferTransaction[0].requestedExecutionDate).toBeUndefined();
    expect(body.creditTransferTransaction[0].instructedAmount).toStrictEqual({ amount: '50.90', currency: 'EUR' });
  });

  it('profile standing_orders: false (default), a periodic payment is refused before any bank call', async () => {
    const periodic = { ...guideBody('first_open_day').instructions[0]!, execution_date_type: 'periodic', start_date: '2026-03-02', frequency: 'monthly' };
    const { connector, transport } = bank();
    expect(connector.descriptor.payment_settings.execution_frequencies).toEqual([]);
    const p = await payment('first_open_day', true, { instructions: [periodic] });
    expect(await refusedEarly(connector, transport, p, 'nspDateType')).toMatchObject({
      kind: 'refused',
      error_code: 'invalidValue',
      error_description: expect.stringContaining('periodic'),
    });
  });
});
