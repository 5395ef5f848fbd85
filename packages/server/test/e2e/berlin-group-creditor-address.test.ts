/**
 * Issue 22, the `creditorAddress` mode end to end with real processes on SQLite and PostgreSQL: a
 * bank that refuses a SEPA transfer without the creditor's address (`payrail bank simulate
 * --require-creditor-address`) ← Prism (`proxy --errors`, the official 1.3.12 file, which describes
 * `creditorAddress` and checks its shape) ← `payrail serve`; the payer in Chromium. Two banks point at
 * it: one with the default profile (the address is sent only when the merchant gave one, as the
 * beneficiary's `postal_address`, a Payrail extension) and one with `creditor_address: true` (at
 * least the country of the beneficiary's IBAN is always sent). The second also lists `psu_headers`:
 * the payer's browser context (its own User-Agent, Accept-Language, the form's method and port)
 * reaches the bank as `PSU-*` headers, which the file defines and Prism checks; the first sends none.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { processDatabases } from '../support/process-databases.ts';
import { BANK_NAME, merchantPayment, stackForTests, waitForState } from './bg-stack.ts';

const PROFILE = { timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000, poll_payer_ms: 1000 };
const ALWAYS_BANK = 'Address Bank';
const ADDRESS = { country: 'FR', street_name: 'Rue de la Paix', building_number: '2', post_code: '75002', town_name: 'Paris' };

describe.each(processDatabases())('Berlin Group creditorAddress and PSU headers end to end [$name]', ({ create }) => {
  const e2e = stackForTests(
    create,
    { settleSeconds: 1, simArgs: ['--require-creditor-address'], bankArgs: ['--profile', JSON.stringify(PROFILE)] },
    // The same bank again, with the profile that always sends the creditor's country.
    (stack) =>
      void stack.addBank(ALWAYS_BANK, {
        ...PROFILE,
        creditor_address: true,
        psu_headers: ['PSU-User-Agent', 'PSU-Accept-Language', 'PSU-Http-Method', 'PSU-IP-Port'],
      }),
  );
  const { prismStart, prismSilent, exchanges } = e2e;

  /** The PSU context headers the bank received with the payment's initiation. */
  async function psuContext(id: number): Promise<Record<string, string>> {
    const requestIds = exchanges(id)
      .exchanges.filter((e) => e.operation === 'initiate')
      .map((e) => e.request_id);
    const received = (await e2e.stack.control('GET', '/received')) as { psuContext: { requestId: string; headers: Record<string, string> }[] };
    const mine = received.psuContext.filter((c) => requestIds.includes(c.requestId));
    expect(mine).toHaveLength(1);
    return mine[0]!.headers;
  }

  /** The initiation body as the bank stored it (found by the X-Request-ID of the payment's initiation). */
  async function bankBody(id: number): Promise<Record<string, any>> {
    const requestIds = exchanges(id)
      .exchanges.filter((e) => e.operation === 'initiate')
      .map((e) => e.request_id);
    const received = (await e2e.stack.control('GET', '/received')) as { initiations: { requestId: string; paymentId: string | null }[] };
    const mine = received.initiations.filter((i) => requestIds.includes(i.requestId) && i.paymentId);
    expect(mine).toHaveLength(1);
    const stored = (await e2e.stack.control('GET', `/payments/${mine[0]!.paymentId}`)) as { body: Record<string, any> };
    return stored.body;
  }

  async function payAtBank(page: Page, url: string, bankName: string, decision: 'Approve' | 'Refuse') {
    await e2e.toBank(page, url, bankName);
    await page.waitForURL(`${e2e.stack.sim.url}/sca/**`);
    await page.getByText('ACME Corp.').waitFor();
    await page.getByRole('button', { name: decision }).click();
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
  }

  it("the merchant's postal_address reaches the bank as creditorAddress; approved → done, Prism silent", async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack, {
      beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME Corp.', postal_address: ADDRESS },
    });
    const page = await e2e.context.newPage();
    await payAtBank(page, url, BANK_NAME, 'Approve');
    await waitForState(e2e.stack, id, ['done']);
    expect((await bankBody(id)).creditorAddress).toEqual({
      streetName: 'Rue de la Paix',
      buildingNumber: '2',
      townName: 'Paris',
      postCode: '75002',
      country: 'FR',
    });
    // The default profile sends no payer context beyond the (mandatory) address.
    expect(Object.keys(await psuContext(id))).toEqual(['psu-ip-address']);
    await page.close();
    prismSilent();
  });

  it("no address and the default profile: the bank refuses the initiation, the payer is back at the merchant with the bank's reason, the payment ends rejected invalidBeneficiary", async () => {
    prismStart();
    const { id, url } = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
    await page.getByRole('button', { name: BANK_NAME }).click();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    // The payer never reaches the bank's page: back at the merchant with the outcome and the bank's own text.
    await page.waitForURL(`${e2e.stack.merchant}/return?**`);
    const back = new URL(page.url()).searchParams;
    expect(back.get('payment_state')).toBe('rejected');
    expect(back.get('error_code')).toBe('invalidBeneficiary');
    expect(back.get('bank_message')).toMatch(/creditorAddress/);
    const rejected = await waitForState(e2e.stack, id, ['rejected']);
    expect(rejected.error_code).toBe('invalidBeneficiary');
    expect(rejected.error_description).toMatch(/creditorAddress/);
    expect(exchanges(id).exchanges.map((e) => `${e.operation} ${e.status}`)).toEqual(['initiate 400']);
    await page.close();
    // The bank's 400 is in the standard's error shape (tppMessages with the path).
    prismSilent();
  });

  it("no address and creditor_address: true: the country of the IBAN is sent, with the payer's browser context (psu_headers); refused by the payer → rejected CancelledByUser", async () => {
    prismStart();
    const paid = await merchantPayment(e2e.stack);
    const page = await e2e.context.newPage();
    await payAtBank(page, paid.url, ALWAYS_BANK, 'Approve');
    await waitForState(e2e.stack, paid.id, ['done']);
    expect((await bankBody(paid.id)).creditorAddress).toEqual({ country: 'FR' });
    // psu_headers: the payer's own browser request, as Payrail's webview received the form.
    const sent = await psuContext(paid.id);
    expect(sent['psu-user-agent']).toBe(await page.evaluate(() => navigator.userAgent));
    expect(sent['psu-accept-language']).toMatch(/^en/);
    expect(sent['psu-http-method']).toBe('POST');
    expect(sent['psu-ip-port']).toMatch(/^\d{2,5}$/);
    expect(sent['psu-ip-address']).toBe('127.0.0.1');

    const refused = await merchantPayment(e2e.stack);
    await payAtBank(page, refused.url, ALWAYS_BANK, 'Refuse');
    const rejected = await waitForState(e2e.stack, refused.id, ['rejected']);
    expect(['CancelledByUser', 'authenticationFailed']).toContain(rejected.error_code);
    expect(new URL(page.url()).searchParams.get('payment_state')).toBe('rejected');
    await page.close();
    prismSilent();
  });
});
