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
import { describe, expect, it } from 'vitest';
import { processDatabases } from '../support/process-databases.ts';
import { BANK_NAME, merchantPayment, stackForTests, waitForState } from './bg-stack.ts';

const POLL = { timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000 };
const UNDATED = 'Undated Bank';
const EXPLICIT = 'Explicit Start Bank';

describe.each(processDatabases())('Berlin Group Date header end to end [$name]', ({ create }) => {
  const e2e = stackForTests(
    create,
    { settleSeconds: 1, simArgs: ['--require-date'], bankArgs: ['--profile', JSON.stringify({ ...POLL, send_date: true })] },
    (stack) => {
      stack.addBank(UNDATED, POLL);
      // A bank asked for an explicit start (TPP-Explicit-Authorisation-Preferred): the simulator answers startAuthorisation.
      stack.addBank(EXPLICIT, { ...POLL, send_date: true, explicit_authorisation: true });
    },
  );
  const { prismStart, prismSilent, exchanges } = e2e;

  it('send_date: every call carries Date, the payer approves at the bank → done', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await e2e.toBank(page, url, BANK_NAME);
    await page.waitForURL(`${e2e.stack.sim.url}/sca/**`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['done']);
    const calls = exchanges(id).exchanges;
    expect(calls.map((e) => e.operation)).toContain('status');
    // The bank refuses a call without Date: every one of them was answered 2xx.
    for (const call of calls) expect(call.status, `${call.operation} ${call.status}`).toBeLessThan(300);
    await page.close();
    prismSilent();
  });

  it('explicit_authorisation: the bank answers startAuthorisation, Payrail posts to its authorisations endpoint, the payer approves → done', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await e2e.toBank(page, url, EXPLICIT);
    await page.waitForURL(`${e2e.stack.sim.url}/sca/**`);
    const calls = exchanges(id).exchanges;
    expect(calls.slice(0, 2).map((e) => `${e.operation} ${e.method} ${e.status}`)).toEqual(['initiate POST 201', 'authorise POST 201']);
    expect(calls[0]!.response_body._links).toHaveProperty('startAuthorisation');
    expect(calls[0]!.response_body._links).not.toHaveProperty('scaRedirect');
    expect(calls[1]!.path).toMatch(/^\/v1\/payments\/instant-sepa-credit-transfers\/[^/]+\/authorisations$/);
    expect(calls[1]!.response_body._links).toHaveProperty('scaRedirect');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['done']);
    await page.close();
    prismSilent();
  });

  it('without send_date the bank refuses the initiation: rejected, bug, the bank naming the Date header; the payer is told', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await e2e.toBank(page, url, UNDATED);
    const rejected = await waitForState(e2e.stack, id, ['rejected']);
    expect(rejected).toMatchObject({ error_code: 'bug', error_description: 'FORMAT_ERROR: The Date header is required (IMF-fixdate).' });
    expect(exchanges(id).exchanges.map((e) => `${e.operation} ${e.status}`)).toEqual(['initiate 400']);
    await page.waitForURL(`${e2e.stack.merchant}/**`);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({ id_payment: String(id), error_code: 'bug' });
    await page.close();
    prismSilent();
  });
});
