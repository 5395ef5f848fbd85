/**
 * Issue 22, the pain.001 mode end to end with real processes on SQLite and PostgreSQL: a bank that
 * takes payments only as pain.001 XML and answers status as pain.002 (`payrail bank simulate
 * --pain001`) ← Prism (`proxy --errors`, the official 1.3.12 file) ← `payrail serve` with the
 * bank's profile `pain001`, the payer in Chromium through the hosted webview: approved → done,
 * refused → rejected `CancelledByUser`, refused by the bank for want of funds (pain.002 reason
 * AM04) → rejected `insufficientFunds`.
 *
 * What Prism checks: every call but the initiation — the status reads on the `pain.001-…` paths
 * (asked as XML, answered as pain.002) and their headers, status codes and content types. What it
 * cannot check: the initiation, which goes past it to the simulator (startPain001Front in
 * test/support/prism.ts: the file's `application/xml` request body is a `oneOf` of four identical
 * `type: string` schemas, so Prism refuses every pain.001 body with 422); and the XML content of
 * any body, request or answer, since the file types pain.001 and pain.002 as bare strings and
 * names no XSD. The simulator parses and checks each pain.001 (namespace, counts, control sums,
 * IBANs, amounts, dates) and this test reads the message it kept.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processDatabases, type ProcessDatabase } from '../support/process-databases.ts';
import { startPain001Front, type Pain001Front } from '../support/prism.ts';
import { CREDITOR_IBAN, DEBTOR_IBAN, exchangesOf, merchantPayment, pickBank, startBgStack, waitForState, type BgStack } from './bg-stack.ts';

const POLL = { timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000 };
const XML_BANK = 'Cooperative Bank';

describe.each(processDatabases())('Berlin Group pain.001 XML end to end [$name]', ({ create }) => {
  let db: ProcessDatabase;
  let stack: BgStack;
  let front: Pain001Front;
  let context: BrowserContext;

  beforeAll(async () => {
    db = await create();
    stack = await startBgStack(db, { settleSeconds: 1, simArgs: ['--pain001'] });
    front = await startPain001Front(stack.sim.url, stack.prism.url);
    stack.cli([
      'bank',
      'add',
      '--standard',
      'berlin-group',
      '--name',
      XML_BANK,
      '--base-url',
      front.url,
      '--country',
      'DE',
      '--profile',
      JSON.stringify({ ...POLL, pain001: true }),
      '--json',
    ]);
    context = await stack.browser.newContext({ viewport: { width: 390, height: 800 } });
  }, 300_000);
  afterAll(async () => {
    await context?.close();
    await front?.close();
    await stack?.stop();
    await db?.cleanup();
  });

  const exchanges = (id: number) => exchangesOf(stack, id).exchanges;

  async function toBank(page: Page, url: string) {
    await pickBank(page, url, XML_BANK);
    await page.waitForURL(`${stack.sim.url}/sca/**`);
  }

  /** The simulator's record of the payment whose SCA page the payer is on, with the pain.001 it received parsed here. */
  async function atBank(page: Page) {
    const authorisationId = new URL(page.url()).pathname.split('/').pop();
    const payments = (await stack.control('GET', '/payments')) as { paymentId: string; xml: string; authorisations: { authorisationId: string }[] }[];
    const record = payments.find((p) => p.authorisations.some((a) => a.authorisationId === authorisationId))!;
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(record.xml);
    return { record: record as Record<string, any>, document: xml.Document };
  }

  it('approved at the bank: pain.001 sent, pain.002 read until ACSC → done; Prism silent on every call it saw', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack, { amount: '1234.56' });
    const page = await context.newPage();
    await toBank(page, url);
    const { record, document } = await atBank(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    await waitForState(stack, id, ['done']);
    expect([record.service, record.product]).toEqual(['payments', 'pain.001-instant-sepa-credit-transfers']);
    const info = document.CstmrCdtTrfInitn.PmtInf;
    expect(document.CstmrCdtTrfInitn.GrpHdr).toMatchObject({ NbOfTxs: '1', CtrlSum: '1234.56' });
    expect(info).toMatchObject({ PmtTpInf: { SvcLvl: { Cd: 'SEPA' }, LclInstrm: { Cd: 'INST' } }, DbtrAcct: { Id: { IBAN: DEBTOR_IBAN } } });
    expect(info.CdtTrfTxInf).toMatchObject({
      Amt: { InstdAmt: { '#text': '1234.56', '@Ccy': 'EUR' } },
      Cdtr: { Nm: 'ACME Corp.' },
      CdtrAcct: { Id: { IBAN: CREDITOR_IBAN } },
      RmtInf: { Ustrd: 'Order 0042' },
    });
    const calls = exchanges(id);
    expect(calls[0]).toMatchObject({ operation: 'initiate', status: 201 });
    expect(calls.filter((c) => c.operation === 'status').at(-1)?.response_body).toContain('<GrpSts>ACSC</GrpSts>');
    expect(front.direct).toContain('POST /v1/payments/pain.001-instant-sepa-credit-transfers');
    expect(front.judged.some((c) => c.endsWith('/status'))).toBe(true);
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });

  it('refused at the bank → rejected CancelledByUser; refused by the bank for want of funds (pain.002 AM04) → rejected insufficientFunds', async () => {
    const mark = stack.prism.mark();
    const refused = await merchantPayment(stack, { execution_date_type: 'first_open_day' });
    const page = await context.newPage();
    await toBank(page, refused.url);
    await page.getByRole('button', { name: 'Refuse' }).click();
    await page.waitForURL(`${stack.merchant}/**`);
    expect(await waitForState(stack, refused.id, ['rejected'])).toMatchObject({ error_code: 'CancelledByUser' });

    const broke = await merchantPayment(stack, { execution_date_type: 'first_open_day' });
    await toBank(page, broke.url);
    const { record } = await atBank(page);
    await stack.control('POST', `/payments/${record.paymentId}/status`, { transactionStatus: 'RJCT', fundsAvailable: false });
    const rejected = await waitForState(stack, broke.id, ['rejected']);
    expect(rejected).toMatchObject({ error_code: 'insufficientFunds' });
    const statusReads = exchanges(broke.id).filter((c) => c.operation === 'status');
    expect(statusReads.at(-1)?.response_body).toMatch(/<GrpSts>RJCT<\/GrpSts>[\s\S]*<Cd>AM04<\/Cd>/);
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });
});
