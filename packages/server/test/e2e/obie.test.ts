/**
 * Issue 23's "Done when", end to end with real processes on SQLite and PostgreSQL, for UK Open
 * Banking v4.0 and v3.1.11: `payrail bank simulate --standard obie` ← Prism (`proxy --errors`, the
 * official file, its upstream ending in the API root) ← the printed `payrail bank add` line (Prism's
 * address as the base URL) ← `payrail serve`, a merchant and a webhook receiver on loopback, the
 * payer in Chromium: the webview, the model bank's authorize page (Approve / Refuse), the answer
 * in the URL fragment forwarded by Payrail's return page, the merchant's redirect URI, status sync
 * to `done`, signed webhooks. Prism must report no violation in any exchange.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ApiVersion } from '../../src/connectors/obie/versions.ts';
import { processDatabases } from '../support/process-databases.ts';
import { waitFor } from '../support/processes.ts';
import { BANK_NAME, merchantPayment, stackForTests, waitForState } from './bg-stack.ts';

const BANK = BANK_NAME;
const SORT_CODE_ACCOUNT = '40051512345678';

const PROFILE = JSON.stringify({ timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000, poll_payer_ms: 2000 });

for (const version of ['4.0', '3.1.11'] as ApiVersion[]) {
  describe.each(processDatabases())(`UK Open Banking ${version} end to end [$name]`, ({ create }) => {
    const e2e = stackForTests(create, { settleSeconds: 2, standard: 'obie', apiVersion: version, bankArgs: ['--profile', PROFILE] });
    const { prismStart, prismSilent, toBank } = e2e;

    /** A GBP payment to a sort-code account, the payer not known. */
    const ukPayment = () =>
      merchantPayment(
        e2e.stack,
        {
          reference_id: 'ORDER0042',
          currency: 'GBP',
          beneficiary: { scheme_name: 'sort_code_account_number', identification: SORT_CODE_ACCOUNT, label: 'Tea Shop Ltd' },
        },
        { payer: false },
      );

    /** The payer picks the bank in the webview and lands on the model bank's authorize page. */
    async function toAuthorizePage(page: Page, url: string) {
      await toBank(page, url, BANK);
      await page.waitForURL(`${e2e.stack.sim.url}/authorize?**`);
      await page.getByText('£50.90').waitFor();
      await page.getByText('Tea Shop Ltd').waitFor();
      await page.getByText('40-05-15 12345678').waitFor();
    }

    it('a GBP payment to a sort-code account is paid in Chromium (Approve, fragment forwarded), done with signed webhooks; Prism silent', async () => {
      prismStart();
      // Added with the line the model bank printed (every option on it, the key file an absolute path), Prism's address as base URL.
      const line = e2e.stack.sim
        .output()
        .split('\n')
        .find((l) => l.startsWith('payrail bank add --standard obie'))!;
      for (const option of ['--base-url', '--issuer', '--client-id', '--signing-key', '--signing-kid', '--api-version', '--token-auth'])
        expect(line).toContain(` ${option} `);
      expect(line).toMatch(/ --signing-key \//);
      expect(e2e.stack.bank).toMatchObject({ name: BANK, standard: 'obie' });
      expect(JSON.stringify(e2e.stack.bank)).not.toMatch(/PRIVATE KEY/);
      const { id, url } = await ukPayment();
      const page = await e2e.context.newPage();
      await toAuthorizePage(page, url);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${e2e.stack.merchant}/return?**`);
      expect(new URL(page.url()).searchParams.get('id_payment')).toBe(String(id));
      await waitForState(e2e.stack, id, ['done']);
      const hooks = () => e2e.stack.webhooks.filter((w) => w.body.id === id);
      await waitFor('the done webhook', () => (hooks().some((w) => w.state === 'done') ? true : undefined), 30_000);
      expect(hooks().map((w) => w.state)).toEqual(['validating', 'pending', 'done']);
      expect(hooks().every((w) => w.verified)).toBe(true);
      // The exchange log: consent, token, payment, status; no account number or name in it.
      const log = JSON.parse(e2e.stack.cli(['bank', 'exchanges', '--payment', String(id), '--json']));
      const operations = log.exchanges.map((e: { operation: string }) => e.operation);
      for (const op of ['discovery', 'token', 'initiate', 'jwks', 'submit', 'status']) expect(operations).toContain(op);
      const text = JSON.stringify(log);
      for (const secret of [SORT_CODE_ACCOUNT, 'Tea Shop Ltd']) expect(text).not.toContain(secret);
      await page.close();
      prismSilent();
    });

    it('Refuse at the bank ends rejected (CancelledByUser) and nothing is paid', async () => {
      prismStart();
      const { id, url } = await ukPayment();
      const page = await e2e.context.newPage();
      await toAuthorizePage(page, url);
      const paymentsBefore = (await e2e.stack.control('GET', '/payments')).length;
      await page.getByRole('button', { name: 'Refuse' }).click();
      await page.waitForURL(`${e2e.stack.merchant}/return?**`);
      const rejected = await waitForState(e2e.stack, id, ['rejected']);
      expect(rejected.error_code).toBe('CancelledByUser');
      expect((await e2e.stack.control('GET', '/payments')).length).toBe(paymentsBefore);
      await page.close();
      prismSilent();
    });
  });
}
