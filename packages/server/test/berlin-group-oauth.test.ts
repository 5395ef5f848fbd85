/**
 * Issue 22, items 1 and 2: the Berlin Group connector at banks that want OAuth2 — a client token
 * before every call (the pre-step: client_secret_basic, client_secret_post, private_key_jwt, and
 * tls_client_auth against the simulator's HTTPS mode with client certificates) and
 * `scaOAuth` (the payer at the bank's authorization server, code + PKCE, the payer's token sealed
 * and used for status reads) — against the simulator's authorization server, through the core's
 * bank HTTP client (call rows before each call, exchange log) on every database. The browser runs
 * the same flows in test/e2e/berlin-group-oauth.test.ts.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createBerlinGroupConnector, type BgData } from '../src/connectors/berlin-group/connector.ts';
import { BERLIN_GROUP_SETTINGS } from '../src/connectors/berlin-group/index.ts';
import { checkOptions } from '../src/connectors/berlin-group/profile.ts';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../src/connectors/berlin-group/simulator/index.ts';
import { createBankTransport, type BankMaterial, type BankTransport } from '../src/connectors/kit/http.ts';
import type { ConfiguredBank, Connector, ConnectorOutcome, ConnectorPayment } from '../src/connectors/kit/index.ts';
import { makePki, type TestPki } from './support/certs.ts';
import { bankCallsInOrder, connectorContexts, describeEachDb, guideBody, storedConnectorPayment } from './support/helpers.ts';

const PAYER = 'DE02100100109307118603';
const BASE = 'https://payrail.example';
const RETURN = { ok: `${BASE}/2.0/bank-return/ok?state=7.sig`, nok: `${BASE}/2.0/bank-return/nok?state=7.sig` };
const CLIENT_ID = 'payrail-tpp';
const SECRET = 'sim-client-secret-0f3c9a';
const TOKEN_SECONDS = 300;

describeEachDb('Berlin Group OAuth2: pre-step and scaOAuth against the simulator', (ctx) => {
  let sim: BerlinGroupSimulator;
  /** The same bank over HTTPS with client certificates: tls_client_auth at the token endpoint, mTLS on `/v1`. */
  let tlsSim: BerlinGroupSimulator;
  let pki: TestPki;
  const transports: BankTransport[] = [];

  beforeAll(async () => {
    pki = makePki();
    sim = await startBerlinGroupSimulator({
      clock: ctx().clock,
      settleAfterMs: 4_000,
      oauth: { clientId: CLIENT_ID, clientAuth: 'client_secret_basic', clientSecret: SECRET, clientCert: pki.signing.cert, tokenSeconds: TOKEN_SECONDS },
    });
    tlsSim = await startBerlinGroupSimulator({
      clock: ctx().clock,
      settleAfterMs: 4_000,
      oauth: { clientId: CLIENT_ID, clientAuth: 'tls_client_auth', clientCert: pki.client.cert, tokenSeconds: TOKEN_SECONDS, preStep: true },
      tls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca.cert, requireApiCert: true },
    });
  });
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await sim.close();
    await tlsSim.close();
    pki.cleanup();
  });
  beforeEach(() => {
    sim.faults.clear();
    Object.assign(sim.auth!.options, { clientAuth: 'client_secret_basic', preStep: true, scaOAuth: false });
    sim.settings.scaOAuth = false;
  });

  let nextBankId = 100;
  function bank(oauth: Record<string, unknown> = {}, material: BankMaterial = { oauthClientSecret: SECRET }, at: BerlinGroupSimulator = sim) {
    const profile = checkOptions(
      {
        timeout_ms: 2_000,
        signing: false,
        oauth: { client_id: CLIENT_ID, client_auth: 'client_secret_basic', token_url: `${at.url}/oauth/token`, scope: 'PIS', ...oauth },
      },
      'redirect',
    );
    const configured: ConfiguredBank = {
      id: nextBankId++,
      uuid: crypto.randomUUID(),
      name: 'OAuth bank',
      standard: 'berlin-group',
      base_url: at.url,
      country: 'DE',
      bic: null,
      sca_approach: 'redirect',
      profile: { ...profile },
      has_client_cert: Boolean(material.clientCert),
      has_ca: Boolean(material.ca),
      has_signing_key: Boolean(material.signingKey),
      created_at: 0,
    };
    const transport = createBankTransport(configured, material);
    transports.push(transport);
    return { connector: createBerlinGroupConnector(configured, BERLIN_GROUP_SETTINGS) as Connector, transport };
  }

  async function payment(): Promise<ConnectorPayment> {
    const id = await ctx().createPayment(guideBody('first_open_day', { payer: { scheme_name: 'iban', identification: PAYER } }));
    return storedConnectorPayment(ctx(), id);
  }

  const { context, settle } = connectorContexts(ctx, { baseUrl: BASE, returnUrls: RETURN, secret: 'installation-secret-for-tests' });

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

  /** The calls of a payment as recorded (operation and HTTP status), in order. */
  async function calls(p: ConnectorPayment): Promise<string[]> {
    await settle();
    const rows = await bankCallsInOrder(ctx().store.db, p.id);
    return rows.map((r) => `${r.operation} ${r.http_status}`);
  }

  /** Everything the database holds about bank calls and attempts, as text. */
  async function stored(): Promise<string> {
    await settle();
    const db = ctx().store.db;
    const tables = await Promise.all([
      db.selectFrom('bank_calls').selectAll().execute(),
      db.selectFrom('bank_exchanges').selectAll().execute(),
      db.selectFrom('payment_attempts').selectAll().execute(),
      db.selectFrom('payment_events').selectAll().execute(),
    ]);
    return JSON.stringify(tables);
  }

  const start = (c: Connector, p: ConnectorPayment, t: BankTransport) => c.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, t));

  it('pre-step: one token before the first call, reused by later calls, renewed before it expires; never stored', async () => {
    const { connector, transport } = bank();
    const issued = sim.auth!.issued.client_credentials;
    const p = await payment();
    const first = await start(connector, p, transport);
    expect(first.kind).toBe('redirect');
    expect(await calls(p)).toEqual(['client-token 200', 'initiate 201']);
    const q = await payment();
    expect((await start(connector, q, transport)).kind).toBe('redirect');
    expect(await calls(q)).toEqual(['initiate 201']); // the cached token
    expect(sim.auth!.issued.client_credentials).toBe(issued + 1);
    expect(
      sim.received.calls
        .filter((c) => c.operation === 'initiatePayment')
        .slice(-2)
        .map((c) => c.bearer),
    ).toEqual(['client', 'client']);

    // 60 s before it expires (renew_before_ms default) the token is renewed before the call.
    ctx().clock.advance((TOKEN_SECONDS - 59) * 1000);
    await connector.status(applied(p, first), context(p, transport));
    expect((await calls(p)).slice(-3)).toEqual(['client-token 200', 'status 200', 'sca-status 200']);
    expect(sim.auth!.issued.client_credentials).toBe(issued + 2);

    const text = await stored();
    for (const token of sim.auth!.tokens()) expect(text).not.toContain(token);
    expect(text).not.toContain(SECRET);
    expect(text).toMatch(/access_token\\+":\\+"\[redacted\]/);
  });

  it('a 401 to an initiation is never answered by a second initiation; a 401 to a status read renews the token and reads once more', async () => {
    const { connector, transport } = bank();
    const p = await payment();
    const started = applied(p, await start(connector, p, transport));
    await calls(p);

    // The bank forgets its tokens: the next initiation is refused 401 and is not sent again.
    sim.auth!.revokeClientTokens();
    const initiations = () => sim.received.calls.filter((c) => c.operation === 'initiatePayment').length;
    const before = initiations();
    const q = await payment();
    const refused = await start(connector, q, transport);
    expect(refused).toMatchObject({ kind: 'refused', error_code: 'bug' });
    expect(initiations()).toBe(before + 1);
    expect(sim.received.calls.at(-1)).toMatchObject({ operation: 'initiatePayment', bearer: 'refused' });
    expect(await calls(q)).toEqual(['initiate 401']);

    // A status read (safe to repeat) after another revocation: 401, one renewal, the read once more.
    await connector.status(started, context(p, transport)); // takes a fresh token (the 401 forgot the old one)
    sim.auth!.revokeClientTokens();
    await connector.status(started, context(p, transport));
    expect((await calls(p)).slice(-7)).toEqual([
      'client-token 200',
      'status 200',
      'sca-status 200',
      'status 401',
      'client-token 200',
      'status 200',
      'sca-status 200',
    ]);

    // Refused twice in a row: one retry only, then the read is given up (nothing changes).
    sim.faults.add({ kind: 'reject', operation: 'getPaymentInitiationStatus', code: 'TOKEN_INVALID', times: 2 });
    expect(await connector.status(started, context(p, transport))).toBeNull();
    expect((await calls(p)).slice(-3)).toEqual(['status 401', 'client-token 200', 'status 401']);
    expect(initiations()).toBe(before + 1);
  });

  it('client_secret_post and private_key_jwt authenticate the client; a refused client sends nothing to the API', async () => {
    sim.auth!.options.clientAuth = 'client_secret_post';
    const post = bank({ client_auth: 'client_secret_post' });
    const p = await payment();
    expect((await start(post.connector, p, post.transport)).kind).toBe('redirect');
    expect(await calls(p)).toEqual(['client-token 200', 'initiate 201']);

    sim.auth!.options.clientAuth = 'private_key_jwt';
    const jwt = bank({ client_auth: 'private_key_jwt', jwt_alg: 'PS256' }, { signingKey: pki.signing.key, signingCert: pki.signing.cert });
    const q = await payment();
    expect((await start(jwt.connector, q, jwt.transport)).kind).toBe('redirect');
    expect(await calls(q)).toEqual(['client-token 200', 'initiate 201']);
    const exchange = await ctx().store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', q.id).orderBy('id').executeTakeFirstOrThrow();
    expect(JSON.parse(exchange.request_body!)).toMatchObject({ grant_type: 'client_credentials', client_assertion: '[redacted]', client_id: CLIENT_ID });

    // A wrong secret: the token endpoint refuses, the initiation is never sent.
    const initiations = sim.received.initiations.length;
    const wrong = bank({ client_auth: 'private_key_jwt' }, { signingKey: pki.client.key, signingCert: pki.client.cert });
    const r = await payment();
    expect(await start(wrong.connector, r, wrong.transport)).toMatchObject({ kind: 'refused', error_code: 'bug' });
    expect(await calls(r)).toEqual(['client-token 401']);
    expect(sim.received.initiations.length).toBe(initiations);
    expect(await stored()).not.toContain(SECRET);
  });

  it('client_secret_basic and client_secret_post: the bank checks the secret each way; a wrong secret, or the other method, is refused and no initiation is sent', async () => {
    for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
      sim.auth!.options.clientAuth = method;
      const other = method === 'client_secret_basic' ? 'client_secret_post' : 'client_secret_basic';
      const cases = [
        { oauth: { client_auth: method }, secret: 'not-the-secret', why: 'wrong client id or secret' },
        { oauth: { client_auth: other }, secret: SECRET, why: method === 'client_secret_basic' ? 'client_secret_basic expected' : 'wrong client id or secret' },
      ];
      for (const { oauth, secret, why } of cases) {
        const { connector, transport } = bank(oauth, { oauthClientSecret: secret });
        const initiations = sim.received.count('initiatePayment');
        const p = await payment();
        expect(await start(connector, p, transport)).toMatchObject({
          kind: 'refused',
          error_code: 'bug',
          error_description: `TOKEN_INVALID: the bank's token endpoint refused Payrail's client (invalid_client: ${why})`,
        });
        expect(await calls(p)).toEqual(['client-token 401']);
        expect(sim.received.count('initiatePayment')).toBe(initiations);
      }
      const good = bank({ client_auth: method });
      const p = await payment();
      expect((await start(good.connector, p, good.transport)).kind).toBe('redirect');
    }
    const text = await stored();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('not-the-secret');
  });

  /** Payrail's client at the HTTPS bank: the mTLS certificate `cert`/`key` (none when absent), the bank's server CA trusted. */
  function tlsBank(client: { cert: string; key: string } | null) {
    return bank({ client_auth: 'tls_client_auth' }, { ca: pki.ca.cert, ...(client ? { clientCert: client.cert, clientKey: client.key } : {}) }, tlsSim);
  }

  it('tls_client_auth: Payrail is authenticated by its mTLS certificate (client_id in the body, no secret); the API takes its calls with that certificate only; paid', async () => {
    const { connector, transport } = tlsBank(pki.client);
    let p = await payment();
    const redirect = await start(connector, p, transport);
    expect(redirect.kind).toBe('redirect');
    expect(await calls(p)).toEqual(['client-token 200', 'initiate 201']);
    const exchange = await ctx().store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', p.id).orderBy('id').executeTakeFirstOrThrow();
    expect(JSON.parse(exchange.request_body!)).toEqual({ grant_type: 'client_credentials', scope: 'PIS', client_id: CLIENT_ID });
    expect(tlsSim.received.calls.at(-1)).toMatchObject({ operation: 'initiatePayment', bearer: 'client', certificate: 'trusted' });

    p = applied(p, redirect);
    tlsSim.approve((redirect.data as BgData).payment_id!);
    ctx().clock.advance(4_000);
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });
    expect(tlsSim.received.calls.at(-1)).toMatchObject({ bearer: 'client', certificate: 'trusted' });

    // The API itself wants the certificate: a call without one is refused before the bearer token is looked at,
    // and the token (bound to the certificate it was issued to, RFC 8705 §3) is no good with another one.
    const { Agent, request } = await import('undici');
    const token = tlsSim.auth!.tokens().at(-1)!;
    const ask = async (connect: Record<string, string>) => {
      const dispatcher = new Agent({ connect: { ca: pki.ca.cert, ...connect } });
      try {
        const answer = await request(`${tlsSim.url}/v1/payments/sepa-credit-transfers/${(redirect.data as BgData).payment_id}/status`, {
          headers: { Authorization: `Bearer ${token}`, 'X-Request-ID': crypto.randomUUID(), Accept: 'application/json' },
          dispatcher,
        });
        return { status: answer.statusCode, body: (await answer.body.json()) as { tppMessages: { code: string }[] } };
      } finally {
        await dispatcher.close();
      }
    };
    expect(await ask({ cert: pki.client.cert, key: pki.client.key })).toMatchObject({ status: 200 });
    expect(await ask({})).toMatchObject({ status: 401, body: { tppMessages: [{ code: 'CERTIFICATE_MISSING' }] } });
    expect(await ask({ cert: pki.stranger.cert, key: pki.stranger.key })).toMatchObject({
      status: 401,
      body: { tppMessages: [{ code: 'CERTIFICATE_INVALID' }] },
    });
    expect(await ask({ cert: pki.signing.cert, key: pki.signing.key })).toMatchObject({ status: 401, body: { tppMessages: [{ code: 'TOKEN_INVALID' }] } });
  });

  it("tls_client_auth: no client certificate, one from a CA the bank does not trust, or another client's → refused with the bank's reason; no initiation reaches the bank", async () => {
    const cases = [
      { client: null, why: 'no client certificate was presented' },
      { client: pki.stranger, why: 'the client certificate is not issued by a CA this bank trusts' },
      { client: pki.signing, why: 'the client certificate is not the one registered for this client' },
    ];
    for (const { client, why } of cases) {
      const { connector, transport } = tlsBank(client);
      const initiations = tlsSim.received.initiations.length;
      const p = await payment();
      const refused = await start(connector, p, transport);
      expect(refused).toMatchObject({
        kind: 'refused',
        error_code: 'bug',
        error_description: `TOKEN_INVALID: the bank's token endpoint refused Payrail's client (invalid_client: ${why})`,
      });
      expect(await calls(p)).toEqual(['client-token 401']);
      expect(tlsSim.received.initiations.length).toBe(initiations);
      expect(tlsSim.received.calls.filter((c) => c.operation === 'initiatePayment' && c.certificate !== 'trusted')).toEqual([]);
    }
  });

  it('a token endpoint that refuses the certificate in the TLS handshake: the token call is unknown (a closed connection), the initiation is not sent', async () => {
    const { createServer } = await import('node:https');
    let requests = 0;
    const strict = createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (_q, r) => {
      requests += 1;
      r.end();
    });
    await new Promise<void>((resolve) => strict.listen(0, '127.0.0.1', resolve));
    try {
      const port = (strict.address() as { port: number }).port;
      const { connector, transport } = bank(
        { client_auth: 'tls_client_auth', token_url: `https://127.0.0.1:${port}/oauth/token` },
        { ca: pki.ca.cert, clientCert: pki.stranger.cert, clientKey: pki.stranger.key },
        tlsSim,
      );
      const initiations = tlsSim.received.count('initiatePayment');
      const p = await payment();
      expect(await start(connector, p, transport)).toMatchObject({ kind: 'unknown' });
      expect(await calls(p)).toEqual(['client-token null']);
      const exchange = await ctx().store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', p.id).executeTakeFirstOrThrow();
      expect(exchange.error).toMatch(/^(reset|network): /);
      expect(requests).toBe(0);
      expect(tlsSim.received.count('initiatePayment')).toBe(initiations);
    } finally {
      strict.closeAllConnections();
      await new Promise((resolve) => strict.close(resolve));
    }
  });

  it('concurrent calls share one token request; renew_before_ms (on the injected clock) decides when it is renewed', async () => {
    const { connector, transport } = bank({ renew_before_ms: 10_000 });
    const issued = sim.auth!.issued.client_credentials;
    const tokenCalls = () => sim.received.calls.length; // token requests are not /v1 calls: counted by `issued`
    const before = tokenCalls();
    const payments = await Promise.all(Array.from({ length: 10 }, () => payment()));
    const started = await Promise.all(payments.map((p) => start(connector, p, transport)));
    expect(started.map((o) => o.kind)).toEqual(Array(10).fill('redirect'));
    expect(sim.auth!.issued.client_credentials).toBe(issued + 1);
    const rows: string[] = [];
    for (const p of payments) rows.push(...(await calls(p)));
    expect(rows.filter((r) => r.startsWith('client-token'))).toEqual(['client-token 200']);
    expect(rows.filter((r) => r === 'initiate 201')).toHaveLength(10);
    expect(sim.received.calls.slice(before).map((c) => c.bearer)).toEqual(Array(tokenCalls() - before).fill('client'));

    // 11 s before it expires the token is still used; 9 s before, it is renewed (once, for concurrent reads).
    const p = applied(payments[0]!, started[0]!);
    ctx().clock.advance((TOKEN_SECONDS - 11) * 1000);
    await connector.status(p, context(p, transport));
    expect(sim.auth!.issued.client_credentials).toBe(issued + 1);
    ctx().clock.advance(2_000);
    await Promise.all(payments.slice(0, 5).map((q, i) => connector.status(applied(q, started[i]!), context(q, transport))));
    expect(sim.auth!.issued.client_credentials).toBe(issued + 2);
  });

  it('stress: 50 payments initiated and read while the bank revokes tokens and answers 401 to some calls: each initiation reaches the bank exactly once', async () => {
    const { connector, transport } = bank();
    const issued = sim.auth!.issued.client_credentials;
    const firstCall = sim.received.calls.length;
    /** The initiations that reached the bank since the test began, whatever it answered (a 401 included). */
    const initiations = () => sim.received.calls.slice(firstCall).filter((c) => c.operation === 'initiatePayment');
    // The bank expires tokens early: some initiations and some status reads are answered 401 TOKEN_EXPIRED.
    sim.faults.add({ kind: 'reject', operation: 'initiatePayment', code: 'TOKEN_EXPIRED', times: 5 });
    sim.faults.add({ kind: 'reject', operation: 'getPaymentInitiationStatus', code: 'TOKEN_EXPIRED', times: 5 });
    const payments = await Promise.all(Array.from({ length: 50 }, () => payment()));
    // The bank also forgets every token it issued (expires them early) after every 10th API call it receives.
    let revocations = 0;
    const record = sim.received.recordCall.bind(sim.received);
    sim.received.recordCall = (call) => {
      record(call);
      if (call.operation && sim.received.calls.slice(firstCall).length % 10 === 0) {
        revocations += 1;
        sim.auth!.revokeClientTokens();
      }
    };
    const stagger = (i: number) => new Promise((resolve) => setTimeout(resolve, i * 10));
    const outcomes = await Promise.all(
      payments.map(async (p, i) => {
        await stagger(i);
        return start(connector, p, transport);
      }),
    );
    // Not one initiation sent twice, whatever the bank answered it.
    expect(initiations()).toHaveLength(50);
    const redirected = outcomes.filter((o) => o.kind === 'redirect').length;
    const refused = outcomes.filter((o) => o.kind === 'refused');
    expect(redirected + refused.length).toBe(50);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    for (const o of refused) expect(o).toMatchObject({ error_code: 'bug', error_description: expect.stringMatching(/^TOKEN_(EXPIRED|INVALID)/) });

    // Status reads of the initiated ones, tokens still revoked every 10th call: a 401 read is renewed and read once more.
    const reads = await Promise.all(
      payments.map(async (p, i) => {
        if (outcomes[i]!.kind !== 'redirect') return null;
        await stagger(i);
        return connector.status(applied(p, outcomes[i]!), context(p, transport));
      }),
    );
    sim.received.recordCall = record;
    expect(reads.filter((r) => r !== null && r.kind === 'unknown')).toEqual([]);

    // Exactly one initiation per payment reached the bank (whatever it answered), none with a repeated X-Request-ID or body.
    expect(initiations()).toHaveLength(50);
    expect(new Set(initiations().map((c) => c.requestId)).size).toBe(50);
    expect(sim.received.duplicates()).toEqual({ requestIds: [], bodyHashes: [] });
    const perPayment: number[] = [];
    for (const p of payments) perPayment.push((await calls(p)).filter((c) => c.startsWith('initiate')).length);
    expect(perPayment).toEqual(Array(50).fill(1));
    // Token requests: one to begin with, at most one more per revocation or 401 answer.
    const renewals = sim.auth!.issued.client_credentials - issued;
    expect(renewals).toBeGreaterThanOrEqual(2);
    expect(renewals).toBeLessThanOrEqual(1 + revocations + 10);
    expect(revocations).toBeGreaterThanOrEqual(2);
  });

  /** The payer at the simulator's authorization server: the page, then the decision; where the bank sends them back. */
  async function atAuthorizationServer(url: string, decision: 'approve' | 'refuse'): Promise<URL> {
    const page = await (await fetch(url)).text();
    expect(page).toContain('Approve');
    const token = /name="token" value="([^"]+)"/.exec(page)![1]!;
    const answer = await fetch(`${sim.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, decision }),
    });
    expect(answer.status).toBe(303);
    return new URL(answer.headers.get('location')!);
  }

  it('scaOAuth: metadata, the payer sent with state and PKCE, the code exchanged, the payer token sealed and used for status reads', async () => {
    Object.assign(sim.auth!.options, { preStep: false, scaOAuth: true });
    sim.settings.scaOAuth = true;
    const { connector, transport } = bank({ token_url: null });
    let p = await payment();
    const redirect = await start(connector, p, transport);
    expect(redirect.kind).toBe('redirect');
    const url = new URL(redirect.kind === 'redirect' ? redirect.validate_uri : '');
    expect(`${url.origin}${url.pathname}`).toBe(`${sim.url}/oauth/authorize`);
    const bankId = (redirect.data as BgData).payment_id!;
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${BASE}/2.0/consent/return`,
      scope: `PIS:${bankId}`,
      code_challenge_method: 'S256',
      state: expect.stringMatching(new RegExp(`^${p.id}\\.`)),
    });
    expect(redirect.consent).toEqual(expect.any(String));
    p = applied(p, redirect);

    // A return with another state changes nothing.
    expect(await connector.bankReturn(p, { state: `${p.id}.forged`, code: 'x' }, context(p, transport))).toMatchObject({ kind: 'redirect' });

    const back = await atAuthorizationServer(url.toString(), 'approve');
    expect(`${back.origin}${back.pathname}`).toBe(`${BASE}/2.0/consent/return`);
    const code = back.searchParams.get('code')!;
    const done = await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport));
    expect(done).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACTC' });
    expect(done.consent).toEqual(expect.any(String));
    expect(done.consent).not.toBe(p.consent);
    p = applied(p, done);
    expect((await calls(p)).slice(0, 4)).toEqual(['initiate 201', 'oauth-metadata 200', 'token 200', 'status 200']);
    // The status read after the exchange carried the payer's token.
    expect(sim.received.calls.filter((c) => c.operation === 'getPaymentInitiationStatus').at(-1)!.bearer).toBe('payer');
    ctx().clock.advance(4_000);
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });
    expect(sim.received.calls.filter((c) => c.operation === 'getPaymentInitiationStatus').at(-1)!.bearer).toBe('payer');

    const text = await stored();
    expect(text).not.toContain(code);
    for (const token of sim.auth!.tokens()) expect(text).not.toContain(token);
  });

  it('scaOAuth: the payer refuses at the authorization server → rejected CancelledByUser, the sealed verifier cleared', async () => {
    Object.assign(sim.auth!.options, { preStep: false, scaOAuth: true });
    sim.settings.scaOAuth = true;
    const { connector, transport } = bank({ token_url: null });
    let p = await payment();
    const redirect = await start(connector, p, transport);
    p = applied(p, redirect);
    const back = await atAuthorizationServer(redirect.kind === 'redirect' ? redirect.validate_uri : '', 'refuse');
    expect(back.searchParams.get('error')).toBe('access_denied');
    const refused = await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport));
    expect(refused).toMatchObject({ kind: 'state', state: 'rejected', error_code: 'CancelledByUser', consent: null });
    expect(sim.ledger.view(sim.payments.get((p.data as BgData).payment_id!)!).transactionStatus).toBe('RJCT');
  });

  it('scaOAuth with the pre-step: the client token for the initiation, the payer token for the reads', async () => {
    Object.assign(sim.auth!.options, { preStep: true, scaOAuth: true });
    sim.settings.scaOAuth = true;
    const { connector, transport } = bank();
    let p = await payment();
    const redirect = await start(connector, p, transport);
    p = applied(p, redirect);
    const back = await atAuthorizationServer(redirect.kind === 'redirect' ? redirect.validate_uri : '', 'approve');
    const done = await connector.bankReturn(p, Object.fromEntries(back.searchParams), context(p, transport));
    expect(done).toMatchObject({ kind: 'state', state: 'pending' });
    const ops = await calls(p);
    expect(ops.filter((o) => o.startsWith('token') || o.startsWith('client-token') || o.startsWith('initiate'))).toEqual(
      expect.arrayContaining(['initiate 201', 'token 200']),
    );
    const mine = sim.received.calls.filter((c) => c.path.includes((p.data as BgData).payment_id!) || c.operation === 'initiatePayment').slice(-3);
    expect(mine.map((c) => `${c.operation} ${c.bearer}`)).toContain('getPaymentInitiationStatus payer');
  });
});
