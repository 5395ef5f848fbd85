/**
 * Issue 10, items 1 and 2, in Chromium: the webview as real integrations open it (no redirect_uri,
 * no language, broken codes), and embedded in an iframe by a merchant page on another site, the
 * way Powens' webview library does it, ending with a `powensWebviewTermination` message.
 *
 * Payrail listens on 127.0.0.1; the embedding merchant page is served on `localhost`: another
 * site, so Chromium treats the frame as cross-site and withholds cookies from it.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayrailClient } from '../../../client/src/index.ts';
import { createClient, type CreatedClient } from '../../src/services/clients.ts';
import { databases } from '../support/helpers.ts';
import { startStack, type Stack } from './harness.ts';

interface Parent {
  /** The merchant's site, e.g. http://localhost:41234 */
  origin: string;
  /** Paths the payer's browser reached at the top level (a framed flow must reach none). */
  landings: string[];
  close(): Promise<void>;
}

/** The merchant's page: an iframe on the webview URL and a listener shaped like Powens' library's. */
async function startParent(webviewOrigin: string): Promise<Parent> {
  const landings: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/shop' && url.pathname !== '/favicon.ico') landings.push(url.pathname + url.search);
    const src = url.searchParams.get('src') ?? '';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><head><title>Shop</title></head><body><main><h1>Checkout</h1>
<iframe id="powens-webview-frame" title="Payment" style="width:440px;height:740px" src="${src.replace(/"/g, '&quot;')}"></iframe>
<script>
window.terminations = [];
window.addEventListener('message', (event) => {
  if (event.origin !== ${JSON.stringify(webviewOrigin)}) return;
  if (!event.data || event.data.type !== 'powensWebviewTermination') return;
  window.terminations.push({ origin: event.origin, data: event.data.data });
  document.getElementById('powens-webview-frame').remove();
});
</script></main></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { origin: `http://localhost:${port}`, landings, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

for (const database of databases()) {
  describe(`webview entry and embedding in Chromium [${database.dialect}]`, () => {
    let stack: Stack;
    let parent: Parent;
    let shopClient: CreatedClient;

    beforeAll(async () => {
      stack = await startStack(database);
      parent = await startParent(new URL(stack.base).origin);
      shopClient = await createClient(stack.store.db, { name: 'Embedding shop', redirectUris: [`${parent.origin}/return`], now: stack.clock.now() });
    });
    afterAll(async () => {
      await parent?.close();
      await stack?.stop();
    });

    /** Powens' library builds `/{lang}/payment?client_id&code&payment_id&state` with no redirect_uri. */
    async function libraryUrl(client: CreatedClient, redirect: string, options: { lang?: string | null; state?: string } = {}) {
      const merchant = new PayrailClient({ baseUrl: stack.base, clientId: client.client_id, clientSecret: client.client_secret });
      const payment = await merchant.createPayment({
        client_redirect_uri: redirect,
        client_state: 'order-7',
        instructions: [
          {
            label: 'Order 7',
            amount: 12.5,
            currency: 'EUR',
            execution_date_type: 'instant',
            beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME Corp.' },
          },
        ],
      });
      const scoped = await merchant.createScopedToken(payment.id);
      const query = new URLSearchParams({
        client_id: client.client_id,
        code: scoped.token,
        payment_id: String(payment.id),
        state: options.state ?? 'embed-42',
      });
      const lang = options.lang === null ? '' : `/${options.lang ?? 'en'}`;
      return { id: payment.id, url: `${stack.base}/2.0/auth/webview${lang}/payment?${query}`, merchant };
    }

    it('completes a payment inside an iframe of a page on another site and posts powensWebviewTermination to it', async () => {
      const { id, url, merchant } = await libraryUrl(shopClient, `${parent.origin}/return`);
      const context = await stack.browser.newContext();
      const page = await context.newPage();
      const headers: Record<string, string>[] = [];
      page.on('response', (response) => {
        if (response.url().includes('/2.0/auth/webview/en/flow') && response.request().method() === 'GET') headers.push(response.headers());
      });
      await page.goto(`${parent.origin}/shop?src=${encodeURIComponent(url)}`);
      const frame = page.frameLocator('#powens-webview-frame');
      await frame.getByRole('button', { name: 'Connecteur de test' }).click();
      await frame.getByLabel('Use case').selectOption('legacy');
      // This form post is what failed with 403 when CSRF protection relied on a cookie.
      await frame.getByRole('button', { name: 'Continue', exact: true }).click();
      await frame.getByRole('button', { name: 'Approve the transfer' }).click();
      await page.waitForFunction(() => (globalThis as any).terminations.length > 0, undefined, { timeout: 20_000 });
      const terminations = await page.evaluate(() => (globalThis as any).terminations);
      expect(terminations).toEqual([{ origin: new URL(stack.base).origin, data: { state: 'embed-42', id_payment: id, payment_state: 'done' } }]);
      // The payer stayed on the merchant's page: the frame never navigated to the return URL.
      expect(parent.landings).toEqual([]);
      expect(await page.locator('#powens-webview-frame').count()).toBe(0);
      expect((await merchant.getPayment(id)).state).toBe('done');
      // Framing allowed for the client's registered origin only, no X-Frame-Options, no cookie needed.
      expect(headers.length).toBeGreaterThan(0);
      for (const h of headers) {
        expect(h['content-security-policy']).toMatch(new RegExp(`frame-ancestors ${parent.origin}(;|$)`));
        expect(h['content-security-policy']).toContain("script-src 'self';");
        expect(h['content-security-policy']).not.toContain('*');
        expect(h['x-frame-options']).toBeUndefined();
        expect(h['set-cookie']).toBeUndefined();
      }
      await context.close();
    });

    it('posts the cancellation to the parent, and a page on an unregistered origin cannot frame the webview', async () => {
      const cancelled = await libraryUrl(shopClient, `${parent.origin}/return`, { state: 'embed-cancel' });
      const context = await stack.browser.newContext();
      const page = await context.newPage();
      await page.goto(`${parent.origin}/shop?src=${encodeURIComponent(cancelled.url)}`);
      await page.frameLocator('#powens-webview-frame').getByRole('button', { name: 'Cancel the payment' }).click();
      await page.waitForFunction(() => (globalThis as any).terminations.length > 0, undefined, { timeout: 20_000 });
      expect((await page.evaluate(() => (globalThis as any).terminations))[0].data).toEqual({
        state: 'embed-cancel',
        id_payment: cancelled.id,
        error: 'cancelled',
        error_code: 'CancelledByUser',
      });

      // The 127.0.0.1 merchant's client did not register the localhost origin: its payment's webview refuses that frame.
      const foreign = await libraryUrl(stack.client, `${stack.merchant}/return`);
      const blocked = page.waitForResponse((r) => r.url().includes('/2.0/auth/webview/en/flow'));
      await page.goto(`${parent.origin}/shop?src=${encodeURIComponent(foreign.url)}`);
      const refused = (await blocked).headers()['content-security-policy'];
      expect(refused).toMatch(new RegExp(`frame-ancestors ${new URL(stack.merchant).origin}(;|$)`));
      expect(refused).not.toContain(parent.origin);
      await page.waitForTimeout(500);
      expect(await page.frameLocator('#powens-webview-frame').getByRole('heading', { name: 'Choose your bank' }).count()).toBe(0);
      await context.close();
    });

    it('without redirect_uri, falls back to the payment client_redirect_uri (top level, JavaScript off)', async () => {
      const { id, url } = await libraryUrl(stack.client, `${stack.merchant}/return`);
      const context = await stack.browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(url);
      await page.getByRole('button', { name: 'Cancel the payment' }).click();
      await page.waitForURL(`${stack.merchant}/return?**`);
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({
        state: 'embed-42',
        id_payment: String(id),
        error: 'cancelled',
        error_code: 'CancelledByUser',
      });
      await context.close();
    });

    it('without a language in the path, follows Accept-Language by preference (q-values)', async () => {
      const { url } = await libraryUrl(stack.client, `${stack.merchant}/return`, { lang: null });
      const context = await stack.browser.newContext({ extraHTTPHeaders: { 'accept-language': 'ja, de;q=0.5, fr;q=0.9' } });
      const page = await context.newPage();
      await page.goto(url);
      expect(page.url()).toContain('/2.0/auth/webview/fr/flow?w=');
      expect(await page.locator('h1').textContent()).toBe('Payer par virement');
      await context.close();
    });

    it('an unusable code sends the payer back to the redirect URI with error and error_description', async () => {
      const { url } = await libraryUrl(stack.client, `${stack.merchant}/return`);
      const context = await stack.browser.newContext();
      const page = await context.newPage();
      await page.goto(url.replace(/code=[^&]+/, 'code=not-a-token'));
      await page.waitForURL(`${stack.merchant}/return?**`);
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({
        state: 'embed-42',
        error: 'invalid_request',
        error_description: 'The payment link is invalid.',
      });
      await context.close();
    });
  });
}
