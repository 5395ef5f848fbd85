/**
 * A payer buys in the example shop, pays at the test bank, returns, and the orders page shows the
 * payment's final state once the webhook has arrived. Real processes and Debian's Chromium.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, exited, startServe } from '../../../packages/server/test/support/processes.ts';
import { createShop } from '../shop.ts';

const ARTIFACTS = new URL('../../../test-artifacts/merchant/', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'payrail-shop-'));
let payrail: ChildProcess;
let browser: Browser;
let shop: ReturnType<typeof createShop>;
let shopUrl = '';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  shopUrl = `http://127.0.0.1:${port}`;
  const cli = (args: string[]) => {
    const result = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
    return JSON.parse(result.stdout);
  };
  const client = cli(['client', 'create', '--name', 'Example shop', '--redirect-uri', `${shopUrl}/return`]);
  const hook = cli(['webhook', 'add', '--url', `${shopUrl}/webhooks/payrail`]);
  const started = await startServe(['--log-level', 'error', '--data-dir', dataDir]);
  payrail = started.proc;
  const payrailUrl = started.base;
  shop = createShop({ payrailUrl, publicUrl: shopUrl, clientId: client.client_id, clientSecret: client.client_secret, webhookSecret: hook.secret_key });
  await new Promise<void>((resolve) => shop.server.listen(port, '127.0.0.1', resolve));
  browser = await chromium.launch({
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
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (shop ? shop.server.close(resolve) : resolve(null)));
  payrail?.kill('SIGTERM');
  if (payrail) await exited(payrail);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('example shop', () => {
  it('a payer buys, pays at the test bank, returns, and the orders page shows the final state after the webhook', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
    await page.goto(shopUrl);
    await page.screenshot({ path: `${ARTIFACTS}1-shop.png` });
    await page.getByRole('button', { name: 'Buy and pay by bank' }).click();
    await page.getByRole('button', { name: 'Connecteur de test' }).click();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByRole('button', { name: 'Approve the transfer' }).click();
    await page.waitForURL(`${shopUrl}/return?**`);
    expect(await page.locator('#state').textContent()).toBe('done');
    await page.screenshot({ path: `${ARTIFACTS}2-return.png` });
    const order = [...shop.orders.values()][0]!;
    const until = Date.now() + 20_000;
    while (order.webhooks < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await page.goto(`${shopUrl}/orders`);
    await page.screenshot({ path: `${ARTIFACTS}3-orders.png` });
    expect(await page.locator('td.state').first().textContent()).toBe('done');
    expect(Number(await page.locator('td.webhooks').first().textContent())).toBeGreaterThanOrEqual(2); // validating, done
  });

  it('refuses a webhook that is not signed by Payrail', async () => {
    const response = await fetch(`${shopUrl}/webhooks/payrail`, {
      method: 'POST',
      headers: { 'bi-signature': 'forged', 'bi-signature-date': new Date().toISOString() },
      body: '{"id":1,"state":"done"}',
    });
    expect(response.status).toBe(400);
  });
});
