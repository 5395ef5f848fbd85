/**
 * End-to-end stack for browser tests: a real Payrail listening on 127.0.0.1, a real loopback
 * "merchant" server that records where the payer lands, and Debian's Chromium via playwright-core.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PayrailClient } from '../../../client/src/index.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { buildApp, type PayrailApp } from '../../src/http/app.ts';
import { createClient, type CreatedClient } from '../../src/services/clients.ts';
import { type Dialect, migrate, openStore, type Store } from '../../src/store/db.ts';
import { openIsolatedStore } from '../support/stores.ts';

export const ARTIFACTS = new URL('../../../../test-artifacts/webview/', import.meta.url).pathname;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Stack {
  base: string;
  merchant: string;
  landings: URL[];
  clock: ManualClock;
  client: CreatedClient;
  browser: Browser;
  app: PayrailApp;
  store: Store;
  stop(): Promise<void>;
}

/** A whole stack; on the given database (a fresh PostgreSQL schema, or in-memory SQLite by default). */
export async function startStack(database: { dialect: Dialect; url: string | null } = { dialect: 'sqlite', url: null }): Promise<Stack> {
  mkdirSync(ARTIFACTS, { recursive: true });
  let drop: (() => Promise<void>) | null = null;
  let store: Store;
  if (database.dialect === 'sqlite') {
    store = await openStore({ dataDir: ':memory:' });
    await migrate(store);
  } else {
    ({ store, drop } = await openIsolatedStore(database.dialect, database.url));
  }
  const clock = new ManualClock(Date.now());
  const app = await buildApp({ store, clock });
  const base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');

  const landings: URL[] = [];
  const merchantServer: Server = createServer((request, response) => {
    landings.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><head><title>Merchant</title></head><body><main><h1>Back at the shop</h1></main></body></html>');
  });
  await new Promise<void>((resolve) => merchantServer.listen(0, '127.0.0.1', resolve));
  const address = merchantServer.address();
  const merchant = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const client = await createClient(store.db, { name: 'E2E shop', redirectUris: [`${merchant}/return`, `${merchant}/cancelled`], now: clock.now() });

  const browser = await chromium.launch({
    executablePath: process.env.PAYRAIL_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    base,
    merchant,
    landings,
    clock,
    client,
    browser,
    app,
    store,
    async stop() {
      await browser.close();
      await new Promise((resolve) => merchantServer.close(resolve));
      await app.close();
      if (drop) await drop();
      else await store.close();
    },
  };
}

/** The merchant's side of Powens' one-time payment guide, with the SDK: token → payment → scoped token → webview URL. */
export async function merchantCreatesPayment(stack: Stack, instruction: Record<string, unknown> = {}, lang = 'en') {
  const merchant = new PayrailClient({ baseUrl: stack.base, clientId: stack.client.client_id, clientSecret: stack.client.client_secret });
  const payment = await merchant.createPayment({
    client_redirect_uri: `${stack.merchant}/return`,
    client_state: 'order-0042',
    instructions: [
      {
        label: 'Order 0042',
        amount: 50.9,
        currency: 'EUR',
        execution_date_type: 'instant',
        beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME Corp.' },
        ...instruction,
      },
    ],
  });
  const scoped = await merchant.createScopedToken(payment.id);
  const url = merchant.webviewUrl({
    paymentId: payment.id,
    code: scoped.token,
    redirectUri: `${stack.merchant}/cancelled`,
    state: 'webview-state-42',
    lang,
    domain: '127.0.0.1',
  });
  return { id: payment.id, adminToken: await merchant.token(), scopedToken: scoped.token, url, merchant };
}

export async function readPayment(stack: Stack, id: number, token: string): Promise<Record<string, any>> {
  const merchant = new PayrailClient({ baseUrl: stack.base, clientId: stack.client.client_id, clientSecret: stack.client.client_secret });
  return merchant.getPayment(id, { token });
}

/**
 * Saves a screenshot and runs axe-core: returns the serious or critical violations. A page whose
 * context has JavaScript turned off is checked by loading the same URL in a scripted page.
 */
export async function checkPage(page: Page, name: string, options: { javaScriptDisabled?: boolean } = {}): Promise<string[]> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  let target = page;
  let scripted: BrowserContext | null = null;
  if (options.javaScriptDisabled) {
    scripted = await page
      .context()
      .browser()!
      .newContext({ viewport: page.viewportSize() ?? undefined });
    target = await scripted.newPage();
    await target.goto(page.url());
  }
  try {
    return await audit(target, name);
  } finally {
    await scripted?.close();
  }
}

export async function audit(page: Page, name: string): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const doc = (globalThis as any).document;
    const result = await (globalThis as any).axe.run(doc, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  const overflow = await page.evaluate(() => {
    const root = (globalThis as any).document.documentElement;
    return root.scrollWidth > root.clientWidth + 1;
  });
  return [
    ...violations.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical').map((v: { id: string }) => `${name}: ${v.id}`),
    ...(overflow ? [`${name}: wider than the screen`] : []),
  ];
}
