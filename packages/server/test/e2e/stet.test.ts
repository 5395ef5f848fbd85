/**
 * Issue 21's "Done when", end to end with real processes on SQLite and PostgreSQL:
 * `payrail bank simulate --standard stet` ← Prism (`proxy --errors`, STET's 1.5.0.43 file) ←
 * the `payrail bank add` line the simulator printed (its base URL replaced by Prism's) ←
 * `payrail serve`, a merchant and a webhook receiver on loopback, the payer in Chromium through
 * the hosted webview and the simulator's consent page (OAuth2 authorization code + PKCE). Prism
 * must report no violation; faults come from the simulator's control endpoint.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { processDatabases } from '../support/process-databases.ts';
import { waitFor } from '../support/processes.ts';
import { BANK_NAME, commandWords, CREDITOR_IBAN, DEBTOR_IBAN, merchantPayment, stackForTests, waitForState } from './bg-stack.ts';

const PROFILE = JSON.stringify({ timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000, poll_payer_ms: 2000 });

describe.each(processDatabases())('STET end to end [$name]', ({ create }) => {
  const e2e = stackForTests(create, { standard: 'stet', settleSeconds: 2, bankArgs: ['--profile', PROFILE] });
  const { prismStart, prismSilent, received, toBank } = e2e;

  /** The simulator's consent page: the OAuth2 authorization endpoint, showing amount and beneficiary. */
  async function atConsentPage(page: Page) {
    await page.waitForURL(`${e2e.stack.sim.url}/authorize?**`);
    const params = new URL(page.url()).searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('redirect_uri')).toBe(`${e2e.stack.base}/2.0/consent/return`);
    expect(await page.locator('dd').first().textContent()).toBe('50.90 EUR');
    await page.getByText('ACME Corp.').waitFor();
  }

  const webhooksOf = (id: number) => e2e.stack.webhooks.filter((w) => w.body.id === id);
  const exchanges = (id: number): { exchanges: Record<string, any>[]; payment_attempts: Record<string, any>[] } =>
    JSON.parse(e2e.stack.cli(['bank', 'exchanges', '--payment', String(id), '--json']));

  it('the bank added from the printed line: no key material shown', () => {
    expect(e2e.stack.bank).toMatchObject({ name: BANK_NAME, uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), id: expect.any(Number) });
    const listed = e2e.stack.cli(['bank', 'list', '--json']);
    expect(JSON.parse(listed).banks).toEqual([expect.objectContaining({ name: BANK_NAME, standard: 'stet', has_signing_key: true })]);
    expect(listed).not.toMatch(/PRIVATE KEY/);
  });

  it('paid in the browser through the consent page (Approve), back at the merchant, confirmed, done by status sync, one signed webhook per change', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atConsentPage(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    expect(new URL(page.url()).searchParams.get('id_payment')).toBe(String(id));
    await waitForState(e2e.stack, id, ['done']);
    await waitFor('three webhooks', () => (webhooksOf(id).length >= 3 ? true : undefined), 30_000);
    expect(webhooksOf(id).map((w) => w.state)).toEqual(['validating', 'pending', 'done']);
    expect(webhooksOf(id).every((w) => w.verified)).toBe(true);
    const log = exchanges(id);
    const operations = log.exchanges.map((e) => e.operation);
    // The client token is kept between payments; the payer's code is exchanged (`token`) right before the confirmation.
    // (A client token may also be asked for again in between, e.g. after a 401: a token call is never an initiation.)
    const calls = operations.filter((o) => o !== 'status');
    expect(calls.filter((o) => o === 'initiate')).toHaveLength(1);
    expect(calls.slice(-2)).toEqual(['token', 'confirm']);
    expect(calls.indexOf('initiate')).toBeLessThan(calls.length - 2);
    expect(operations).toContain('status');
    const text = JSON.stringify(log);
    for (const secret of [DEBTOR_IBAN, CREDITOR_IBAN, 'ACME Corp.']) expect(text).not.toContain(secret);
    // Tokens, the code and the PKCE verifier are redacted in the log.
    expect(text).toContain('"access_token":"[redacted]"');
    expect(text).toContain('"code_verifier":"[redacted]"');
    expect(text).not.toMatch(/"(access_token|code|code_verifier)":"(?!\[redacted\])/);
    const sent = (await received()).initiations.filter((i) => log.exchanges.some((e) => e.request_id === i.requestId));
    expect(sent).toHaveLength(1);
    await page.close();
    prismSilent();
  });

  it('Refuse at the bank ends rejected with the mapped error code (RJCT CUST → CancelledByUser)', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atConsentPage(page);
    await page.getByRole('button', { name: 'Refuse' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    const rejected = await waitForState(e2e.stack, id, ['rejected']);
    expect(rejected.error_code).toBe('CancelledByUser');
    expect(new URL(page.url()).searchParams.get('payment_state')).toBe('rejected');
    await page.close();
    prismSilent();
  });

  it('cancelling a pending payment reaches the bank as a PUT with CANC and DS02', async () => {
    prismStart();
    const date = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const { id, url, merchant } = await merchantPayment(e2e.stack, { execution_date_type: 'deferred', execution_date: date });
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atConsentPage(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['pending']);
    const before = (await received()).byOperation.paymentRequestPut ?? 0;
    await merchant.updatePayment(id, { cancel: true, client_redirect_uri: `${e2e.stack.merchant}/return` } as never);
    const cancelled = await waitForState(e2e.stack, id, ['rejected']);
    expect(cancelled.error_code).toBe('CancelledByClient');
    expect((await received()).byOperation.paymentRequestPut).toBe(before + 1);
    const atBank = (await e2e.stack.control('GET', '/payments')) as {
      status: string;
      reason: string;
      body: { creditTransferTransaction: { requestedExecutionDate: string }[] };
    }[];
    expect(atBank.filter((p) => p.body.creditTransferTransaction[0]!.requestedExecutionDate.startsWith(date)).map((p) => [p.status, p.reason])).toEqual([
      ['CANC', 'DS02'],
    ]);
    await page.close();
    prismSilent();
  });

  it('a bank that hangs after accepting the initiation never gets it twice; a fresh attempt pays once', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const before = (await received()).initiations.length;
    await e2e.stack.control('POST', '/faults', { kind: 'hang', operation: 'paymentRequestsPost' });
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await page.getByRole('heading', { name: 'We could not confirm your payment with your bank' }).waitFor({ timeout: 30_000 });
    // (The client token is kept from earlier payments: no token call here.)
    expect(exchanges(id).exchanges.map((e) => [e.operation, e.outcome])).toEqual([['initiate', 'unknown']]);
    // Status sync runs meanwhile: nothing may send the initiation again.
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await received()).initiations.length).toBe(before + 1);
    await page.getByRole('button', { name: 'Start a new attempt at your bank' }).click();
    await atConsentPage(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['done']);
    const after = await received();
    expect(after.initiations.length).toBe(before + 2);
    expect(after.duplicates.requestIds).toEqual([]);
    const log = exchanges(id);
    expect(log.payment_attempts.map((a) => [a.number, a.outcome, a.current])).toEqual([
      [1, 'unknown', false],
      [2, 'ok', true],
    ]);
    await page.close();
    prismSilent();
  });

  it('a status answer that is lost is resolved by the next sync', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atConsentPage(page);
    await e2e.stack.control('POST', '/faults', { kind: 'hang', operation: 'paymentRequestsGet', afterProcessing: false });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`, { timeout: 30_000 });
    await waitForState(e2e.stack, id, ['done']);
    const statuses = exchanges(id).exchanges.filter((e) => e.operation === 'status');
    expect(statuses.filter((e) => e.outcome === 'unknown' && e.status === null && /timeout/.test(e.error ?? ''))).toHaveLength(1);
    expect(statuses.some((e) => e.status === 200 && e.outcome === 'ok')).toBe(true);
    await page.close();
    prismSilent();
  });
  it('an embedded-approach bank (EMBEDDED-1-FACTOR) takes the one-time code typed in the webview', async () => {
    prismStart();
    // The same simulator added a second time, as a bank that authenticates the payer with a code.
    const add = commandWords(/^payrail bank add .*$/m.exec(e2e.stack.sim.output())![0]);
    add[add.indexOf('--base-url') + 1] = e2e.stack.prism.url;
    add[add.indexOf('--name') + 1] = 'Banque embarquée';
    e2e.stack.cli([
      ...add,
      '--profile',
      JSON.stringify({ approach: 'EMBEDDED-1-FACTOR', timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000 }),
      '--json',
    ]);
    await new Promise((r) => setTimeout(r, 2_500)); // a bank added while the server runs is offered within 2 s
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url, 'Banque embarquée');
    const code = page.getByLabel(/One-time code/);
    await code.waitFor();
    const atBank = (await e2e.stack.control('GET', '/payments')) as { approach: string; status: string; otp: string }[];
    const mine = atBank.filter((p) => p.approach === 'EMBEDDED-1-FACTOR' && p.status === 'RCVD');
    expect(mine).toHaveLength(1);
    await code.fill(mine[0]!.otp);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['done']);
    const log = JSON.stringify(exchanges(id));
    expect(log).not.toContain(mine[0]!.otp); // the code went to the bank and nowhere else
    expect(exchanges(id).exchanges.map((e) => e.operation)).toContain('confirm');
    await page.close();
    prismSilent();
  });
});
