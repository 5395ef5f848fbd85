/**
 * The payer's journey to a Berlin Group bank in a real browser (Debian Chromium): the webview asks
 * for the payer's IBAN (1.3.12 needs debtorAccount), the simulator's SCA page (Approve), the return
 * through Payrail to the merchant, then status sync to done.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../../src/connectors/berlin-group/simulator/index.ts';
import { CONNECTOR_MODULES } from '../../src/connectors/modules.ts';
import { syncDuePayments } from '../../src/jobs/sync-payments.ts';
import { addBank } from '../../src/services/banks.ts';
import { keyringFromKeys } from '../../src/services/secret-box.ts';
import { merchantCreatesPayment, readPayment, startStack, type Stack } from './harness.ts';
import type { FastifyRequest } from 'fastify';

const PAYER = 'DE02100100109307118603';
let stack: Stack;
let sim: BerlinGroupSimulator;

beforeAll(async () => {
  stack = await startStack();
  sim = await startBerlinGroupSimulator({ clock: stack.clock, settleAfterMs: 4_000 });
  await addBank(
    { db: stack.store.db, clock: stack.clock, keyring: keyringFromKeys([randomBytes(32)]), modules: CONNECTOR_MODULES },
    {
      name: 'Simulated Sparkasse',
      standard: 'berlin-group',
      base_url: sim.url,
      country: 'DE',
      sca_approach: 'redirect',
      profile: { poll_max_ms: 10_000 },
    },
  );
  stack.app.payrail.connectors.invalidate();
});
afterAll(async () => {
  await stack?.stop();
  await sim?.close();
});

it("webview → IBAN asked → the bank's SCA page → Approve → back at the merchant → done by status sync", async () => {
  const { id, adminToken, url } = await merchantCreatesPayment(stack);
  const context = await stack.browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
  await page.getByRole('button', { name: 'Simulated Sparkasse' }).click();
  await page.getByLabel('Your IBAN (the account you pay from)').fill(PAYER);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.waitForURL(`${sim.url}/sca/**`);
  expect(await page.textContent('body')).toContain('50.90');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(`${stack.merchant}/return?**`);
  const back = Object.fromEntries(new URL(page.url()).searchParams);
  expect(back).toMatchObject({ state: 'webview-state-42', id_payment: String(id) });
  expect(['pending', 'done']).toContain(back.payment_state);

  const atBank = [...sim.payments.values()].at(-1)!;
  expect(atBank).toMatchObject({ product: 'instant-sepa-credit-transfers', body: expect.objectContaining({ debtorAccount: { iban: PAYER } }) });
  const actions = stack.app.payrail.actions({ protocol: 'http', host: new URL(stack.base).host } as FastifyRequest);
  for (let round = 0; round < 5 && (await readPayment(stack, id, adminToken)).state !== 'done'; round++) {
    stack.clock.advance(10_001);
    await syncDuePayments({ db: stack.store.db, dialect: stack.store.dialect, clock: stack.clock, actions });
  }
  expect(await readPayment(stack, id, adminToken)).toMatchObject({ state: 'done', error_code: null });
  await context.close();
});
