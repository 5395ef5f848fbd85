/** The payer's journey in a real browser (Debian Chromium via playwright-core), phone-sized. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { checkPage, merchantCreatesPayment, readPayment, startStack, type Stack } from './harness.ts';

let stack: Stack;
const a11y: string[] = [];
const PHONE = { viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function newPage(options: { javaScriptEnabled?: boolean; locale?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({ ...PHONE, ...options });
  const page = await context.newPage();
  return { context, page };
}

function landing(url: string): URL {
  return new URL(url);
}

async function chooseTestBank(page: Page, useCase: string, shot: string, javaScriptDisabled = false) {
  await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
  a11y.push(...(await checkPage(page, `${shot}-1-banks`, { javaScriptDisabled })));
  await page.getByRole('button', { name: 'Connecteur de test' }).click();
  await page.getByLabel('Use case').selectOption(useCase);
  a11y.push(...(await checkPage(page, `${shot}-2-connector`, { javaScriptDisabled })));
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
}

describe('hosted webview in Chromium', () => {
  it("runs Powens' one-time payment guide end to end, with JavaScript turned off", async () => {
    const { id, adminToken, url } = await merchantCreatesPayment(stack);
    const { context, page } = await newPage({ javaScriptEnabled: false });
    await page.goto(url);
    expect(page.url()).toContain('/2.0/auth/webview/en/flow?w=');
    expect(page.url()).not.toContain('code=');
    expect(await page.locator('.amount').textContent()).toBe('50.90 EUR');
    await chooseTestBank(page, 'legacy', 'guide', true);
    await page.getByRole('heading', { name: /Test bank/ }).waitFor();
    a11y.push(...(await checkPage(page, 'guide-3-bank', { javaScriptDisabled: true })));
    await page.getByRole('button', { name: 'Approve the transfer' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    const back = landing(page.url());
    expect(Object.fromEntries(back.searchParams)).toEqual({ state: 'webview-state-42', id_payment: String(id), payment_state: 'done' });
    await page.screenshot({ path: `${(await import('./harness.ts')).ARTIFACTS}guide-4-merchant.png` });
    expect((await readPayment(stack, id, adminToken)).state).toBe('done');
    await context.close();
  });

  it('a refusal at the bank lands with payment_state=rejected and the error code', async () => {
    const { id, adminToken, url } = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    await page.goto(url);
    await chooseTestBank(page, 'legacy', 'refuse');
    await page.getByRole('button', { name: 'Refuse' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    expect(Object.fromEntries(landing(page.url()).searchParams)).toMatchObject({
      id_payment: String(id),
      payment_state: 'rejected',
      error_code: 'CancelledByUser',
    });
    expect(await readPayment(stack, id, adminToken)).toMatchObject({ state: 'rejected', error_code: 'CancelledByUser' });
    await context.close();
  });

  it('a payer who cancels in the webview goes back with error=cancelled', async () => {
    const { id, adminToken, url } = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    await page.goto(url);
    await page.getByRole('button', { name: 'Cancel the payment' }).click();
    await page.waitForURL(`${stack.merchant}/cancelled?**`);
    expect(Object.fromEntries(landing(page.url()).searchParams)).toEqual({
      state: 'webview-state-42',
      id_payment: String(id),
      error: 'cancelled',
      error_code: 'CancelledByUser',
    });
    expect(await readPayment(stack, id, adminToken)).toMatchObject({ state: 'rejected', error_code: 'CancelledByUser' });
    await context.close();
  });

  it('otp_sms: a wrong code is refused, a right code pays', async () => {
    const wrong = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    await page.goto(wrong.url);
    await chooseTestBank(page, 'otp_sms', 'otp');
    await page.getByRole('heading', { name: 'Your bank needs more information' }).waitFor();
    a11y.push(...(await checkPage(page, 'otp-3-code')));
    await page.getByLabel(/code received by SMS/).fill('0000');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    expect(Object.fromEntries(landing(page.url()).searchParams)).toMatchObject({ payment_state: 'rejected', error_code: 'authenticationFailed' });

    const right = await merchantCreatesPayment(stack);
    await page.goto(right.url);
    await chooseTestBank(page, 'otp_sms', 'otp-right');
    await page.getByLabel(/code received by SMS/).fill('1234');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    expect(landing(page.url()).searchParams.get('payment_state')).toBe('done');
    expect((await readPayment(stack, right.id, right.adminToken)).state).toBe('done');
    await context.close();
  });

  it('account_choice: choosing the main account pays', async () => {
    const { id, adminToken, url } = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    await page.goto(url);
    await chooseTestBank(page, 'account_choice', 'account');
    await page.getByLabel('Choose the account to pay from').selectOption('main');
    a11y.push(...(await checkPage(page, 'account-3-choice')));
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    expect(landing(page.url()).searchParams.get('payment_state')).toBe('done');
    expect((await readPayment(stack, id, adminToken)).state).toBe('done');
    await context.close();
  });

  it('decoupled: waits for the approval in the banking app, then pays', async () => {
    const { id, adminToken, url } = await merchantCreatesPayment(stack);
    // Without JavaScript the page does not re-check by itself: the payer's button press is the only trigger, so the test is deterministic.
    const { context, page } = await newPage({ javaScriptEnabled: false });
    await page.goto(url);
    await chooseTestBank(page, 'decoupled', 'decoupled', true);
    expect(await page.locator('script[src="/2.0/assets/webview.js"]').count()).toBe(1);
    await page.getByRole('heading', { name: 'Approve the payment in your banking app' }).waitFor();
    expect(await page.getByRole('status').first().textContent()).toContain('Please confirm the transaction in the phone app.');
    a11y.push(...(await checkPage(page, 'decoupled-3-wait', { javaScriptDisabled: true })));
    await page.getByRole('button', { name: /check now/ }).click();
    await page.getByRole('heading', { name: 'Approve the payment in your banking app' }).waitFor();
    stack.clock.advance(10_000); // the payer approves on the phone; the test bank answers after ≈10 s
    await page.getByRole('button', { name: /check now/ }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    expect(landing(page.url()).searchParams.get('payment_state')).toBe('done');
    expect((await readPayment(stack, id, adminToken)).state).toBe('done');
    await context.close();
  });

  it("redirect use case: Powens' webauth callback approves on the visit and lands at the merchant", async () => {
    const { id, adminToken, url } = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    await page.goto(url);
    await chooseTestBank(page, 'redirect', 'redirect-usecase');
    await page.waitForURL(`${stack.merchant}/return?**`);
    expect(Object.fromEntries(landing(page.url()).searchParams)).toMatchObject({ id_payment: String(id), payment_state: 'done' });
    expect((await readPayment(stack, id, adminToken)).state).toBe('done');
    await context.close();
  });

  it('searches banks by name', async () => {
    const { url } = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    await page.goto(url);
    await page.getByRole('searchbox', { name: 'Search for your bank' }).fill('zzz');
    await page.getByRole('button', { name: 'Search' }).click();
    expect(await page.getByRole('status').textContent()).toBe('No bank matches your search.');
    expect(await page.getByRole('button', { name: 'Connecteur de test' }).count()).toBe(0);
    await page.getByRole('searchbox', { name: 'Search for your bank' }).fill('test');
    await page.getByRole('button', { name: 'Search' }).click();
    expect(await page.getByRole('button', { name: 'Connecteur de test' }).count()).toBe(1);
    a11y.push(...(await checkPage(page, 'search')));
    await context.close();
  });

  it('speaks the seven languages', async () => {
    const titles: Record<string, string> = {
      en: 'Pay by bank transfer',
      fr: 'Payer par virement',
      de: 'Per Überweisung bezahlen',
      es: 'Pagar por transferencia',
      it: 'Paga con bonifico',
      nl: 'Betalen per overschrijving',
      pt: 'Pagar por transferência',
    };
    const { context, page } = await newPage();
    for (const [lang, title] of Object.entries(titles)) {
      const { url } = await merchantCreatesPayment(stack, {}, lang);
      await page.goto(url);
      expect(await page.locator('h1').textContent()).toBe(title);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
    }
    a11y.push(...(await checkPage(page, 'lang-pt')));
    await context.close();
  });

  it('refuses tampering with a clear page and changes nothing', async () => {
    const one = await merchantCreatesPayment(stack);
    const two = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    // Where no registered redirect URI is known, a page says so (never a redirect elsewhere).
    const tampered: [string, string][] = [
      ['unregistered redirect_uri', one.url.replace(/redirect_uri=[^&]+/, `redirect_uri=${encodeURIComponent('https://evil.example/steal')}`)],
      ['another client_id', one.url.replace(/client_id=[^&]+/, 'client_id=someone-else')],
    ];
    for (const [name, url] of tampered) {
      const response = await page.goto(url);
      expect(response?.status(), name).toBe(400);
      expect(await page.getByRole('alert').textContent(), name).toContain('invalid or has expired');
    }
    // Once the client and its redirect URI are known, an unusable code sends the payer back there (webview reference).
    const unusable: [string, string][] = [
      ['code of another payment', one.url.replace(`payment_id=${one.id}`, `payment_id=${two.id}`)],
      ['admin token as code', one.url.replace(/code=[^&]+/, `code=${one.adminToken}`)],
      ['garbage code', one.url.replace(/code=[^&]+/, 'code=nope')],
    ];
    for (const [name, url] of unusable) {
      await page.goto(url);
      await page.waitForURL(`${stack.merchant}/cancelled?**`);
      expect(Object.fromEntries(landing(page.url()).searchParams), name).toEqual({
        state: 'webview-state-42',
        error: 'invalid_request',
        error_description: 'The payment link is invalid.',
      });
    }
    a11y.push(...(await checkPage(page, 'error-page')));
    // A forged form (no valid CSRF token) is refused.
    await page.goto(one.url);
    const w = new URL(page.url()).searchParams.get('w')!;
    const forged = await page.request.post(`${stack.base}/2.0/auth/webview/en/flow`, { form: { w, csrf: 'forged', op: 'cancel' } });
    expect(forged.status()).toBe(403);
    // An expired scoped token sends the payer back with error=session_expired.
    stack.clock.advance(7 * 24 * 3600 * 1000 + 1000);
    await page.goto(two.url);
    await page.waitForURL(`${stack.merchant}/cancelled?**`);
    expect(landing(page.url()).searchParams.get('error')).toBe('session_expired');
    stack.clock.advance(-(7 * 24 * 3600 * 1000 + 1000));
    expect((await readPayment(stack, one.id, one.adminToken)).state).toBe('created');
    expect((await readPayment(stack, two.id, two.adminToken)).state).toBe('created');
    await context.close();
  });

  it('sends the payer of a payment in a final state straight back to the merchant, and refuses a replayed form', async () => {
    const { id, url } = await merchantCreatesPayment(stack);
    const { context, page } = await newPage();
    await page.goto(url);
    const w = new URL(page.url()).searchParams.get('w')!;
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    await page.getByRole('button', { name: 'Cancel the payment' }).click();
    await page.waitForURL(`${stack.merchant}/cancelled?**`);
    // A replayed form changes nothing: the payer is shown where the payment stands (here: back to the merchant).
    const replay = await page.request.post(`${stack.base}/2.0/auth/webview/en/flow`, { form: { w, csrf: csrf!, op: 'cancel' }, maxRedirects: 0 });
    expect(replay.status()).toBe(303);
    expect(replay.headers().location).toBe(`/2.0/auth/webview/en/flow?w=${w}`);
    await page.goto(url);
    await page.waitForURL(`${stack.merchant}/return?**`);
    expect(Object.fromEntries(landing(page.url()).searchParams)).toMatchObject({
      id_payment: String(id),
      payment_state: 'rejected',
      error_code: 'CancelledByUser',
    });
    await context.close();
  });

  it('every page passed axe-core with no serious or critical violation and fits a phone screen', () => {
    expect(a11y).toEqual([]);
  });
});
