/**
 * Issue 22, the `Date` mode (and the explicit start of authorisation) end to end with real processes on SQLite and PostgreSQL: a bank that
 * refuses every call without a `Date` header (`payrail bank simulate --require-date`) ← Prism
 * (`proxy --errors`, the official 1.3.12 file) ← `payrail serve`, the payer in Chromium. Two banks
 * point at it: one whose profile says `send_date` (paid to done), one that also asks for an explicit
 * start of authorisation (`explicit_authorisation`: `startAuthorisation`, then `POST …/authorisations`),
 * one whose profile does not send `Date` (the
 * initiation is refused: `rejected`, `bug`, the bank's own words naming the header: the operator's
 * set-up is wrong, not the payment).
 *
 * What Prism checks: every exchange against the file. The file names no `Date` parameter on the
 * PIS operations, so Prism neither asks for it nor refuses it: the simulator is the one that
 * checks it (present, IMF-fixdate, within 5 minutes of its clock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { processDatabases, type ProcessDatabase } from '../support/process-databases.ts';
import { BANK_NAME, merchantPayment, startBgStack, waitForState, type BgStack } from './bg-stack.ts';

const POLL = { timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000 };
const UNDATED = 'Undated Bank';
const EXPLICIT = 'Explicit Start Bank';

describe.each(processDatabases())('Berlin Group Date header end to end [$name]', ({ create }) => {
  let db: ProcessDatabase;
  let stack: BgStack;
  let context: BrowserContext;

  beforeAll(async () => {
    db = await create();
    stack = await startBgStack(db, {
      settleSeconds: 1,
      simArgs: ['--require-date'],
      bankArgs: ['--profile', JSON.stringify({ ...POLL, send_date: true })],
    });
    stack.cli([
      'bank',
      'add',
      '--standard',
      'berlin-group',
      '--name',
      UNDATED,
      '--base-url',
      stack.prism.url,
      '--country',
      'DE',
      '--profile',
      JSON.stringify(POLL),
      '--json',
    ]);
    // A bank asked for an explicit start (TPP-Explicit-Authorisation-Preferred): the simulator answers startAuthorisation.
    stack.cli([
      'bank',
      'add',
      '--standard',
      'berlin-group',
      '--name',
      EXPLICIT,
      '--base-url',
      stack.prism.url,
      '--country',
      'DE',
      '--profile',
      JSON.stringify({ ...POLL, send_date: true, explicit_authorisation: true }),
      '--json',
    ]);
    context = await stack.browser.newContext({ viewport: { width: 390, height: 800 } });
  }, 300_000);
  afterAll(async () => {
    await context?.close();
    await stack?.stop();
    await db?.cleanup();
  });

  function exchanges(id: number): { exchanges: Record<string, any>[] } {
    return JSON.parse(stack.cli(['bank', 'exchanges', '--payment', String(id), '--json']));
  }

  async function pickBank(page: Page, url: string, bank: string) {
    await page.goto(url);
    await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
    await page.getByRole('button', { name: bank }).click();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
  }

  it('send_date: every call carries Date, the payer approves at the bank → done', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    const page = await context.newPage();
    await pickBank(page, url, BANK_NAME);
    await page.waitForURL(`${stack.sim.url}/sca/**`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    await waitForState(stack, id, ['done']);
    const calls = exchanges(id).exchanges;
    expect(calls.map((e) => e.operation)).toContain('status');
    // The bank refuses a call without Date: every one of them was answered 2xx.
    for (const call of calls) expect(call.status, `${call.operation} ${call.status}`).toBeLessThan(300);
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });

  it('explicit_authorisation: the bank answers startAuthorisation, Payrail posts to its authorisations endpoint, the payer approves → done', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    const page = await context.newPage();
    await pickBank(page, url, EXPLICIT);
    await page.waitForURL(`${stack.sim.url}/sca/**`);
    const calls = exchanges(id).exchanges;
    expect(calls.slice(0, 2).map((e) => `${e.operation} ${e.method} ${e.status}`)).toEqual(['initiate POST 201', 'authorise POST 201']);
    expect(calls[0]!.response_body._links).toHaveProperty('startAuthorisation');
    expect(calls[0]!.response_body._links).not.toHaveProperty('scaRedirect');
    expect(calls[1]!.path).toMatch(/^\/v1\/payments\/instant-sepa-credit-transfers\/[^/]+\/authorisations$/);
    expect(calls[1]!.response_body._links).toHaveProperty('scaRedirect');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    await waitForState(stack, id, ['done']);
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });

  it('without send_date the bank refuses the initiation: rejected, bug, the bank naming the Date header; the payer is told', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    const page = await context.newPage();
    await pickBank(page, url, UNDATED);
    const rejected = await waitForState(stack, id, ['rejected']);
    expect(rejected).toMatchObject({ error_code: 'bug', error_description: 'FORMAT_ERROR: The Date header is required (IMF-fixdate).' });
    expect(exchanges(id).exchanges.map((e) => `${e.operation} ${e.status}`)).toEqual(['initiate 400']);
    await page.waitForURL(`${stack.merchant}/**`);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({ id_payment: String(id), error_code: 'bug' });
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });
});
