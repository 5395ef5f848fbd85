/**
 * The admin dashboard in Chromium: an operator signs in, finds a payment paid through the test bank,
 * opens its timeline (state changes, webhook deliveries), replays a delivery and sees the new attempt.
 * Every page passes axe-core (no serious or critical violation) at 375 px and 1280 px; screenshots
 * go to test-artifacts/admin/.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDueWebhooks } from '../../src/webhooks/delivery.ts';
import { ensureDomain } from '../../src/services/clients.ts';
import { setConfig } from '../../src/services/config.ts';
import { createOperator } from '../../src/services/operators.ts';
import { triggerPrincipal, triggerScenario } from '../../src/services/trigger-scenario.ts';
import { createEndpoint } from '../../src/webhooks/endpoints.ts';
import { audit, startStack, type Stack } from './harness.ts';

const ARTIFACTS = new URL('../../../../test-artifacts/admin/', import.meta.url).pathname;
let stack: Stack;
let receiver: Server;
let paymentId = 0;
let clientState = '';
let operator = { email: '', password: '' };
const violations: string[] = [];
const checked: string[] = [];

async function check(page: Page, name: string): Promise<void> {
  const width = page.viewportSize()!.width;
  await page.screenshot({ path: `${ARTIFACTS}${name}-${width}.png`, fullPage: true });
  checked.push(`${name}-${width}`);
  violations.push(...(await audit(page, `${name}-${width}`)));
}

/** What the job runner does: passes until nothing is due (one announcement per payment and endpoint at a time). */
async function deliver(): Promise<number> {
  let total = 0;
  for (let sent = 1; sent > 0; total += sent)
    sent = await deliverDueWebhooks({
      db: stack.store.db,
      dialect: stack.store.dialect,
      clock: stack.clock,
      keyring: stack.app.payrail.keyring,
      allowPrivateWebhooks: true,
    });
  return total;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startStack();
  receiver = createServer((request, response) => request.resume().on('end', () => response.writeHead(200).end()));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const db = stack.store.db;
  const domain = await ensureDomain(db, 'default', stack.clock.now());
  await createEndpoint(
    db,
    stack.clock,
    domain,
    { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/payrail` },
    { keyring: stack.app.payrail.keyring, allowPrivate: true },
  );
  await setConfig(db, domain, { 'payment.state_updated_webhook.systematic': '1' });
  // Paid through the test bank: validated with the test connector, approved at its bank page.
  const principal = await triggerPrincipal(db, stack.clock, domain, stack.client.client_id);
  const env = {
    db,
    clock: stack.clock,
    secret: stack.app.payrail.secret,
    baseUrl: stack.base,
    testStepMs: 60,
    connectors: stack.app.payrail.connectors,
    notifier: stack.app.payrail.notifier,
  };
  const paid = await triggerScenario(env, principal, { scenario: 'redirect', amount: '50.90', currency: 'EUR', timeoutMs: 10_000 });
  paymentId = paid.id;
  clientState = (await db.selectFrom('payments').select('client_state').where('id', '=', paymentId).executeTakeFirstOrThrow()).client_state!;
  await triggerScenario(env, principal, { scenario: 'refused', amount: '12.00', currency: 'EUR', timeoutMs: 10_000 });
  await deliver();
  operator = await createOperator(db, stack.clock, 'ops@example.com');
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await stack?.stop();
});

describe('admin dashboard in a browser', () => {
  it('signs in, finds the payment, reads its timeline, replays a delivery and sees the new attempt', async () => {
    const context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.base}/admin/payments`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await check(page, 'login');
    await page.getByLabel('Email').fill(operator.email);
    await page.getByLabel('Password').fill(operator.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/payments$/);
    await check(page, 'payments');

    await page.getByLabel('Client state').fill(clientState);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/client_state=/);
    expect(await page.getByRole('status').textContent(), page.url()).toBe('1 of 1 payments');
    await page.getByRole('link', { name: String(paymentId), exact: true }).click();
    await page.waitForURL(new RegExp(`/admin/payments/${paymentId}$`));
    const changes = await page.locator('ol.timeline li').allTextContents();
    const transitions = changes.map((c) => /(\w+) → (\w+)/.exec(c)?.slice(1).join(' → ')).filter(Boolean);
    expect(transitions).toEqual(['created → validating', 'validating → done']);
    const deliveries = page.getByRole('region', { name: 'Webhook deliveries' }).locator('tbody tr');
    await expect.poll(() => deliveries.count()).toBe(2);
    expect(await deliveries.locator('li.attempt').allTextContents()).toEqual([
      expect.stringMatching(/^200 · \d+ ms · /),
      expect.stringMatching(/^200 · \d+ ms · /),
    ]);
    await check(page, 'timeline');

    await deliveries
      .last()
      .getByRole('button', { name: /Replay/ })
      .click();
    await page.waitForURL(/replayed=\d+/);
    const replayed = Number(new URL(page.url()).searchParams.get('replayed'));
    await expect.poll(() => page.getByRole('status').textContent()).toBe(`Delivery queued again as #${replayed}.`);
    expect(await deliveries.count()).toBe(3);
    expect(await deliveries.last().textContent()).toContain('pending');
    expect(await deliver()).toBe(1);
    await page.reload();
    const newest = deliveries.last();
    expect(await newest.locator('td').first().textContent()).toBe(`#${replayed}`);
    expect(await newest.locator('li.attempt').allTextContents()).toEqual([expect.stringMatching(/^200 · \d+ ms · /)]);
    expect(await newest.textContent()).toContain('delivered');
    await check(page, 'timeline-replayed');

    for (const section of ['webhooks', 'banks', 'clients', 'config']) {
      await page
        .getByRole('navigation')
        .getByRole('link', { name: section === 'config' ? 'Configuration' : section[0]!.toUpperCase() + section.slice(1) })
        .click();
      await page.waitForURL(new RegExp(`/admin/${section}$`));
      await check(page, section);
      // The webhook latency picture.
      if (section === 'webhooks')
        expect(await page.locator('svg[role="img"]').getAttribute('aria-label')).toMatch(/^Webhook latency per day .*average webhook latency \d+ ms$/);
    }

    // French, then a phone screen, page by page.
    await page.getByRole('link', { name: 'Français' }).click();
    await page.waitForURL(/\/admin\/config$/);
    expect(await page.locator('h1').textContent()).toBe('Configuration');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await page.setViewportSize({ width: 375, height: 800 });
    for (const path of ['payments', `payments/${paymentId}`, 'webhooks', 'banks', 'clients', 'config']) {
      await page.goto(`${stack.base}/admin/${path}`);
      await check(page, path.startsWith('payments/') ? 'timeline' : path);
    }
    await context.close();
    const anonymous = await stack.browser.newContext({ viewport: { width: 375, height: 800 } });
    const login = await anonymous.newPage();
    await login.goto(`${stack.base}/admin/login`);
    await check(login, 'login');
    await anonymous.close();
  }, 180_000);

  it('every page passed axe-core with no serious or critical violation and fits the screen', () => {
    expect(checked).toHaveLength(15);
    expect(violations).toEqual([]);
  });
});
