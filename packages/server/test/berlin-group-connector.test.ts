/**
 * The Berlin Group connector against the NextGenPSD2 simulator on loopback, through the core's own
 * bank HTTP client (attempt rows before each call, deadline, exchange log) on every database.
 * Here the test plays the core's part of applying outcomes; the full stack runs in the
 * conformance suite.
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createBerlinGroupConnector, type BgData } from '../src/connectors/berlin-group/connector.ts';
import { BERLIN_GROUP_SETTINGS } from '../src/connectors/berlin-group/index.ts';
import { checkOptions } from '../src/connectors/berlin-group/profile.ts';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../src/connectors/berlin-group/simulator/index.ts';
import { DEFAULT_EMBEDDED } from '../src/connectors/berlin-group/simulator/embedded.ts';
import { createBankTransport, type BankMaterial, type BankTransport } from '../src/connectors/kit/http.ts';
import { makePki } from './support/certs.ts';
import type { ConfiguredBank, Connector, ConnectorOutcome, ConnectorPayment } from '../src/connectors/kit/index.ts';
import { bankCallsInOrder, connectorContexts, describeEachDb, guideBody, storedConnectorPayment } from './support/helpers.ts';

const PAYER = 'DE02100100109307118603';
const RETURN = { ok: 'https://payrail.example/2.0/bank-return/ok?state=7.sig', nok: 'https://payrail.example/2.0/bank-return/nok?state=7.sig' };
const SETTLE_MS = 4_000;

describeEachDb('Berlin Group connector against the simulator', (ctx) => {
  let sim: BerlinGroupSimulator;
  const transports: BankTransport[] = [];

  beforeAll(async () => {
    sim = await startBerlinGroupSimulator({ clock: ctx().clock, settleAfterMs: SETTLE_MS });
  });
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await sim.close();
  });
  beforeEach(() => {
    sim.faults.clear();
    Object.assign(sim.settings, {
      explicitStart: false,
      cancellationSca: false,
      scaApproach: 'redirect',
      requireDate: false,
      requireCreditorAddress: false,
      embedded: null,
      vop: null,
      requireSignature: false,
      echoRequestId: true,
    });
  });

  let nextBankId = 1;
  function bank(
    sca: 'redirect' | 'decoupled' = 'redirect',
    profile: Record<string, unknown> = {},
    material: BankMaterial = {},
  ): { connector: Connector; transport: BankTransport } {
    const configured: ConfiguredBank = {
      id: nextBankId++,
      uuid: crypto.randomUUID(),
      name: 'Simulated bank',
      standard: 'berlin-group',
      base_url: sim.url,
      country: 'DE',
      bic: null,
      sca_approach: sca,
      profile: { ...checkOptions({ timeout_ms: 1_000, deferred: true, ...profile }, sca) },
      has_client_cert: false,
      has_ca: false,
      has_signing_key: Boolean(material.signingKey),
      created_at: 0,
    };
    const transport = createBankTransport(configured, material);
    transports.push(transport);
    return { connector: createBerlinGroupConnector(configured, BERLIN_GROUP_SETTINGS), transport };
  }

  /** A stored payment (attempt rows reference it) and its connector snapshot. */
  async function payment(type: 'first_open_day' | 'instant' | 'deferred' = 'first_open_day', payer = true): Promise<ConnectorPayment> {
    const body = guideBody(type, payer ? { payer: { scheme_name: 'iban', identification: PAYER } } : {});
    if (type === 'deferred') body.instructions[0]!.execution_date = '2026-02-02';
    const id = await ctx().createPayment(body);
    return storedConnectorPayment(ctx(), id);
  }

  /** The clients' calls are recorded as the core would (settle) before the calls are read. */
  const { context, settle } = connectorContexts(ctx, { baseUrl: 'https://payrail.example', returnUrls: RETURN });

  /** What the core does with an outcome, as far as the next snapshot is concerned. */
  function applied(p: ConnectorPayment, o: ConnectorOutcome | null): ConnectorPayment {
    if (!o) return p;
    const state = o.kind === 'state' ? o.state : o.kind === 'refused' ? 'rejected' : o.kind === 'unknown' || o.kind === 'cancelling' ? p.state : 'validating';
    return {
      ...p,
      state,
      data: o.data,
      bank_payment_id: o.bank_reference ?? p.bank_payment_id,
      action: o.kind === 'redirect' || o.kind === 'cancelling' ? 'redirect' : o.kind === 'decoupled' ? 'decoupled' : null,
      state_detail: o.kind === 'cancelling' ? 'cancelling' : o.kind === 'state' ? null : p.state_detail,
    };
  }

  async function onPage(url: string, decision: 'approve' | 'refuse') {
    const page = await (await fetch(url)).text();
    expect(page).toContain('Approve');
    const token = /name="token" value="([^"]+)"/.exec(page)![1]!;
    const answer = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, decision }),
    });
    return answer.headers.get('location');
  }

  const simPayment = (p: ConnectorPayment) => sim.payments.get((p.data as BgData).payment_id!)!;
  const attempts = async (p: ConnectorPayment) => {
    await settle();
    return bankCallsInOrder(ctx().store.db, p.id);
  };

  it('redirect, implicit start: initiation with the standard headers, payer approves, return, status until ACSC → done', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    const before = sim.received.initiations.length;
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', validate_uri: expect.stringMatching(new RegExp(`^${sim.url}/sca/`)) });
    p = applied(p, start);
    const at = simPayment(p);
    expect(sim.received.initiations.length).toBe(before + 1);
    expect(at).toMatchObject({
      service: 'payments',
      product: 'sepa-credit-transfers',
      approach: 'REDIRECT',
      redirectUri: RETURN.ok,
      nokRedirectUri: RETURN.nok,
    });
    expect(at.body).toMatchObject({ instructedAmount: { currency: 'EUR', amount: '50.90' }, debtorAccount: { iban: PAYER }, creditorName: 'ACME Corp.' });
    expect(p.bank_payment_id).toBe(at.paymentId);
    const [initiation] = await attempts(p);
    expect(initiation).toMatchObject({ operation: 'initiate', http_status: 201, id: at.requestId });

    expect(await onPage(start.kind === 'redirect' ? start.validate_uri : '', 'approve')).toBe(RETURN.ok);
    const back = await connector.bankReturn(p, { result: 'ok' }, context(p, transport));
    expect(back).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACTC' });
    p = applied(p, back);
    expect(await connector.status(p, context(p, transport))).toBeNull(); // still ACTC: nothing new
    ctx().clock.advance(SETTLE_MS / 2);
    const acsp = await connector.status(p, context(p, transport));
    expect(acsp).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACSP' });
    p = applied(p, acsp);
    ctx().clock.advance(SETTLE_MS);
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });
  });

  it('send_date: a bank that refuses calls without Date gets one on every call (its clock, IMF-fixdate)', async () => {
    sim.settings.requireDate = true;
    const without = bank();
    const p = await payment();
    expect(await without.connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, without.transport))).toMatchObject({
      kind: 'refused',
      // The bank's profile is wrong, not the merchant's payment: the operator's to fix.
      error_code: 'bug',
      error_description: 'FORMAT_ERROR: The Date header is required (IMF-fixdate).',
    });
    const withDate = bank('redirect', { send_date: true });
    let q = await payment();
    const start = await withDate.connector.start(q, { fields: {}, validate_mechanism: 'webauth' }, context(q, withDate.transport));
    expect(start.kind).toBe('redirect');
    q = applied(q, start);
    await onPage(start.kind === 'redirect' ? start.validate_uri : '', 'approve');
    expect(await withDate.connector.bankReturn(q, { result: 'ok' }, context(q, withDate.transport))).toMatchObject({ kind: 'state', state: 'pending' });
    expect((await attempts(q)).map((a) => `${a.operation} ${a.http_status}`)).toEqual(['initiate 201', 'status 200']);
  });

  it("creditorAddress: the beneficiary's postal address (API extension) goes to the bank; creditor_address sends at least the IBAN's country", async () => {
    sim.settings.requireCreditorAddress = true;
    const address = { country: 'FR', street_name: 'Rue de la Paix', building_number: '2', post_code: '75002', town_name: 'Paris' };
    const body = guideBody('first_open_day', { payer: { scheme_name: 'iban', identification: PAYER } });
    (body.instructions[0]!.beneficiary as Record<string, unknown>).postal_address = address;
    const admin = await ctx().token('payments:admin');
    const created = await ctx().app.inject({ method: 'POST', url: '/2.0/payments', headers: { authorization: `Bearer ${admin}` }, payload: body });
    expect(created.statusCode).toBe(200);
    expect(created.json().instructions[0].beneficiary.postal_address).toEqual(address);
    const bad = structuredClone(body);
    (bad.instructions[0]!.beneficiary as Record<string, unknown>).postal_address = { town_name: 'Paris' };
    const refused = await ctx().app.inject({ method: 'POST', url: '/2.0/payments', headers: { authorization: `Bearer ${admin}` }, payload: bad });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'missingParameter', field: 'instructions[0].beneficiary.postal_address.country' });

    const { connector, transport } = bank();
    const withAddress = await storedConnectorPayment(ctx(), created.json().id);
    const start = await connector.start(withAddress, { fields: {}, validate_mechanism: 'webauth' }, context(withAddress, transport));
    expect(start.kind).toBe('redirect');
    expect(simPayment(applied(withAddress, start)).body.creditorAddress).toEqual({
      streetName: 'Rue de la Paix',
      buildingNumber: '2',
      townName: 'Paris',
      postCode: '75002',
      country: 'FR',
    });

    // Without an address: refused by this bank, unless the profile sends the IBAN's country.
    const p = await payment();
    expect(await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport))).toMatchObject({
      kind: 'refused',
      error_code: 'invalidBeneficiary',
    });
    const always = bank('redirect', { creditor_address: true });
    const q = await payment();
    const sent = await always.connector.start(q, { fields: {}, validate_mechanism: 'webauth' }, context(q, always.transport));
    expect(simPayment(applied(q, sent)).body.creditorAddress).toEqual({ country: 'FR' });
  });

  it('embedded SCA: id and password, a choice of method (link with its own query), the one-time code → pending; wrong password or code → authenticationFailed; nothing secret stored', async () => {
    sim.settings.embedded = DEFAULT_EMBEDDED;
    const { connector, transport } = bank('redirect', { embedded: true });
    const [sms] = DEFAULT_EMBEDDED.methods;
    const go = async (p: ConnectorPayment, fields: Record<string, string>) => {
      const o = await connector.submitFields(p, fields, context(p, transport));
      return { o, p: applied(p, o) };
    };
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(start).toMatchObject({ kind: 'fields', fields: [{ name: 'psu_id' }, { name: 'psu_password', type: 'password' }] });
    p = applied(p, start);
    expect(simPayment(p).approach).toBe('EMBEDDED');
    let step = await go(p, { psu_id: 'jdoe', psu_password: DEFAULT_EMBEDDED.password });
    expect(step.o).toMatchObject({
      kind: 'fields',
      fields: [{ name: 'sca_method', values: DEFAULT_EMBEDDED.methods.map((m) => ({ value: m.id, label: m.name })) }],
    });
    step = await go(step.p, { sca_method: sms!.id });
    expect(step.o).toMatchObject({ kind: 'fields', fields: [{ name: 'sca_code' }], description: expect.stringContaining(sms!.name) });
    step = await go(step.p, { sca_code: sms!.code });
    expect(step.o).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACTC' });
    const ops = (await attempts(p)).map((a) => `${a.operation} ${a.http_status}`);
    expect(ops.slice(0, 4)).toEqual(['initiate 201', 'authorise 201', 'select-method 200', 'authorise-transaction 200']);
    const exchanges = await ctx().store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', p.id).execute();
    expect(exchanges.find((e) => e.path.includes('?step=method'))).toBeTruthy();

    // A wrong password, then (another payment) a wrong code: rejected, with the bank's reason.
    let q = await payment();
    q = applied(q, await connector.start(q, { fields: {}, validate_mechanism: 'webauth' }, context(q, transport)));
    expect((await go(q, { psu_id: 'jdoe', psu_password: 'not-it' })).o).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'authenticationFailed',
      error_description: 'PSU_CREDENTIALS_INVALID: The online banking id or password is wrong.',
    });
    let r = await payment();
    r = applied(r, await connector.start(r, { fields: {}, validate_mechanism: 'webauth' }, context(r, transport)));
    r = (await go(r, { psu_id: 'jdoe', psu_password: DEFAULT_EMBEDDED.password })).p;
    r = (await go(r, { sca_method: sms!.id })).p;
    expect((await go(r, { sca_code: '000000' })).o).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'authenticationFailed' });

    await attempts(r);
    const stored = JSON.stringify([
      await ctx().store.db.selectFrom('bank_exchanges').selectAll().execute(),
      await ctx().store.db.selectFrom('bank_calls').selectAll().execute(),
      await ctx().store.db.selectFrom('payment_events').selectAll().execute(),
    ]);
    for (const secret of [DEFAULT_EMBEDDED.password, sms!.code, 'not-it', '000000']) expect(stored).not.toContain(secret);
  });

  /** Embedded: the payment started (credentials asked), then each field set posted in turn; the last outcome and snapshot. */
  async function embeddedSteps(connector: Connector, transport: BankTransport, ...steps: Record<string, string>[]) {
    let p = await payment();
    let o: ConnectorOutcome = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    p = applied(p, o);
    for (const fields of steps) {
      o = await connector.submitFields(p, fields, context(p, transport));
      p = applied(p, o);
    }
    return { o, p };
  }

  it('embedded SCA, too many tries: a wrong code the bank lets the payer retype is asked again with its words; the last wrong one → authenticationFailed', async () => {
    sim.settings.embedded = { ...DEFAULT_EMBEDDED, maxTries: 2 };
    const { connector, transport } = bank('redirect', { embedded: true });
    const [sms] = DEFAULT_EMBEDDED.methods;
    const login = { psu_id: 'jdoe', psu_password: DEFAULT_EMBEDDED.password };
    let run = await embeddedSteps(connector, transport, login, { sca_method: sms!.id }, { sca_code: '000000' });
    expect(run.o).toMatchObject({ kind: 'fields', fields: [{ name: 'sca_code' }], description: 'The one-time code is wrong. 1 try left.' });
    run.o = await connector.submitFields(run.p, { sca_code: sms!.code }, context(run.p, transport));
    expect(run.o).toMatchObject({ kind: 'state', state: 'pending' });

    run = await embeddedSteps(connector, transport, login, { sca_method: sms!.id }, { sca_code: '000000' }, { sca_code: '111111' });
    expect(run.o).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'authenticationFailed',
      error_description: expect.stringMatching(/Too many wrong codes/),
    });
    expect(simPayment(run.p).authorisations[0]!.scaStatus).toBe('failed');
    // The code is sent once per try: a wrong one is never sent again by Payrail.
    expect((await attempts(run.p)).map((a) => `${a.operation} ${a.http_status}`)).toEqual([
      'initiate 201',
      'authorise 201',
      'select-method 200',
      'authorise-transaction 400',
      'sca-status 200',
      'authorise-transaction 400',
      'sca-status 200',
    ]);
  });

  it("embedded SCA, the password encrypted with the bank's key (embedded_password_key, PEM or JWK): the bank decrypts it; a plain password is refused by such a bank", async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    sim.settings.embedded = { ...DEFAULT_EMBEDDED, passwordKey: privateKey };
    const [sms] = DEFAULT_EMBEDDED.methods;
    for (const key of [publicKey.export({ type: 'spki', format: 'pem' }) as string, { ...publicKey.export({ format: 'jwk' }), kid: 'bank-2026' }]) {
      const { connector, transport } = bank('redirect', { embedded: true, embedded_password_key: key });
      const run = await embeddedSteps(
        connector,
        transport,
        { psu_id: 'jdoe', psu_password: DEFAULT_EMBEDDED.password },
        { sca_method: sms!.id },
        { sca_code: sms!.code },
      );
      expect(run.o).toMatchObject({ kind: 'state', state: 'pending' });
      await attempts(run.p);
      const sent = await ctx().store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', run.p.id).where('method', '=', 'POST').execute();
      expect(sent.map((e) => e.path)).toContainEqual(expect.stringMatching(/\/authorisations$/));
      expect(JSON.stringify(sent)).not.toContain(DEFAULT_EMBEDDED.password);
      // The JWE itself is a credential (whoever holds it can replay it): blanked in the exchange log.
      expect(sent.map((e) => e.request_body).join()).toContain('"encryptedPassword":"[redacted]"');
      const wrong = await embeddedSteps(connector, transport, { psu_id: 'jdoe', psu_password: 'not-it' });
      expect(wrong.o).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'authenticationFailed' });
    }
    // The bank names the encrypted start; without a key Payrail cannot send what it wants.
    const plain = bank('redirect', { embedded: true });
    const p = await payment();
    expect(await plain.connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, plain.transport))).toMatchObject({
      kind: 'refused',
      error_code: 'bug',
      error_description: expect.stringContaining('embedded_password_key'),
    });
    expect(() => checkOptions({ embedded_password_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) }, 'redirect')).toThrow(/public key/);
    expect(() => checkOptions({ embedded_password_key: 'not a key' }, 'redirect')).toThrow(/RSA public key/);
  });

  it("embedded SCA: a next-step link on another host is never called (rejected bug); one on the bank's base URL with its own query is called as given", async () => {
    let trapped = 0;
    const trap = createServer((_req, res) => {
      trapped++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const elsewhere = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    try {
      sim.settings.embedded = { ...DEFAULT_EMBEDDED, linkBase: elsewhere };
      const { connector, transport } = bank('redirect', { embedded: true });
      const run = await embeddedSteps(connector, transport, { psu_id: 'jdoe', psu_password: DEFAULT_EMBEDDED.password });
      expect(run.o).toMatchObject({ kind: 'refused', error_code: 'bug', error_description: expect.stringContaining(new URL(elsewhere).host) });
      // The payer cannot go on: another post changes nothing and calls nobody.
      expect(await connector.submitFields(run.p, { sca_method: 'sms-otp' }, context(run.p, transport))).toMatchObject({ kind: 'refused' });
      expect(trapped).toBe(0);

      // The same link on the bank's own base URL (absolute, with ?step=method): called as given.
      sim.settings.embedded = { ...DEFAULT_EMBEDDED, linkBase: sim.url };
      const own = await embeddedSteps(connector, transport, { psu_id: 'jdoe', psu_password: DEFAULT_EMBEDDED.password }, { sca_method: 'sms-otp' });
      expect(own.o).toMatchObject({ kind: 'fields', fields: [{ name: 'sca_code' }] });
      await attempts(own.p);
      const exchanges = await ctx().store.db.selectFrom('bank_exchanges').select('path').where('payment_id', '=', own.p.id).execute();
      expect(exchanges.map((e) => e.path).find((path) => path.endsWith('?step=method'))).toBeTruthy();
      expect(trapped).toBe(0);
    } finally {
      await new Promise((resolve) => trap.close(resolve));
    }
  });

  it("PSU-IP-Address falls back to the configured TPP address when the payer's is IPv6 or unknown", async () => {
    const { connector, transport } = bank('redirect', { tpp_ip_address: '203.0.113.5' });
    const p = { ...(await payment()), psu_ip_address: '2001:db8::7' };
    expect((await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport))).kind).toBe('redirect');
    const last = sim.received.calls.at(-1)!;
    expect(last.operation).toBe('initiatePayment');
    // The simulator refuses anything but IPv4 with FORMAT_ERROR: a 201 proves the fallback was sent.
  });

  it('redirect, explicit start (startAuthorisation): POST …/authorisations {} then scaRedirect', async () => {
    sim.settings.explicitStart = true;
    const { connector, transport } = bank('redirect', { explicit_authorisation: true });
    let p = await payment('instant');
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(start.kind).toBe('redirect');
    p = applied(p, start);
    expect(simPayment(p)).toMatchObject({ product: 'instant-sepa-credit-transfers' });
    expect((await attempts(p)).map((a) => `${a.operation} ${a.http_status}`)).toEqual(['initiate 201', 'authorise 201']);
    expect((p.data as BgData).authorisation_id).toBe(simPayment(p).authorisations[0]!.authorisationId);
  });

  it('decoupled: PSU-ID sent, the payer approves in the app, resume reads scaStatus then status', async () => {
    const { connector, transport } = bank('decoupled');
    expect(connector.descriptor.payment_fields.map((f) => f.name)).toEqual(['psu_id']);
    let p = await payment();
    const asked = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(asked).toMatchObject({ kind: 'fields', fields: [{ name: 'psu_id' }] });
    p = applied(p, asked);
    const start = await connector.submitFields(p, { psu_id: 'jdoe' }, context(p, transport));
    expect(start).toMatchObject({ kind: 'decoupled', description: 'Please confirm the payment in your banking app.' });
    p = applied(p, start);
    expect(simPayment(p)).toMatchObject({ approach: 'DECOUPLED', psuId: 'jdoe' });
    expect((await connector.resume(p, context(p, transport))).kind).toBe('decoupled');
    sim.approve(simPayment(p).paymentId);
    const resumed = await connector.resume(p, context(p, transport));
    expect(resumed).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACTC' });
  });

  it('refusal at the bank: Nok return → rejected CancelledByUser; RJCT with fundsAvailable false → insufficientFunds', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    p = applied(p, start);
    expect(await onPage(start.kind === 'redirect' ? start.validate_uri : '', 'refuse')).toBe(RETURN.nok);
    expect(await connector.bankReturn(p, { result: 'nok' }, context(p, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'CancelledByUser',
      bank_status: 'RJCT',
    });

    let q = await payment();
    q = applied(q, await connector.start(q, { fields: {}, validate_mechanism: 'webauth' }, context(q, transport)));
    sim.approve(simPayment(q).paymentId);
    q = applied(q, await connector.bankReturn(q, { result: 'ok' }, context(q, transport)));
    sim.ledger.force(simPayment(q), 'RJCT', false);
    expect(await connector.status(q, context(q, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'insufficientFunds',
      bank_status: 'RJCT',
    });
  });

  it('Verification of Payee: a close match waits for the payer (raw status RVCM, result kept and logged, the name redacted); continue → done, cancel after a no match → CancelledByUser', async () => {
    sim.settings.vop = 'close-match';
    const { connector, transport } = bank();
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(start).toMatchObject({ kind: 'redirect', bank_status: 'RVCM', data: { payee_verification: { result: 'close_match', bank_code: 'RVCM' } } });
    p = applied(p, start);
    // The bank's page shows the check and the name it holds; the status read while the payer decides changes nothing.
    const page = await (await fetch(start.kind === 'redirect' ? start.validate_uri : '')).text();
    expect(page).toContain('Close match');
    expect(page).toContain('ACME CORP GMBH');
    expect(await connector.status(p, context(p, transport))).toBeNull();
    expect((await attempts(p)).map((a) => a.operation)).toEqual(['initiate', 'status', 'sca-status']);
    const [initiation, read] = await ctx().store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', p.id).orderBy('id').execute();
    expect(JSON.parse(initiation!.response_body!)).toMatchObject({
      transactionStatus: 'RVCM',
      vopResult: { partyNameMatch: 'CMTC', matchedName: '[redacted]' },
    });
    expect(JSON.parse(read!.response_body!)).toMatchObject({ transactionStatus: 'RVCM' });
    expect(await onPage(start.kind === 'redirect' ? start.validate_uri : '', 'approve')).toBe(RETURN.ok);
    const back = await connector.bankReturn(p, { result: 'ok' }, context(p, transport));
    expect(back).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACTC', data: { payee_verification: { result: 'close_match' } } });
    p = applied(p, back);
    ctx().clock.advance(SETTLE_MS);
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });

    sim.settings.vop = 'no-match';
    let q = await payment();
    const started = await connector.start(q, { fields: {}, validate_mechanism: 'webauth' }, context(q, transport));
    expect(started).toMatchObject({ kind: 'redirect', bank_status: 'RVNC', data: { payee_verification: { result: 'no_match', bank_code: 'RVNC' } } });
    q = applied(q, started);
    expect(await onPage(started.kind === 'redirect' ? started.validate_uri : '', 'refuse')).toBe(RETURN.nok);
    expect(await connector.bankReturn(q, { result: 'nok' }, context(q, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'CancelledByUser',
      error_description: expect.stringContaining('no match'),
      bank_status: 'RJCT',
    });
  });

  it('signing: a bank that requires signatures takes the signed calls, refuses unsigned ones (profile signing false: SIGNATURE_MISSING → bug, nothing created) and a signature that does not verify (SIGNATURE_INVALID)', async () => {
    sim.settings.requireSignature = true;
    const pki = makePki();
    try {
      const key = { signingKey: pki.signing.key, signingCert: pki.signing.cert };
      const signed = bank('redirect', { signing: true }, key);
      const p = await payment();
      const start = await signed.connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, signed.transport));
      expect(start.kind).toBe('redirect');
      expect(await signed.connector.status(applied(p, start), context(p, signed.transport))).toBeNull();
      expect((await attempts(p)).map((a) => `${a.operation} ${a.http_status}`)).toEqual(['initiate 201', 'status 200', 'sca-status 200']);

      const before = sim.payments.size;
      const unsigned = bank('redirect', { signing: false }, key);
      const q = await payment();
      expect(await unsigned.connector.start(q, { fields: {}, validate_mechanism: 'webauth' }, context(q, unsigned.transport))).toMatchObject({
        kind: 'refused',
        error_code: 'bug',
        error_description: 'SIGNATURE_MISSING: The request is not signed (Signature).',
      });
      // A signature that does not verify with the certificate presented is refused too.
      const forged = await fetch(`${sim.url}/v1/payments/sepa-credit-transfers/${(applied(p, start).data as BgData).payment_id}/status`, {
        headers: {
          'X-Request-ID': crypto.randomUUID(),
          Digest: `SHA-256=${createHash('sha256').update('').digest('base64')}`,
          Signature: `keyId="SN=1",algorithm="rsa-sha256",headers="digest x-request-id",signature="${Buffer.from('forged').toString('base64')}"`,
          'TPP-Signature-Certificate': new X509Certificate(pki.signing.cert).raw.toString('base64'),
        },
      });
      expect(forged.status).toBe(401);
      expect(await forged.json()).toMatchObject({ tppMessages: [{ code: 'SIGNATURE_INVALID' }] });
      expect(sim.payments.size).toBe(before);
    } finally {
      pki.cleanup();
    }
  });

  it('a bank that does not echo X-Request-ID: the payment still reaches done, every call recorded under the id Payrail sent', async () => {
    sim.settings.echoRequestId = false;
    const { connector, transport } = bank();
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(start.kind).toBe('redirect');
    p = applied(p, start);
    const raw = await fetch(`${sim.url}/v1/payments/sepa-credit-transfers/${(p.data as BgData).payment_id}/status`, {
      headers: { 'X-Request-ID': crypto.randomUUID() },
    });
    expect(raw.headers.get('x-request-id')).toBeNull();
    await onPage(start.kind === 'redirect' ? start.validate_uri : '', 'approve');
    p = applied(p, await connector.bankReturn(p, { result: 'ok' }, context(p, transport)));
    ctx().clock.advance(SETTLE_MS);
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });
    const calls = await attempts(p);
    const received = new Set(sim.received.calls.map((c) => c.requestId));
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of calls) expect(received.has(call.id), call.operation).toBe(true);
  });

  it('PART (some instructions rejected, the bank does not say which) → partial, every instruction accepted', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
    sim.approve(simPayment(p).paymentId);
    p = applied(p, await connector.bankReturn(p, { result: 'ok' }, context(p, transport)));
    sim.ledger.force(simPayment(p), 'PART');
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'accepted', partial: true, bank_status: 'PART' });
  });

  it('a return on the OK URI proves nothing: status RCVD with SCA not done keeps the redirect', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    p = applied(p, start);
    const back = await connector.bankReturn(p, { result: 'ok' }, context(p, transport));
    expect(back).toMatchObject({ kind: 'redirect', validate_uri: start.kind === 'redirect' ? start.validate_uri : '' });
  });

  it.each([
    ['PRODUCT_INVALID', 'invalidEmitter'],
    ['EXECUTION_DATE_INVALID', 'invalidDate'],
    ['CERTIFICATE_INVALID', 'bug'],
    ['PAYMENT_FAILED', 'bankMessage'],
  ])('a 4xx %s at initiation → refused %s, no payment at the bank', async (code, powens) => {
    const { connector, transport } = bank();
    const p = await payment();
    const count = sim.payments.size;
    sim.faults.add({ kind: 'reject', operation: 'initiatePayment', code });
    const out = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(out).toMatchObject({ kind: 'refused', error_code: powens });
    expect(sim.payments.size).toBe(count);
    expect((await attempts(p))[0]).toMatchObject({ operation: 'initiate', http_status: expect.any(Number) });
  });

  it.each([
    ['5xx', { kind: 'error', status: 503 }],
    ['dropped connection', { kind: 'drop' }],
    ['timeout after the bank created it', { kind: 'hang', afterProcessing: true }],
  ] as const)('initiation %s → unknown, sent exactly once, never again by status sync', async (_name, fault) => {
    const { connector, transport } = bank();
    let p = await payment();
    const before = sim.received.initiations.length;
    sim.faults.add({ ...fault, operation: 'initiatePayment' });
    const out = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    expect(out).toMatchObject({ kind: 'unknown' });
    p = applied(p, out);
    expect(await connector.status(p, context(p, transport))).toBeNull();
    expect(sim.received.initiations.length).toBe(before + 1);
    const rows = await attempts(p);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ operation: 'initiate' });
  });

  it('a status call that times out is unknown (no state from it); the next one resolves', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    const start = await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));
    p = applied(p, start);
    sim.approve(simPayment(p).paymentId);
    p = applied(p, await connector.bankReturn(p, { result: 'ok' }, context(p, transport)));
    ctx().clock.advance(SETTLE_MS);
    sim.faults.add({ kind: 'hang', operation: 'getPaymentInitiationStatus' });
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'unknown', reason: 'timeout' });
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });
  });

  it('cancellation: 204 → CANC → rejected CancelledByClient', async () => {
    const { connector, transport } = bank();
    let p = await payment('deferred');
    p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
    expect(simPayment(p).body).toMatchObject({ requestedExecutionDate: '2026-02-02' });
    sim.approve(simPayment(p).paymentId);
    p = applied(p, await connector.bankReturn(p, { result: 'ok' }, context(p, transport)));
    expect(p.state).toBe('pending');
    const out = await connector.cancel(p, context(p, transport));
    expect(out).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'CancelledByClient', bank_status: 'CANC' });
    expect(sim.ledger.status(simPayment(p))).toBe('CANC');
  });

  it('cancellation: 202 → cancellation authorisation → cancelling with the bank page; approved there → rejected CancelledByClient', async () => {
    sim.settings.cancellationSca = true;
    const { connector, transport } = bank();
    let p = await payment('deferred');
    p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
    sim.approve(simPayment(p).paymentId);
    p = applied(p, await connector.bankReturn(p, { result: 'ok' }, context(p, transport)));
    const out = await connector.cancel(p, context(p, transport));
    expect(out).toMatchObject({ kind: 'cancelling', validate_uri: expect.stringMatching(new RegExp(`^${sim.url}/sca/`)) });
    p = applied(p, out);
    expect(await connector.status(p, context(p, transport))).toBeNull(); // waiting for the payer: no change
    expect(await onPage(out.kind === 'cancelling' ? out.validate_uri : '', 'approve')).toBe(RETURN.ok);
    expect(await connector.bankReturn(p, { result: 'ok' }, context(p, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'CancelledByClient',
      bank_status: 'CANC',
    });
  });

  it('cancellation refused by the bank (405 CANCELLATION_INVALID once executing) → notSupported, payment unchanged', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    p = applied(p, await connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport)));
    sim.approve(simPayment(p).paymentId);
    p = applied(p, await connector.bankReturn(p, { result: 'ok' }, context(p, transport)));
    ctx().clock.advance(1);
    const out = await connector.cancel(p, context(p, transport));
    expect(out).toMatchObject({ kind: 'refused', error_code: 'notSupported' });
    expect(sim.ledger.status(simPayment(p))).not.toBe('CANC');
  });

  it('pollIntervalMs: the first interval right after the return, backing off to the maximum', async () => {
    const { connector } = bank('redirect', { poll_initial_ms: 2000, poll_max_ms: 60_000 });
    const p = { ...(await payment()), data: { returned_at: ctx().clock.now() } };
    const at = (ms: number) => connector.pollIntervalMs(p, { ...context(p, transports[0]!), now: ctx().clock.now() + ms });
    expect(at(0)).toBe(2000);
    expect(at(40_000)).toBe(10_000);
    expect(at(3_600_000)).toBe(60_000);
  });

  it('pollIntervalMs: while the payer is at the bank page and not back yet, the first read comes poll_payer_ms after the initiation', async () => {
    const { connector } = bank('redirect', { poll_initial_ms: 2000, poll_payer_ms: 20_000, poll_max_ms: 60_000 });
    const atBank = {
      ...(await payment()),
      state: 'validating' as const,
      data: { initiated_at: ctx().clock.now(), sca_redirect: 'https://bank.example/sca/1' } as Record<string, unknown>,
    };
    const at = (p: typeof atBank, ms: number) => connector.pollIntervalMs(p, { ...context(p, transports[0]!), now: ctx().clock.now() + ms });
    expect(at(atBank, 0)).toBe(20_000);
    expect(at(atBank, 200_000)).toBe(50_000);
    // Back from the bank, or decoupled: poll_initial_ms.
    expect(at({ ...atBank, data: { ...atBank.data, returned_at: ctx().clock.now() } }, 0)).toBe(2000);
    expect(at({ ...atBank, data: { ...atBank.data, decoupled: true } }, 0)).toBe(2000);
    // Never beyond poll_max_ms.
    const { connector: short } = bank('redirect', { poll_initial_ms: 100, poll_payer_ms: 20_000, poll_max_ms: 1000 });
    expect(short.pollIntervalMs(atBank, { ...context(atBank, transports[0]!), now: ctx().clock.now() })).toBe(1000);
  });
});
