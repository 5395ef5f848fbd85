/**
 * Issue 9's "Done when", end to end with real processes on SQLite and PostgreSQL:
 * `payrail bank simulate` ← Prism (`proxy --errors`, the official 1.3.12 file) ← `payrail bank add`
 * ← `payrail serve`, a merchant and a webhook receiver on loopback, the payer in Chromium.
 * Prism must report no violation in any exchange; faults come from the simulator's control endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { processDatabases, type ProcessDatabase } from '../support/process-databases.ts';
import { waitFor } from '../support/processes.ts';
import { CREDITOR_IBAN, DEBTOR_IBAN, merchantPayment, stackForTests, startBgStack, waitForState, type BgStack } from './bg-stack.ts';

const PROFILE = JSON.stringify({
  deferred: true,
  execution_date_types: ['first_open_day', 'instant', 'deferred'],
  timeout_ms: 8000,
  poll_initial_ms: 500,
  poll_max_ms: 2000,
});

describe.each(processDatabases())('Berlin Group end to end [$name]', ({ create }) => {
  // Every test ends with Prism silent about what it saw meanwhile.
  const e2e = stackForTests(create, { settleSeconds: 2, bankArgs: ['--profile', PROFILE] });
  const { prismStart, prismSilent, received, toBank } = e2e;

  async function atScaPage(page: Page) {
    await page.waitForURL(`${e2e.stack.sim.url}/sca/**`);
    expect(await page.locator('dd').first().textContent()).toBe('50.90 EUR');
    await page.getByText('ACME Corp.').waitFor();
  }

  function webhooksOf(id: number) {
    return e2e.stack.webhooks.filter((w) => w.body.id === id);
  }

  function exchanges(id: number): { exchanges: Record<string, any>[] } {
    return JSON.parse(e2e.stack.cli(['bank', 'exchanges', '--payment', String(id), '--json']));
  }

  it('a payment is paid in the browser through the SCA page, back at the merchant, done by status sync, one signed webhook per change', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atScaPage(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    expect(new URL(page.url()).searchParams.get('id_payment')).toBe(String(id));
    await waitForState(e2e.stack, id, ['done']);
    await waitFor('three webhooks', () => (webhooksOf(id).length >= 3 ? true : undefined), 30_000);
    expect(webhooksOf(id).map((w) => w.state)).toEqual(['validating', 'pending', 'done']);
    expect(webhooksOf(id).every((w) => w.verified)).toBe(true);

    // The exchange log shows every bank call, with no full IBAN and no name.
    const log = exchanges(id);
    const operations = log.exchanges.map((e) => e.operation);
    expect(operations[0]).toBe('initiate');
    expect(operations).toContain('status');
    for (const e of log.exchanges) expect(e.request_id).toMatch(/^[0-9a-f-]{36}$/);
    const text = JSON.stringify(log);
    for (const secret of [DEBTOR_IBAN, CREDITOR_IBAN, 'ACME Corp.', 'Germaine']) expect(text).not.toContain(secret);
    const sent = (await received()).initiations.filter((i) => log.exchanges.some((e) => e.request_id === i.requestId));
    expect(sent).toHaveLength(1);
    await page.close();
    prismSilent();
  });

  it('a refusal at the bank ends rejected with the mapped error code', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atScaPage(page);
    await page.getByRole('button', { name: 'Refuse' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    const rejected = await waitForState(e2e.stack, id, ['rejected']);
    // The payer's Nok return says "refused"; a status sync that reads RJCT with scaStatus failed first says "authentication failed".
    expect(['CancelledByUser', 'authenticationFailed']).toContain(rejected.error_code);
    expect(new URL(page.url()).searchParams.get('payment_state')).toBe('rejected');
    await page.close();
    prismSilent();
  });

  it('cancelling a pending payment reaches the bank', async () => {
    prismStart();
    const date = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const { id, url, merchant } = await merchantPayment(e2e.stack, { execution_date_type: 'deferred', execution_date: date });
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atScaPage(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['pending']);
    const before = (await received()).byOperation.cancelPayment ?? 0;
    await merchant.updatePayment(id, { cancel: true, client_redirect_uri: `${e2e.stack.merchant}/return` } as never);
    const cancelled = await waitForState(e2e.stack, id, ['rejected']);
    expect(cancelled.error_code).toBe('CancelledByClient');
    expect((await received()).byOperation.cancelPayment).toBe(before + 1);
    const atBank = (await e2e.stack.control('GET', '/payments')) as { transactionStatus: string; body: { requestedExecutionDate?: string } }[];
    expect(atBank.filter((p) => p.body.requestedExecutionDate === date).map((p) => p.transactionStatus)).toEqual(['CANC']);
    await page.close();
    prismSilent();
  });

  it('a bank that hangs after accepting the initiation never gets it twice; the payer sees a clear page and a fresh attempt pays once', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const before = (await received()).initiations.length;
    await e2e.stack.control('POST', '/faults', { kind: 'hang', operation: 'initiatePayment' });
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await page.getByRole('heading', { name: 'We could not confirm your payment with your bank' }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('status').first().textContent()).toContain('you will not pay twice');
    const attempts = exchanges(id).exchanges;
    expect(attempts.map((e) => [e.operation, e.outcome])).toEqual([['initiate', 'unknown']]);
    // Status sync runs meanwhile: nothing may send the initiation again.
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await received()).initiations.length).toBe(before + 1);

    await page.getByRole('button', { name: 'Start a new attempt at your bank' }).click();
    await atScaPage(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['done']);
    const after = await received();
    expect(after.initiations.length).toBe(before + 2);
    expect(after.duplicates.requestIds).toEqual([]);
    const atBank = (await e2e.stack.control('GET', '/payments')) as { paymentId: string; transactionStatus: string }[];
    const mine = after.initiations.slice(before).map((i) => atBank.find((p) => p.paymentId === i.paymentId)!.transactionStatus);
    expect(mine.sort()).toEqual(['ACSC', 'RCVD']); // the lost one never executes without the payer
    // The exchange log keeps both attempts, each with its own bank payment id and calls.
    const log = JSON.parse(e2e.stack.cli(['bank', 'exchanges', '--payment', String(id), '--json']));
    expect(log.payment_attempts.map((a: Record<string, unknown>) => [a.number, a.outcome, a.current, a.bank_payment_id])).toEqual([
      [1, 'unknown', false, null],
      [2, 'ok', true, after.initiations.at(-1)!.paymentId],
    ]);
    expect(log.payment_attempts[0].calls).toHaveLength(1);
    expect(log.exchanges.filter((e: { attempt: number }) => e.attempt === 1).map((e: { operation: string }) => e.operation)).toEqual(['initiate']);
    expect(log.exchanges.filter((e: { attempt: number }) => e.attempt === 2).map((e: { operation: string }) => e.operation)[0]).toBe('initiate');
    expect(e2e.stack.cli(['bank', 'exchanges', '--payment', String(id)])).toMatch(/ATTEMPT +BANK +BANK PAYMENT ID/);
    await page.close();
    prismSilent();
  });

  it('a status call that times out is resolved by the next sync', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url);
    await atScaPage(page);
    await e2e.stack.control('POST', '/faults', { kind: 'hang', operation: 'getPaymentInitiationStatus', afterProcessing: false });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`, { timeout: 30_000 });
    await waitForState(e2e.stack, id, ['done']);
    const statuses = exchanges(id).exchanges.filter((e) => e.operation === 'status');
    // The hung call is recorded unknown (no status, a timeout); a later read answered and decided.
    expect(statuses.filter((e) => e.outcome === 'unknown' && e.status === null && /timeout/.test(e.error ?? ''))).toHaveLength(1);
    expect(statuses.some((e) => e.status === 200 && e.outcome === 'ok')).toBe(true);
    await page.close();
    prismSilent();
  });
});

describe.each(processDatabases().filter((d) => d.name === 'postgres'))('two Payrail processes on one PostgreSQL [$name]', ({ create }) => {
  let db: ProcessDatabase;
  let stack: BgStack;
  let second: { proc: import('node:child_process').ChildProcess; base: string };

  beforeAll(async () => {
    db = await create();
    stack = await startBgStack(db, { settleSeconds: 1, bankArgs: ['--profile', PROFILE] });
    const { startServe } = await import('../support/processes.ts');
    second = await startServe([...db.args, '--log-level', 'warn']);
  }, 300_000);
  afterAll(async () => {
    if (second) {
      second.proc.kill('SIGTERM');
      await (await import('../support/processes.ts')).exited(second.proc);
    }
    await stack?.stop();
    await db?.cleanup();
  });

  it('never send the same initiation twice, even when both are asked to validate every payment at once', async () => {
    const mark = stack.prism.mark();
    const { PayrailClient } = await import('../../../client/src/index.ts');
    const clients = [stack.base, second.base].map(
      (baseUrl) => new PayrailClient({ baseUrl, clientId: stack.client.client_id, clientSecret: stack.client.client_secret }),
    );
    const before = ((await stack.control('GET', '/received')) as { initiations: unknown[] }).initiations.length;
    const ids: number[] = [];
    for (let i = 0; i < 20; i += 1) ids.push((await merchantPayment(stack, { label: `Order ${i}` })).id);
    const results = await Promise.allSettled(
      ids.flatMap((id) => clients.map((c) => c.updatePayment(id, { connector_uuid: stack.bank.uuid, webview_url: `${stack.merchant}/own` } as never))),
    );
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(ids.length);
    const after = (await stack.control('GET', '/received')) as {
      initiations: { requestId: string; bodyHash: string }[];
      duplicates: { requestIds: string[]; bodyHashes: string[] };
    };
    expect(after.initiations.length - before).toBe(ids.length);
    expect(after.duplicates).toEqual({ requestIds: [], bodyHashes: [] });
    expect(stack.prism.problems(mark)).toEqual([]);
  });
});
