/**
 * The Berlin Group simulator on its own: the checks Prism cannot make (IBAN check digits, amounts,
 * dates, body against path, states over time), SCA page, cancellation, faults and counts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CANCELLATION_405_CODES, PIS_ERROR_CODES, SCA_STATUSES, TRANSACTION_STATUSES } from '../src/connectors/berlin-group/simulator/codes.ts';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../src/connectors/berlin-group/simulator/index.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { bg, BULK, decideOnPage, SINGLE, TPP } from './support/bg-requests.ts';
import { BG_SPEC } from './support/prism.ts';

const SCT = '/v1/payments/sepa-credit-transfers';
let sim: BerlinGroupSimulator;
const clock = new ManualClock(Date.UTC(2026, 5, 10, 9, 0, 0));

beforeAll(async () => {
  sim = await startBerlinGroupSimulator({ clock, settleAfterMs: 4_000 });
});
afterAll(() => sim.close());
beforeEach(() => sim.faults.clear());

async function initiate(body: unknown = SINGLE, headers: Record<string, string> = {}, path = SCT) {
  return bg(sim.url, 'POST', path, { body, headers });
}

describe('the code lists', () => {
  it('are those of the vendored NextGenPSD2 1.3.12 file', () => {
    const schemas = JSON.parse(readFileSync(BG_SPEC, 'utf8')).components.schemas;
    expect(TRANSACTION_STATUSES).toEqual(schemas.transactionStatus.enum);
    expect(SCA_STATUSES).toEqual(schemas.scaStatus.enum);
    for (const [status, codes] of Object.entries(PIS_ERROR_CODES)) expect(codes).toEqual(schemas[`MessageCode${status}_PIS`].enum);
    expect(CANCELLATION_405_CODES).toEqual(schemas.MessageCode405_PIS_CANC.enum);
  });
});

describe('redirect SCA', () => {
  it('initiates with host-relative links, an absolute scaRedirect, no Location, and settles over time', async () => {
    const headers = { 'X-Request-ID': crypto.randomUUID() };
    const created = await initiate(SINGLE, headers);
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe(headers['X-Request-ID']);
    expect(created.headers.get('location')).toBeNull();
    expect(created.headers.get('aspsp-sca-approach')).toBe('REDIRECT');
    const { paymentId, transactionStatus, _links } = created.json;
    expect(transactionStatus).toBe('RCVD');
    expect(_links.self.href).toBe(`${SCT}/${paymentId}`);
    expect(_links.status.href).toBe(`${SCT}/${paymentId}/status`);
    expect(_links.scaStatus.href).toMatch(new RegExp(`^${SCT}/${paymentId}/authorisations/[0-9a-f-]{36}$`));
    expect(_links.scaRedirect.href.startsWith(`${sim.url}/sca/`)).toBe(true);

    const page = await fetch(_links.scaRedirect.href);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self' https://tpp.example");
    const text = await page.text();
    expect(text).toContain('50.90 EUR');
    expect(text).toContain('ACME Corp.');
    expect(text).toMatch(/<button[^>]*value="approve">Approve<\/button>/);
    expect(text).toMatch(/<button[^>]*value="refuse">Refuse<\/button>/);
    expect(text).not.toContain('<script');

    const decided = await decideOnPage(_links.scaRedirect.href, 'approve');
    expect(decided).toMatchObject({ status: 303, location: TPP.ok });
    const sca = await bg(sim.url, 'GET', _links.scaStatus.href);
    expect(sca.json).toEqual({ scaStatus: 'finalised' });
    const status = async () => (await bg(sim.url, 'GET', _links.status.href)).json.transactionStatus;
    expect(await status()).toBe('ACTC');
    clock.advance(2_000);
    expect(await status()).toBe('ACSP');
    clock.advance(2_000);
    expect(await status()).toBe('ACSC');
    const info = await bg(sim.url, 'GET', _links.self.href);
    expect(info.json).toEqual({ ...SINGLE, transactionStatus: 'ACSC' });
    // Nothing left to decide: the page says so rather than offering the buttons again.
    expect(await (await fetch(_links.scaRedirect.href)).text()).toContain('Nothing left to confirm');
  });

  it('sends a refusal to the Nok URI, or to the OK URI when there is none, and rejects the payment', async () => {
    const created = await initiate();
    expect(await decideOnPage(created.json._links.scaRedirect.href, 'refuse')).toMatchObject({ status: 303, location: TPP.nok });
    expect((await bg(sim.url, 'GET', created.json._links.status.href)).json.transactionStatus).toBe('RJCT');
    expect((await bg(sim.url, 'GET', created.json._links.scaStatus.href)).json.scaStatus).toBe('failed');

    const withoutNok = await bg(sim.url, 'POST', SCT, { body: SINGLE, headers: { 'TPP-Nok-Redirect-URI': '' } });
    expect(withoutNok.status).toBe(400); // an empty URI is not a URI
    const plain = await fetch(`${sim.url}${SCT}`, {
      method: 'POST',
      body: JSON.stringify(SINGLE),
      headers: { 'Content-Type': 'application/json', 'X-Request-ID': crypto.randomUUID(), 'PSU-IP-Address': '10.1.2.3', 'TPP-Redirect-URI': TPP.ok },
    });
    const created2 = (await plain.json()) as { _links: { scaRedirect: { href: string } } };
    expect(await decideOnPage(created2._links.scaRedirect.href, 'refuse')).toMatchObject({ status: 303, location: TPP.ok });
  });

  it('refuses a decision without the page form token', async () => {
    const created = await initiate();
    const response = await fetch(created.json._links.scaRedirect.href, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'decision=approve&token=forged',
    });
    expect(response.status).toBe(400);
    expect(sim.ledger.status(sim.payments.get(created.json.paymentId)!)).toBe('RCVD');
  });

  it('starts the authorisation explicitly when the TPP asks for it', async () => {
    const created = await initiate(SINGLE, { 'TPP-Explicit-Authorisation-Preferred': 'true' });
    const { paymentId, _links } = created.json;
    expect(Object.keys(_links).sort()).toEqual(['self', 'startAuthorisation', 'status']);
    expect(_links.startAuthorisation.href).toBe(`${SCT}/${paymentId}/authorisations`);
    const started = await bg(sim.url, 'POST', _links.startAuthorisation.href, { body: {} });
    expect(started.status).toBe(201);
    expect(started.headers.get('aspsp-sca-approach')).toBe('REDIRECT');
    expect(started.json).toMatchObject({
      scaStatus: 'received',
      _links: { scaRedirect: { href: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/sca\//) } },
    });
    const list = await bg(sim.url, 'GET', `${SCT}/${paymentId}/authorisations`);
    expect(list.json).toEqual({ authorisationIds: [started.json.authorisationId] });
    expect(await decideOnPage(started.json._links.scaRedirect.href, 'approve')).toMatchObject({ location: TPP.ok });
    const again = await bg(sim.url, 'POST', _links.startAuthorisation.href, { body: {} });
    expect(again.status).toBe(409);
    expect(again.json.tppMessages[0].code).toBe('STATUS_INVALID');
  });

  it('rejects a payment whose SCA never came', async () => {
    const created = await initiate();
    clock.advance(31 * 60_000);
    expect((await bg(sim.url, 'GET', created.json._links.status.href)).json.transactionStatus).toBe('RJCT');
  });
});

describe('decoupled SCA', () => {
  it('waits for the payer in the bank app, approved through the control endpoint', async () => {
    const created = await initiate(SINGLE, { 'TPP-Decoupled-Preferred': 'true', 'PSU-ID': 'payer-1' });
    expect(created.headers.get('aspsp-sca-approach')).toBe('DECOUPLED');
    expect(created.json._links.scaRedirect).toBeUndefined();
    expect(created.json.psuMessage).toMatch(/banking app/);
    const sca = await bg(sim.url, 'GET', created.json._links.scaStatus.href);
    expect(sca.json.scaStatus).toBe('started');
    const approved = await fetch(`${sim.url}/_simulator/payments/${created.json.paymentId}/approve`, { method: 'POST' });
    expect(approved.status).toBe(200);
    expect((await bg(sim.url, 'GET', created.json._links.scaStatus.href)).json).toEqual({ scaStatus: 'finalised' });
    expect((await bg(sim.url, 'GET', created.json._links.status.href)).json.transactionStatus).toBe('ACTC');
    expect((await fetch(`${sim.url}/_simulator/payments/${created.json.paymentId}/approve`, { method: 'POST' })).status).toBe(409);
  });
});

describe('what the bank refuses itself (Prism does not check it)', () => {
  const cases: [string, unknown, Record<string, string>, number, string, string | undefined][] = [
    ['no debtorAccount', { ...SINGLE, debtorAccount: undefined }, {}, 400, 'FORMAT_ERROR', 'debtorAccount'],
    [
      'a creditor IBAN with wrong check digits',
      { ...SINGLE, creditorAccount: { iban: 'DE89370400440532013001' } },
      {},
      400,
      'FORMAT_ERROR',
      'creditorAccount.iban',
    ],
    ['a debtor IBAN with wrong check digits', { ...SINGLE, debtorAccount: { iban: 'DE02100100109307118604' } }, {}, 400, 'FORMAT_ERROR', 'debtorAccount.iban'],
    ['a comma amount', { ...SINGLE, instructedAmount: { currency: 'EUR', amount: '50,90' } }, {}, 400, 'FORMAT_ERROR', 'instructedAmount.amount'],
    ['three decimals in EUR', { ...SINGLE, instructedAmount: { currency: 'EUR', amount: '50.901' } }, {}, 400, 'FORMAT_ERROR', 'instructedAmount.amount'],
    ['a zero amount', { ...SINGLE, instructedAmount: { currency: 'EUR', amount: '0.00' } }, {}, 400, 'FORMAT_ERROR', 'instructedAmount.amount'],
    ['a number amount', { ...SINGLE, instructedAmount: { currency: 'EUR', amount: 50.9 } }, {}, 400, 'FORMAT_ERROR', 'instructedAmount.amount'],
    [
      'USD on a SEPA product',
      { ...SINGLE, instructedAmount: { currency: 'USD', amount: '5.00' } },
      {},
      400,
      'PARAMETER_NOT_SUPPORTED',
      'instructedAmount.currency',
    ],
    ['a creditor name over 70 characters', { ...SINGLE, creditorName: 'x'.repeat(71) }, {}, 400, 'FORMAT_ERROR', 'creditorName'],
    ['an execution date in the past', { ...SINGLE, requestedExecutionDate: '2026-06-09' }, {}, 400, 'EXECUTION_DATE_INVALID', 'requestedExecutionDate'],
    ['an IPv6 PSU-IP-Address', SINGLE, { 'PSU-IP-Address': '::1' }, 400, 'FORMAT_ERROR', 'PSU-IP-Address'],
    ['an X-Request-ID that is no UUID', SINGLE, { 'X-Request-ID': 'abc' }, 400, 'FORMAT_ERROR', 'X-Request-ID'],
    ['a body that is not JSON', '{"instructedAmount":', {}, 400, 'FORMAT_ERROR', undefined],
  ];
  it.each(cases)('%s', async (_name, body, headers, status, code, path) => {
    const before = sim.payments.size;
    const response = await initiate(body, headers);
    expect(response.status).toBe(status);
    expect(response.json.tppMessages).toEqual([expect.objectContaining({ category: 'ERROR', code, ...(path ? { path } : {}) })]);
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.payments.size).toBe(before);
  });

  it('answers an unknown product, service, payment or a payment under the wrong product with 404', async () => {
    expect((await initiate(SINGLE, {}, '/v1/payments/pain.001-sepa-credit-transfers')).json.tppMessages[0].code).toBe('PRODUCT_UNKNOWN');
    expect((await initiate(SINGLE, {}, '/v1/standing-orders/sepa-credit-transfers')).status).toBe(404);
    expect((await bg(sim.url, 'GET', `${SCT}/nope/status`)).json.tppMessages[0].code).toBe('RESOURCE_UNKNOWN');
    const created = await initiate();
    const wrong = await bg(sim.url, 'GET', `/v1/payments/instant-sepa-credit-transfers/${created.json.paymentId}/status`);
    expect(wrong.status).toBe(404);
    expect((await bg(sim.url, 'PUT', `${SCT}/${created.json.paymentId}/authorisations/x`, { body: {} })).status).toBe(405);
  });
});

describe('bulk and periodic payments', () => {
  it('initiates a bulk and reads it back with its status', async () => {
    const created = await initiate(BULK, {}, '/v1/bulk-payments/sepa-credit-transfers');
    expect(created.status).toBe(201);
    const info = await bg(sim.url, 'GET', created.json._links.self.href);
    expect(info.json).toEqual({ ...BULK, transactionStatus: 'RCVD' });
    const badElement = await initiate(
      { ...BULK, payments: [BULK.payments[0], { ...BULK.payments[1], creditorAccount: { iban: 'FR7630006000011234567890188' } }] },
      {},
      '/v1/bulk-payments/sepa-credit-transfers',
    );
    expect(badElement.json.tppMessages[0].path).toBe('payments[1].creditorAccount.iban');
  });

  it('initiates a standing order, which stays accepted once approved', async () => {
    const periodic = { ...SINGLE, startDate: '2026-07-01', frequency: 'Monthly', dayOfExecution: '1' };
    const created = await initiate(periodic, {}, '/v1/periodic-payments/sepa-credit-transfers');
    expect(created.status).toBe(201);
    expect((await initiate({ ...periodic, frequency: 'FourMonthly' }, {}, '/v1/periodic-payments/sepa-credit-transfers')).json.tppMessages[0].path).toBe(
      'frequency',
    );
    expect((await initiate({ ...periodic, startDate: '2026-01-01' }, {}, '/v1/periodic-payments/sepa-credit-transfers')).json.tppMessages[0].code).toBe(
      'EXECUTION_DATE_INVALID',
    );
    sim.approve(created.json.paymentId);
    clock.advance(60 * 86_400_000);
    expect((await bg(sim.url, 'GET', created.json._links.status.href)).json.transactionStatus).toBe('ACTC');
  });
});

describe('cancellation', () => {
  const today = () => new Date(clock.now()).toISOString().slice(0, 10);
  const later = () => new Date(clock.now() + 5 * 86_400_000).toISOString().slice(0, 10);

  it('cancels a payment still waiting for SCA with 204, then refuses a second DELETE with 409', async () => {
    const created = await initiate();
    const first = await bg(sim.url, 'DELETE', created.json._links.self.href);
    expect(first.status).toBe(204);
    expect(first.headers.get('x-request-id')).toBeTruthy();
    expect((await bg(sim.url, 'GET', created.json._links.status.href)).json.transactionStatus).toBe('CANC');
    expect((await bg(sim.url, 'GET', created.json._links.scaStatus.href)).json.scaStatus).toBe('failed');
    const second = await bg(sim.url, 'DELETE', created.json._links.self.href);
    expect([second.status, second.json.tppMessages[0].code]).toEqual([409, 'STATUS_INVALID']);
  });

  it('refuses with 405 CANCELLATION_INVALID once the money moves', async () => {
    const created = await initiate({ ...SINGLE, requestedExecutionDate: today() });
    sim.approve(created.json.paymentId);
    const response = await bg(sim.url, 'DELETE', created.json._links.self.href);
    expect([response.status, response.json.tppMessages[0].code]).toEqual([405, 'CANCELLATION_INVALID']);
  });

  it("cancels an approved future-dated payment with 204, or with 202 and the payer's SCA when the bank asks for it", async () => {
    const direct = await initiate({ ...SINGLE, requestedExecutionDate: later() });
    sim.approve(direct.json.paymentId);
    expect((await bg(sim.url, 'GET', direct.json._links.status.href)).json.transactionStatus).toBe('ACTC');
    expect((await bg(sim.url, 'DELETE', direct.json._links.self.href)).status).toBe(204);

    sim.settings.cancellationSca = true;
    try {
      const created = await initiate({ ...SINGLE, requestedExecutionDate: later() });
      const { paymentId, _links } = created.json;
      sim.approve(paymentId);
      const accepted = await bg(sim.url, 'DELETE', _links.self.href);
      expect(accepted.status).toBe(202);
      expect(accepted.json).toEqual({ transactionStatus: 'ACTC', _links: { startAuthorisation: { href: `${SCT}/${paymentId}/cancellation-authorisations` } } });
      const started = await bg(sim.url, 'POST', accepted.json._links.startAuthorisation.href, { body: {} });
      expect(started.status).toBe(201);
      expect((await bg(sim.url, 'GET', accepted.json._links.startAuthorisation.href)).json.authorisationIds).toEqual([started.json.authorisationId]);
      const page = await decideOnPage(started.json._links.scaRedirect.href, 'approve');
      expect(page.page).toContain('Cancel this payment?');
      expect(page.location).toBe(TPP.ok);
      expect((await bg(sim.url, 'GET', started.json._links.scaStatus.href)).json.scaStatus).toBe('finalised');
      expect((await bg(sim.url, 'GET', _links.status.href)).json.transactionStatus).toBe('CANC');
    } finally {
      sim.settings.cancellationSca = false;
    }
  });
});

describe('faults', () => {
  it('adds latency', async () => {
    sim.faults.add({ kind: 'latency', latencyMs: 300, operation: 'initiatePayment' });
    const started = performance.now();
    expect((await initiate()).status).toBe(201);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(sim.faults.list()).toEqual([]);
  });

  it('answers 503 without creating the payment, or after creating it', async () => {
    const before = sim.payments.size;
    sim.faults.add({ kind: 'error', operation: 'initiatePayment' });
    const lost = await initiate();
    expect([lost.status, lost.json]).toEqual([503, null]);
    expect(lost.headers.get('x-request-id')).toBeTruthy();
    expect(sim.payments.size).toBe(before);
    sim.faults.add({ kind: 'error', status: 500, operation: 'initiatePayment', afterProcessing: true });
    expect((await initiate()).status).toBe(500);
    expect(sim.payments.size).toBe(before + 1);
  });

  it('drops the connection', async () => {
    sim.faults.add({ kind: 'drop', operation: 'getPaymentInitiationStatus' });
    const created = await initiate();
    await expect(bg(sim.url, 'GET', created.json._links.status.href)).rejects.toThrow();
    expect((await bg(sim.url, 'GET', created.json._links.status.href)).status).toBe(200);
  });

  it('accepts an initiation and never answers, and counts what it received', async () => {
    sim.faults.add({ kind: 'hang', operation: 'initiatePayment' });
    const requestId = crypto.randomUUID();
    const before = sim.payments.size;
    await expect(
      bg(sim.url, 'POST', SCT, {
        body: SINGLE,
        headers: { 'X-Request-ID': requestId, 'TPP-Redirect-URI': 'https://tpp.example/hang' },
        timeoutMs: 1_000,
      }).catch(() => {
        throw new Error('gave up');
      }),
    ).rejects.toThrow('gave up');
    expect(sim.payments.size).toBe(before + 1);
    expect(sim.received.initiationsWithRequestId(requestId)).toBe(1);
    const hung = sim.received.initiations.find((i) => i.requestId === requestId)!;
    expect(sim.payments.get(hung.paymentId!)!.requestId).toBe(requestId);
    expect(sim.received.duplicates().requestIds).not.toContain(requestId);
  }, 30_000);

  it('rejects with a given code under the status the standard lists it with, N times, per operation', async () => {
    sim.faults.add({ kind: 'reject', code: 'PRODUCT_INVALID', operation: 'initiatePayment', times: 2 });
    for (let i = 0; i < 2; i += 1) {
      const refused = await initiate();
      expect([refused.status, refused.json.tppMessages[0].code]).toEqual([403, 'PRODUCT_INVALID']);
    }
    expect((await initiate()).status).toBe(201);
    expect(() => sim.faults.add({ kind: 'reject', code: 'NOT_A_CODE' })).toThrow(/not a NextGenPSD2/);
    expect(() => sim.faults.add({ kind: 'reject', code: 'PRODUCT_INVALID', status: 400 })).toThrow();
  });

  it('hits one matching call in `every`, the same ones in every run', async () => {
    sim.faults.add({ kind: 'error', operation: 'initiatePayment', every: 3, times: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await initiate()).status);
    expect(statuses).toEqual([201, 201, 503, 201, 201, 503, 201]);
    expect(sim.faults.list()).toEqual([expect.objectContaining({ kind: 'error', every: 3, seen: 7, hits: 2 })]);
    sim.faults.clear();
    expect(() => sim.faults.add({ kind: 'drop', every: 0 })).toThrow(/every must be/);
  });

  it('is driven through the control endpoint', async () => {
    const post = (body: unknown) =>
      fetch(`${sim.url}/_simulator/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ kind: 'explode' })).status).toBe(400);
    const added = await post([
      { kind: 'reject', code: 'PSU_CREDENTIALS_INVALID', operation: 'initiatePayment' },
      { kind: 'latency', latencyMs: 10, times: 0 },
    ]);
    expect(added.status).toBe(201);
    expect(await (await fetch(`${sim.url}/_simulator/faults`)).json()).toHaveLength(2);
    const refused = await initiate();
    expect([refused.status, refused.json.tppMessages[0].code]).toEqual([401, 'PSU_CREDENTIALS_INVALID']);
    expect(await (await fetch(`${sim.url}/_simulator/faults`)).json()).toEqual([expect.objectContaining({ kind: 'latency', remaining: null, hits: 1 })]);
    expect((await fetch(`${sim.url}/_simulator/faults`, { method: 'DELETE' })).status).toBe(204);
    expect(sim.faults.list()).toEqual([]);
  });

  it('forces a status through the control endpoint (insufficient funds)', async () => {
    const created = await initiate();
    sim.approve(created.json.paymentId);
    const forced = await fetch(`${sim.url}/_simulator/payments/${created.json.paymentId}/status`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ transactionStatus: 'RJCT', fundsAvailable: false }),
    });
    expect(forced.status).toBe(200);
    expect((await bg(sim.url, 'GET', created.json._links.status.href)).json).toEqual({
      transactionStatus: 'RJCT',
      fundsAvailable: false,
      tppMessage: [{ category: 'ERROR', code: 'FUNDS_NOT_AVAILABLE' }],
    });
    const received = (await (await fetch(`${sim.url}/_simulator/received`)).json()) as { byOperation: Record<string, number> };
    expect(received.byOperation.initiatePayment).toBe(sim.received.count('initiatePayment'));
  });
});
