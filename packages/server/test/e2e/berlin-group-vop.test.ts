/**
 * Issue 22, item 5 end to end with real processes on SQLite and PostgreSQL: a bank that checks the
 * payee's name (Verification of Payee). `payrail bank simulate --vop close-match` (switched to
 * `no-match` by its control endpoint) ← Prism ← `payrail serve`; the payer in Chromium decides at
 * the bank, the operator reads the result in the dashboard.
 *
 * What Prism checks: every `/v1` exchange against the official 1.3.12 file with one change, the VoP
 * statuses RCVC, RVCM, RVNC added to the `transactionStatus` enum (`bgSpecWithVop`): 1.3.12
 * predates VoP and would refuse them. The payee-name result (`vopResult`) is a member the file
 * neither names nor forbids: Prism lets it through unchecked.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bgSpecWithVop } from '../support/prism.ts';
import { processDatabases } from '../support/process-databases.ts';
import { merchantPayment, stackForTests, waitForState } from './bg-stack.ts';

// poll_payer_ms: no status read while the payer decides at the bank, so the Nok return (not a status read first) tells the cancellation.
const PROFILE = JSON.stringify({ timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 20_000, poll_payer_ms: 20_000 });

describe.each(processDatabases())('Berlin Group Verification of Payee end to end [$name]', ({ create }) => {
  const e2e = stackForTests(create, { settleSeconds: 1, simArgs: ['--vop', 'close-match'], spec: bgSpecWithVop(), bankArgs: ['--profile', PROFILE] });
  const { prismStart, prismSilent, exchanges } = e2e;

  /** The payer picks the bank and reads the bank's check of the payee's name on its page. */
  async function toBank(page: Page, url: string, notice: string) {
    await e2e.toBank(page, url);
    await page.waitForURL(`${e2e.stack.sim.url}/sca/**`);
    await page.getByRole('heading', { name: notice }).waitFor();
  }

  it('a close match: the payer reads the name the bank holds, continues → done; the result is in the exchange log, the raw status and the dashboard', async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url, 'Close match');
    expect(await page.getByRole('region', { name: 'Verification of Payee' }).textContent()).toContain('ACME CORP GMBH');
    // While the payer decides, the payment waits and its raw status is the bank's VoP code.
    const waiting = exchanges(id);
    expect(waiting.payment_attempts[0]).toMatchObject({ bank_status: 'RVCM', payee_verification: { result: 'close_match', bank_code: 'RVCM' } });
    expect(waiting.attempts[0]).toMatchObject({ operation: 'initiate', raw_status: 'RVCM' });
    expect(waiting.exchanges[0]!.response_body).toMatchObject({
      transactionStatus: 'RVCM',
      vopResult: { partyNameMatch: 'CMTC', matchedName: '[redacted]' },
    });
    expect((await e2e.stack.sdk().getPayment(id)).state).toBe('validating');

    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    await waitForState(e2e.stack, id, ['done']);
    const after = exchanges(id);
    expect(after.payment_attempts[0]).toMatchObject({ bank_status: 'ACSC', payee_verification: { result: 'close_match', bank_code: 'RVCM' } });
    expect(JSON.stringify(after)).not.toContain('ACME CORP GMBH');

    // The operator's dashboard shows the check beside the bank's status.
    const { email, password } = JSON.parse(e2e.stack.cli(['admin', 'create', '--email', `ops-${Date.now()}@example.com`, '--json']));
    const admin = await e2e.stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const dashboard = await admin.newPage();
    await dashboard.goto(`${e2e.stack.base}/admin/login`);
    await dashboard.getByLabel('Email').fill(email);
    await dashboard.getByLabel('Password').fill(password);
    await dashboard.getByRole('button', { name: 'Sign in' }).click();
    await dashboard.waitForURL(/\/admin\/payments$/);
    await dashboard.goto(`${e2e.stack.base}/admin/payments/${id}`);
    const facts = dashboard.locator('dl.facts');
    await expect.poll(() => facts.locator('dt').allTextContents()).toContain('Verification of Payee');
    expect(await facts.locator('dt:has-text("Verification of Payee") + dd').textContent()).toBe('close match (RVCM)');
    expect(await facts.locator('dt:has-text("Bank status") + dd').textContent()).toBe('ACSC');
    await admin.close();
    await page.close();
    prismSilent();
  });

  it('a no match: the payer cancels at the bank → rejected CancelledByUser, the description names the check', async () => {
    prismStart();
    await e2e.stack.control('POST', '/vop', { mode: 'no-match' });
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await toBank(page, url, 'No match');
    expect(exchanges(id).payment_attempts[0]).toMatchObject({ bank_status: 'RVNC', payee_verification: { result: 'no_match', bank_code: 'RVNC' } });
    await page.getByRole('button', { name: 'Refuse' }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    const rejected = await waitForState(e2e.stack, id, ['rejected']);
    expect(rejected).toMatchObject({ error_code: 'CancelledByUser', error_description: expect.stringContaining('no match') });
    expect(new URL(page.url()).searchParams.get('error_code')).toBe('CancelledByUser');
    await page.close();
    prismSilent();
  });
});
