/**
 * The core's bank HTTP client (ARCHITECTURE.md, "The bank boundary") against real loopback servers: the attempt row exists
 * when the request arrives, deadlines, 5xx/reset → unknown, 4xx → refused, redacted exchange log,
 * mTLS with the configured client certificate, and Berlin Group signature headers verifiable with
 * the signing certificate.
 */
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBankHttp } from '../src/connectors/kit/http.ts';
import { CONNECTOR_MODULES } from '../src/connectors/modules.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { attemptRecorder, settleCalls } from '../src/services/attempts.ts';
import { addBank, type BankInput, connectorRegistry } from '../src/services/banks.ts';
import { createClient } from '../src/services/clients.ts';
import { keyringFromKeys } from '../src/services/secret-box.ts';
import type { Store } from '../src/store/db.ts';
import { makePki, type TestPki } from './support/certs.ts';
import { databases, openTestStore } from './support/helpers.ts';

const keyring = keyringFromKeys([Buffer.alloc(32, 7)]);
const IBAN = 'DE89370400440532013000';

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
  attemptRow: unknown;
  path: string;
  method: string;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(String((server.address() as AddressInfo).port))));
}

for (const { dialect, url } of databases()) {
  describe(`bank HTTP boundary [${dialect}]`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let pki: TestPki;
    const clock = new ManualClock('2026-01-15T10:00:00Z');
    let paymentId: number;
    const seen: Seen[] = [];
    let behave: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{}');
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', async () => {
        // The attempt row must exist when the request arrives: look it up by the X-Request-ID.
        const attemptRow = await store.db.selectFrom('bank_calls').selectAll().where('id', '=', String(req.headers['x-request-id'])).executeTakeFirst();
        seen.push({ headers: req.headers, body, attemptRow, path: req.url ?? '', method: req.method ?? '' });
        behave(req, res);
      });
    });
    let base = '';
    const registry = () => connectorRegistry({ db: store.db, clock, keyring, testBank: false, refreshMs: 0 });

    async function httpFor(input: Partial<BankInput>, reg = registry()) {
      const bank = await addBank(
        { db: store.db, keyring, clock, modules: CONNECTOR_MODULES },
        { name: `Bank ${seen.length}-${Math.random()}`, standard: 'berlin-group', base_url: base, ...input },
      );
      const connector = (await reg.byUuid(bank.uuid))!;
      const transport = reg.transportOf(connector)!;
      return { bank, reg, http: createBankHttp({ transport, recorder: attemptRecorder(store.db), clock, paymentId }) };
    }

    beforeAll(async () => {
      ({ store, drop } = await openTestStore(dialect, url));
      pki = makePki();
      base = `http://127.0.0.1:${await listen(server)}/psd2`;
      const client = await createClient(store.db, { name: 'shop', redirectUris: ['https://shop.example/r'], now: clock.now() });
      const domain = await store.db.selectFrom('clients').select(['id', 'domain_id']).where('client_id', '=', client.client_id).executeTakeFirstOrThrow();
      const row = await store.db
        .insertInto('payments')
        .values({
          domain_id: domain.domain_id,
          client_ref: domain.id,
          state: 'validating',
          state_detail: null,
          action: null,
          error_code: null,
          error_description: null,
          connector_uuid: null,
          id_connector: null,
          id_connector_source: null,
          validate_mechanism: null,
          validate_uri: null,
          bank_payment_id: null,
          website: null,
          client_redirect_uri: 'https://shop.example/r',
          client_state: null,
          payer: null,
          payer_identification: null,
          payer_identity: null,
          operator_identity: null,
          execution_date_type: 'first_open_day',
          currency: 'EUR',
          total_minor: 100,
          instruction_count: 1,
          country: 'DE',
          register_date: clock.now(),
          validate_date: null,
          updated_at: clock.now(),
          webview_url: null,
          fields: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      paymentId = row.id;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      pki.cleanup();
      await drop();
    });

    it('writes the attempt before the call, sends its id as X-Request-ID, and logs the exchange redacted', async () => {
      behave = (_req, res) =>
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ transactionStatus: 'RCVD', paymentId: 'p-1', debtorAccount: { iban: IBAN }, creditorName: 'Jane Creditor' }));
      const { http } = await httpFor({});
      const body = {
        debtorAccount: { iban: IBAN },
        creditorAccount: { iban: 'FR7630006000011234567890189' },
        creditorName: 'ACME Corp.',
        ultimateDebtor: 'Germaine Michu',
        remittanceInformationUnstructured: `pay ${IBAN}`,
      };
      const answer = await http.send({
        operation: 'initiate',
        method: 'POST',
        path: '/v1/payments/sepa-credit-transfers',
        body,
        headers: { 'PSU-ID': 'psu-4711' },
      });
      expect(answer).toMatchObject({ kind: 'response', status: 201 });
      const request = seen.at(-1)!;
      expect(request.path).toBe('/psd2/v1/payments/sepa-credit-transfers');
      expect(request.headers['x-request-id']).toBe(answer.requestId);
      expect(request.attemptRow).toMatchObject({ id: answer.requestId, payment_id: paymentId, operation: 'initiate', outcome: 'pending', finished_at: null });
      expect(JSON.parse(request.body)).toEqual(body);
      expect(http.calls).toEqual([
        expect.objectContaining({ callId: answer.requestId, paymentId, operation: 'initiate', outcome: 'ok', httpStatus: 201, error: null }),
      ]);
      // Nothing more is written until the core records the outcome, with the exchange, in the state change's transaction.
      expect(await store.db.selectFrom('bank_calls').selectAll().where('id', '=', answer.requestId).executeTakeFirstOrThrow()).toMatchObject({
        outcome: 'pending',
        finished_at: null,
      });
      expect(await store.db.selectFrom('bank_exchanges').selectAll().where('call_id', '=', answer.requestId).execute()).toEqual([]);
      await settleCalls(store.db, http.calls, { kind: 'redirect', validate_uri: 'https://bank.example/sca', bank_reference: 'p-1', data: {} });
      const attempt = await store.db.selectFrom('bank_calls').selectAll().where('id', '=', answer.requestId).executeTakeFirstOrThrow();
      expect(attempt).toMatchObject({ http_status: 201, finished_at: clock.now(), outcome: 'ok', bank_reference: 'p-1' });
      const exchange = await store.db.selectFrom('bank_exchanges').selectAll().where('call_id', '=', answer.requestId).executeTakeFirstOrThrow();
      expect(exchange).toMatchObject({
        method: 'POST',
        path: '/v1/payments/sepa-credit-transfers',
        status: 201,
        request_id: answer.requestId,
        payment_id: paymentId,
      });
      const logged = `${exchange.request_body}${exchange.response_body}`;
      for (const secret of [IBAN, 'FR7630006000011234567890189', 'ACME Corp.', 'Germaine Michu', 'Jane Creditor']) expect(logged).not.toContain(secret);
      expect(JSON.parse(exchange.request_body!)).toMatchObject({
        debtorAccount: { iban: 'DE…3000' },
        creditorAccount: { iban: 'FR…0189' },
        creditorName: '[redacted]',
        remittanceInformationUnstructured: 'pay DE…3000',
      });
    });

    it('a deadline, a 5xx and a connection reset are unknown; a 4xx is refused', async () => {
      const { http } = await httpFor({ profile: { timeout_ms: 300 } });
      behave = () => undefined; // never answers
      const t0 = Date.now();
      const timeout = await http.send({ operation: 'initiate', method: 'POST', path: '/v1/payments/sepa-credit-transfers', body: {} });
      expect(timeout).toMatchObject({ kind: 'unknown', reason: 'timeout' });
      expect(Date.now() - t0).toBeLessThan(5_000);
      behave = (_req, res) =>
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"tppMessages":[{"category":"ERROR","code":"SERVICE_UNAVAILABLE"}]}');
      expect(await http.send({ operation: 'status', method: 'GET', path: '/v1/payments/sepa-credit-transfers/p-1/status' })).toMatchObject({
        kind: 'response',
        status: 503,
      });
      behave = (req) => req.socket.destroy();
      expect(await http.send({ operation: 'status', method: 'GET', path: '/v1/payments/sepa-credit-transfers/p-1/status' })).toMatchObject({
        kind: 'unknown',
        reason: 'reset',
      });
      behave = (_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"tppMessages":[{"category":"ERROR","code":"FORMAT_ERROR"}]}');
      expect(await http.send({ operation: 'initiate', method: 'POST', path: '/v1/payments/sepa-credit-transfers', body: {} })).toMatchObject({
        kind: 'response',
        status: 400,
      });
      expect(http.calls.map((c) => [c.outcome, c.httpStatus])).toEqual([
        ['unknown', null],
        ['unknown', 503],
        ['unknown', null],
        ['refused', 400],
      ]);
      // Every call leaves its exchange row when recorded, the failures with their error.
      await settleCalls(store.db, http.calls, null);
      const rows = await store.db
        .selectFrom('bank_exchanges')
        .select(['status', 'error'])
        .where(
          'call_id',
          'in',
          http.calls.map((c) => c.callId),
        )
        .orderBy('id')
        .execute();
      expect(rows.map((r) => r.status)).toEqual([null, 503, null, 400]);
      expect(rows[0]!.error).toMatch(/^timeout/);
      expect(rows[2]!.error).toMatch(/^reset/);
    });

    it('refuses paths that are not relative to the base URL (links the bank returns are never followed)', async () => {
      const { http } = await httpFor({});
      await expect(http.send({ operation: 'status', method: 'GET', path: 'https://evil.example/v1/x' })).rejects.toThrow(/relative/);
      await expect(http.send({ operation: 'status', method: 'GET', path: '//evil.example/v1/x' })).rejects.toThrow(/relative/);
    });

    it('signs with Digest, Signature (keyId SN/CA, rsa-sha256) and TPP-Signature-Certificate, verifiable with the certificate', async () => {
      behave = (_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      const { http } = await httpFor({ signing_key: pki.signing.key, signing_cert: pki.signing.cert, profile: { signing: true } });
      const body = { instructedAmount: { currency: 'EUR', amount: '50.90' } };
      await http.send({
        operation: 'initiate',
        method: 'POST',
        path: '/v1/payments/sepa-credit-transfers',
        body,
        headers: { 'PSU-ID': 'psu-1', 'TPP-Redirect-URI': 'https://pay.example/2.0/bank-return/ok?state=1.x' },
      });
      const { headers, body: raw } = seen.at(-1)!;
      expect(headers.digest).toBe(`SHA-256=${createHash('sha256').update(raw).digest('base64')}`);
      const cert = new X509Certificate(pki.signing.cert);
      expect(headers['tpp-signature-certificate']).toBe(cert.raw.toString('base64'));
      const signature = String(headers.signature);
      const params = Object.fromEntries([...signature.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      expect(params.keyId).toBe(`SN=${cert.serialNumber.toUpperCase()},CA=CN=ca Test CA,O=Payrail Test,C=DE`);
      expect(params.algorithm).toBe('rsa-sha256');
      expect(params.headers).toBe('digest x-request-id psu-id tpp-redirect-uri');
      const signingString = params
        .headers!.split(' ')
        .map((h: string) => `${h}: ${headers[h]}`)
        .join('\n');
      expect(
        verify(
          'sha256',
          Buffer.from(signingString),
          createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })),
          Buffer.from(params.signature!, 'base64'),
        ),
      ).toBe(true);
      // A bank that wants Date (Berlin Group profile send_date) gets it signed with the rest.
      const date = new Date(Date.UTC(2026, 0, 15, 10, 0, 0)).toUTCString();
      await http.send({ operation: 'status', method: 'GET', path: '/v1/payments/sepa-credit-transfers/p1/status', headers: { Date: date } });
      const dated = seen.at(-1)!.headers;
      expect(dated.date).toBe(date);
      expect(/headers="([^"]*)"/.exec(String(dated.signature))![1]).toBe('digest x-request-id date');
      // A bank without a signing key gets no signature headers.
      const plain = await httpFor({});
      await plain.http.send({ operation: 'status', method: 'GET', path: '/v1/payments/sepa-credit-transfers/p/status' });
      expect(seen.at(-1)!.headers.signature).toBeUndefined();
      expect(seen.at(-1)!.headers.digest).toBeUndefined();
    });

    it('presents the configured client certificate to a TLS server that requires one (mTLS), and only then gets through', async () => {
      const tls = createHttpsServer(
        { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true },
        (req, res) => {
          const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client: peer.subject?.CN ?? null }));
        },
      );
      const port = await listen(tls);
      try {
        const tlsBase = `https://127.0.0.1:${port}`;
        const withCert = await httpFor({ base_url: tlsBase, client_cert: pki.client.cert, client_key: pki.client.key, ca: pki.ca.cert });
        expect(await withCert.http.send({ operation: 'status', method: 'GET', path: '/v1/x' })).toMatchObject({
          kind: 'response',
          status: 200,
          body: { client: 'tpp.example' },
        });
        const without = await httpFor({ base_url: tlsBase, ca: pki.ca.cert });
        expect(await without.http.send({ operation: 'status', method: 'GET', path: '/v1/x' })).toMatchObject({ kind: 'unknown' });
        const wrong = await httpFor({ base_url: tlsBase, client_cert: pki.stranger.cert, client_key: pki.stranger.key, ca: pki.ca.cert });
        expect(await wrong.http.send({ operation: 'status', method: 'GET', path: '/v1/x' })).toMatchObject({ kind: 'unknown' });
        // The bank's server certificate is checked against the configured CA: without it, nothing is sent.
        const noCa = await httpFor({ base_url: tlsBase, client_cert: pki.client.cert, client_key: pki.client.key });
        expect(await noCa.http.send({ operation: 'status', method: 'GET', path: '/v1/x' })).toMatchObject({ kind: 'unknown', reason: 'network' });
        for (const r of [withCert, without, wrong, noCa]) await r.reg.close();
      } finally {
        tls.closeAllConnections();
        await new Promise((r) => tls.close(r));
      }
    });
  });
}
