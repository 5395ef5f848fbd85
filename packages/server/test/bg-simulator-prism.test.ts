/**
 * The simulator judged by an independent tool: every operation it implements, sent by a
 * standard-conformant client through `prism proxy --errors` with the official 1.3.12 file, must
 * pass in both directions (zero violations in Prism's log). Deliberately bad requests must be
 * caught, which proves the harness can fail. `prism mock` alone stands for the standard's examples.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../src/connectors/berlin-group/simulator/index.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { bg, BULK, decideOnPage, SINGLE, TPP } from './support/bg-requests.ts';
import { startPrismMock, startPrismProxy, type Prism } from './support/prism.ts';

const SCT = '/v1/payments/sepa-credit-transfers';
const clock = new ManualClock(Date.UTC(2026, 5, 10, 9, 0, 0));
let sim: BerlinGroupSimulator;
let proxy: Prism;
let mock: Prism;
/** A bank that breaks the standard in its answer (no X-Request-ID, no paymentId), behind its own proxy. */
let rogue: Server;
let rogueProxy: Prism;

beforeAll(async () => {
  sim = await startBerlinGroupSimulator({ clock, settleAfterMs: 4_000 });
  rogue = createServer((_req, res) => {
    res.writeHead(201, { 'Content-Type': 'application/json', 'ASPSP-SCA-Approach': 'redirect' });
    res.end(JSON.stringify({ transactionStatus: 'RECEIVED', _links: { scaRedirect: 'https://bank.example/sca' } }));
  });
  await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
  const roguePort = (rogue.address() as { port: number }).port;
  [proxy, mock, rogueProxy] = await Promise.all([startPrismProxy(sim.url), startPrismMock(), startPrismProxy(`http://127.0.0.1:${roguePort}`)]);
}, 240_000);
afterAll(async () => {
  await Promise.all([proxy?.stop(), mock?.stop(), rogueProxy?.stop()]);
  await sim?.close();
  rogue?.close();
});

/** Runs a flow through the proxy and fails on any violation Prism logged meanwhile. */
async function conformant(flow: () => Promise<void>): Promise<void> {
  const mark = proxy.mark();
  await flow();
  await new Promise((r) => setTimeout(r, 100)); // Prism logs the response validation just after answering
  expect(proxy.problems(mark), proxy.log().slice(mark)).toEqual([]);
}

const via = (method: string, path: string, options: Parameters<typeof bg>[3] = {}) => bg(proxy.url, method, path, options);

describe('the simulator behind prism proxy --errors', () => {
  it('redirect SCA: initiate, read, authorise on the SCA page, settle; a final payment refuses cancellation', () =>
    conformant(async () => {
      const created = await via('POST', SCT, { body: SINGLE });
      expect(created.status).toBe(201);
      const { paymentId, _links } = created.json;
      expect((await via('GET', _links.self.href)).json).toMatchObject({ transactionStatus: 'RCVD', creditorName: 'ACME Corp.' });
      expect((await via('GET', `${SCT}/${paymentId}/authorisations`)).json.authorisationIds).toHaveLength(1);
      expect((await via('GET', _links.scaStatus.href)).json.scaStatus).toBe('received');
      expect((await decideOnPage(_links.scaRedirect.href, 'approve')).location).toBe(TPP.ok);
      const seen: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        seen.push((await via('GET', _links.status.href)).json.transactionStatus);
        clock.advance(2_000);
      }
      expect(seen).toEqual(['ACTC', 'ACSP', 'ACSC']);
      const cancel = await via('DELETE', _links.self.href);
      expect([cancel.status, cancel.json.tppMessages[0].code]).toEqual([409, 'STATUS_INVALID']);
    }));

  it('refusal on the SCA page, then the status is RJCT', () =>
    conformant(async () => {
      const created = await via('POST', '/v1/payments/instant-sepa-credit-transfers', { body: SINGLE });
      expect((await decideOnPage(created.json._links.scaRedirect.href, 'refuse')).location).toBe(TPP.nok);
      expect((await via('GET', created.json._links.status.href)).json.transactionStatus).toBe('RJCT');
      expect((await via('GET', created.json._links.scaStatus.href)).json.scaStatus).toBe('failed');
    }));

  it('explicit start of the authorisation', () =>
    conformant(async () => {
      const created = await via('POST', SCT, { body: SINGLE, headers: { 'TPP-Explicit-Authorisation-Preferred': 'true' } });
      const started = await via('POST', created.json._links.startAuthorisation.href, { body: {} });
      expect(started.status).toBe(201);
      expect((await via('GET', started.json._links.scaStatus.href)).json.scaStatus).toBe('received');
    }));

  it('decoupled SCA, approved in the bank app', () =>
    conformant(async () => {
      const created = await via('POST', SCT, { body: SINGLE, headers: { 'TPP-Decoupled-Preferred': 'true', 'PSU-ID': 'payer-1' } });
      expect(created.headers.get('aspsp-sca-approach')).toBe('DECOUPLED');
      expect((await via('GET', created.json._links.scaStatus.href)).json.scaStatus).toBe('started');
      sim.approve(created.json.paymentId);
      expect((await via('GET', created.json._links.scaStatus.href)).json.scaStatus).toBe('finalised');
      expect((await via('GET', created.json._links.status.href)).json.transactionStatus).toBe('ACTC');
    }));

  it('bulk, TARGET2 and cross-border initiations', () =>
    conformant(async () => {
      const bulk = await via('POST', '/v1/bulk-payments/sepa-credit-transfers', { body: BULK });
      expect(bulk.status).toBe(201);
      expect((await via('GET', bulk.json._links.self.href)).json.payments).toHaveLength(2);
      expect((await via('GET', bulk.json._links.status.href)).json.transactionStatus).toBe('RCVD');
      const t2 = await via('POST', '/v1/payments/target-2-payments', { body: { ...SINGLE, creditorAgent: 'COBADEFFXXX' } });
      expect(t2.status).toBe(201);
      const cross = await via('POST', '/v1/payments/cross-border-credit-transfers', {
        body: { ...SINGLE, instructedAmount: { currency: 'USD', amount: '12.5' }, creditorAddress: { country: 'US', townName: 'Boston' } },
      });
      expect(cross.status).toBe(201);
    }));

  it('cancellation: 204 before SCA; 202 then a cancellation authorisation for an approved dated payment', () =>
    conformant(async () => {
      const pending = await via('POST', SCT, { body: SINGLE });
      expect((await via('DELETE', pending.json._links.self.href)).status).toBe(204);
      expect((await via('GET', pending.json._links.status.href)).json.transactionStatus).toBe('CANC');

      sim.settings.cancellationSca = true;
      try {
        const dated = new Date(clock.now() + 7 * 86_400_000).toISOString().slice(0, 10);
        const created = await via('POST', SCT, { body: { ...SINGLE, requestedExecutionDate: dated } });
        sim.approve(created.json.paymentId);
        const accepted = await via('DELETE', created.json._links.self.href);
        expect(accepted.status).toBe(202);
        const started = await via('POST', accepted.json._links.startAuthorisation.href, { body: {} });
        expect(started.status).toBe(201);
        expect((await via('GET', accepted.json._links.startAuthorisation.href)).json.authorisationIds).toEqual([started.json.authorisationId]);
        await decideOnPage(started.json._links.scaRedirect.href, 'approve');
        expect((await via('GET', started.json._links.scaStatus.href)).json.scaStatus).toBe('finalised');
        expect((await via('GET', created.json._links.status.href)).json.transactionStatus).toBe('CANC');
      } finally {
        sim.settings.cancellationSca = false;
      }
      const moving = await via('POST', SCT, { body: SINGLE });
      sim.approve(moving.json.paymentId);
      const refused = await via('DELETE', moving.json._links.self.href);
      expect([refused.status, refused.json.tppMessages[0].code]).toEqual([405, 'CANCELLATION_INVALID']);
    }));

  it("its own refusals and injected faults are answered in the standard's shapes", () =>
    conformant(async () => {
      const badIban = await via('POST', SCT, { body: { ...SINGLE, creditorAccount: { iban: 'DE89370400440532013001' } } });
      expect([badIban.status, badIban.json.tppMessages[0].code]).toEqual([400, 'FORMAT_ERROR']);
      const comma = await via('POST', SCT, { body: { ...SINGLE, instructedAmount: { currency: 'EUR', amount: '50,90' } } });
      expect(comma.status).toBe(400); // Prism lets it through (unanchored pattern): the simulator refuses it
      expect((await via('GET', `${SCT}/no-such-payment/status`)).status).toBe(404);
      sim.faults.add([
        { kind: 'reject', code: 'PRODUCT_INVALID', operation: 'initiatePayment' },
        { kind: 'reject', code: 'TOKEN_INVALID', operation: 'getPaymentInitiationStatus' },
        { kind: 'error', status: 503, operation: 'getPaymentInformation' },
      ]);
      expect((await via('POST', SCT, { body: SINGLE })).status).toBe(403);
      const created = await via('POST', SCT, { body: SINGLE });
      expect((await via('GET', created.json._links.status.href)).status).toBe(401);
      expect((await via('GET', created.json._links.self.href)).status).toBe(503);
    }));
});

describe('the harness can fail', () => {
  const cases: [string, string, string, { body?: unknown; headers?: Record<string, string> }][] = [
    ['no PSU-IP-Address', 'POST', SCT, { body: SINGLE, headers: { 'PSU-IP-Address': undefined as unknown as string } }],
    ['an amount as a number', 'POST', SCT, { body: { ...SINGLE, instructedAmount: { currency: 'EUR', amount: 50.9 } } }],
    ['an X-Request-ID that is no UUID', 'POST', SCT, { body: SINGLE, headers: { 'X-Request-ID': 'order-42' } }],
    ['the servers prefix /psd2 before /v1', 'POST', `/psd2${SCT}`, { body: SINGLE }],
  ];
  it.each(cases)('Prism refuses a request with %s before it reaches the bank', async (_name, method, path, options) => {
    const mark = proxy.mark();
    const calls = sim.received.calls.length;
    const headers: Record<string, string | undefined> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'X-Request-ID': crypto.randomUUID(),
      'PSU-IP-Address': '192.168.8.78',
      'TPP-Redirect-URI': TPP.ok,
      ...options.headers,
    };
    for (const [name, value] of Object.entries(headers)) if (value === undefined) delete headers[name];
    const response = await fetch(`${proxy.url}${path}`, {
      method,
      headers: headers as Record<string, string>,
      body: JSON.stringify(options.body),
    });
    expect([404, 422]).toContain(response.status);
    await new Promise((r) => setTimeout(r, 100));
    expect(proxy.problems(mark).length).toBeGreaterThan(0);
    expect(sim.received.calls.length).toBe(calls);
  });
});

describe('the harness fails a bank that breaks the standard', () => {
  it('Prism answers 500 and logs the violations of a non-conformant response', async () => {
    const mark = rogueProxy.mark();
    const response = await bg(rogueProxy.url, 'POST', SCT, { body: SINGLE });
    expect(response.status).toBe(500);
    await new Promise((r) => setTimeout(r, 100));
    expect(rogueProxy.problems(mark).join('\n')).toMatch(/VIOLATIONS/);
    // The detail travels in the answer: Prism's problem+json and its sl-violations header.
    const detail = `${JSON.stringify(response.json)} ${response.headers.get('sl-violations')}`;
    for (const broken of ['x-request-id', 'paymentId', 'transactionStatus']) expect(detail).toContain(broken);
  });
});

describe("prism mock: the standard's examples as the bank", () => {
  it("accepts our initiation and sends the payer to the example's scaRedirect", async () => {
    const mark = mock.mark();
    const created = await bg(mock.url, 'POST', SCT, { body: SINGLE });
    expect(created.status).toBe(201);
    expect(created.json._links.scaRedirect.href).toBe('https://www.testbank.com/asdfasdfasdf');
    await new Promise((r) => setTimeout(r, 100));
    expect(mock.problems(mark)).toEqual([]);
    expect(mock.log().slice(mark)).toContain('The request passed the validation rules');
  });

  it('reports a request that breaks the standard', async () => {
    const mark = mock.mark();
    const refused = await bg(mock.url, 'POST', SCT, { body: { ...SINGLE, debtorAccount: undefined } });
    expect([400, 422]).toContain(refused.status);
    await new Promise((r) => setTimeout(r, 100));
    expect(mock.problems(mark).join('\n')).toMatch(/Violation: request\.body/);
  });
});
