/**
 * Issue 23's "Done when", end to end with real processes on SQLite and PostgreSQL, for UK Open
 * Banking v4.0 and v3.1.11: `payrail bank simulate --standard obie` ← Prism (`proxy --errors`, the
 * official file, its upstream ending in the API root) ← the printed `payrail bank add` line (Prism's
 * address as the base URL) ← `payrail serve`, a merchant and a webhook receiver on loopback, the
 * payer in Chromium: the webview, the model bank's authorize page (Approve / Refuse), the answer
 * in the URL fragment forwarded by Payrail's return page, the merchant's redirect URI, status sync
 * to `done`, signed webhooks. Prism must report no violation in any exchange.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { ApiVersion } from '../../src/connectors/obie/versions.ts';
import { processDatabases, type ProcessDatabase } from '../support/process-databases.ts';
import { waitFor } from '../support/processes.ts';
import { BANK_NAME, startBgStack, waitForState, type BgStack } from './bg-stack.ts';

const BANK = BANK_NAME;
const SORT_CODE_ACCOUNT = '40051512345678';

const PROFILE = JSON.stringify({ timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000, poll_payer_ms: 2000 });

for (const version of ['4.0', '3.1.11'] as ApiVersion[]) {
  describe.each(processDatabases())(`UK Open Banking ${version} end to end [$name]`, ({ create }) => {
    let db: ProcessDatabase;
    let stack: BgStack;
    let context: BrowserContext;
    let mark = 0;

    beforeAll(async () => {
      db = await create();
      stack = await startBgStack(db, { settleSeconds: 2, standard: 'obie', apiVersion: version, bankArgs: ['--profile', PROFILE] });
      context = await stack.browser.newContext({ viewport: { width: 390, height: 800 } });
    }, 300_000);
    afterAll(async () => {
      await context?.close();
      await stack?.stop();
      await db?.cleanup();
    });

    async function ukPayment() {
      const merchant = stack.sdk();
      const payment = await merchant.createPayment({
        client_redirect_uri: `${stack.merchant}/return`,
        client_state: 'order-0042',
        instructions: [
          {
            label: 'Order 0042',
            reference_id: 'ORDER0042',
            amount: 50.9,
            currency: 'GBP',
            execution_date_type: 'instant',
            beneficiary: { scheme_name: 'sort_code_account_number', identification: SORT_CODE_ACCOUNT, label: 'Tea Shop Ltd' },
          },
        ],
      } as Parameters<ReturnType<BgStack['sdk']>['createPayment']>[0]);
      const scoped = await merchant.createScopedToken(payment.id);
      const url = merchant.webviewUrl({
        paymentId: payment.id,
        code: scoped.token,
        redirectUri: `${stack.merchant}/cancelled`,
        state: 'w-42',
        lang: 'en',
        domain: '127.0.0.1',
      });
      return { id: payment.id, url };
    }

    /** The payer picks the bank in the webview and lands on the model bank's authorize page. */
    async function toAuthorizePage(page: Page, url: string) {
      await page.goto(url);
      await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
      await page.getByRole('button', { name: BANK }).click();
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.waitForURL(`${stack.sim.url}/authorize?**`);
      await page.getByText('£50.90').waitFor();
      await page.getByText('Tea Shop Ltd').waitFor();
      await page.getByText('40-05-15 12345678').waitFor();
    }

    it('a GBP payment to a sort-code account is paid in Chromium (Approve, fragment forwarded), done with signed webhooks; Prism silent', async () => {
      mark = stack.prism.mark();
      // Added with the line the model bank printed (every option on it, the key file an absolute path), Prism's address as base URL.
      const line = stack.sim
        .output()
        .split('\n')
        .find((l) => l.startsWith('payrail bank add --standard obie'))!;
      for (const option of ['--base-url', '--issuer', '--client-id', '--signing-key', '--signing-kid', '--api-version', '--token-auth'])
        expect(line).toContain(` ${option} `);
      expect(line).toMatch(/ --signing-key \//);
      expect(stack.bank).toMatchObject({ name: BANK, standard: 'obie' });
      expect(JSON.stringify(stack.bank)).not.toMatch(/PRIVATE KEY/);
      const { id, url } = await ukPayment();
      const page = await context.newPage();
      await toAuthorizePage(page, url);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${stack.merchant}/return?**`);
      expect(new URL(page.url()).searchParams.get('id_payment')).toBe(String(id));
      await waitForState(stack, id, ['done']);
      const hooks = () => stack.webhooks.filter((w) => w.body.id === id);
      await waitFor('the done webhook', () => (hooks().some((w) => w.state === 'done') ? true : undefined), 30_000);
      expect(hooks().map((w) => w.state)).toEqual(['validating', 'pending', 'done']);
      expect(hooks().every((w) => w.verified)).toBe(true);
      // The exchange log: consent, token, payment, status; no account number or name in it.
      const log = JSON.parse(stack.cli(['bank', 'exchanges', '--payment', String(id), '--json']));
      const operations = log.exchanges.map((e: { operation: string }) => e.operation);
      for (const op of ['discovery', 'token', 'initiate', 'jwks', 'submit', 'status']) expect(operations).toContain(op);
      const text = JSON.stringify(log);
      for (const secret of [SORT_CODE_ACCOUNT, 'Tea Shop Ltd']) expect(text).not.toContain(secret);
      await page.close();
      expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
    });

    it('Refuse at the bank ends rejected (CancelledByUser) and nothing is paid', async () => {
      mark = stack.prism.mark();
      const { id, url } = await ukPayment();
      const page = await context.newPage();
      await toAuthorizePage(page, url);
      const paymentsBefore = (await stack.control('GET', '/payments')).length;
      await page.getByRole('button', { name: 'Refuse' }).click();
      await page.waitForURL(`${stack.merchant}/return?**`);
      const rejected = await waitForState(stack, id, ['rejected']);
      expect(rejected.error_code).toBe('CancelledByUser');
      expect((await stack.control('GET', '/payments')).length).toBe(paymentsBefore);
      await page.close();
      expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
    });
  });
}
