/**
 * Issue 22, embedded SCA end to end with real processes on SQLite and PostgreSQL: `payrail bank
 * simulate --embedded` ← Prism (`proxy --errors`) ← `payrail serve`; the payer in Chromium types
 * their online-banking id and password, picks one of the SCA methods the bank returned and types
 * the one-time code, all in Payrail's pages. A second bank (its own simulator and Prism) takes the
 * password only encrypted with its key (`--embedded-password-key`, profile `embedded_password_key`).
 *
 * What Prism checks here: every exchange, against a copy of the official 1.3.12 file with its two
 * `oneOf` defects narrowed (test/support/prism.ts, bgEmbeddedSpec): the body of
 * `POST …/authorisations` and `PUT …/authorisations/{id}` is a `oneOf` whose first branch is the empty
 * schema `{}`, so `{"psuData":{"password":…}}`, `{"authenticationMethodId":…}` and
 * `{"scaAuthenticationData":…}` each match two branches and the official file refuses them all
 * (Prism 5.16: 422 "Request body must match exactly one schema in oneOf"; asserted below); the
 * `PUT` answer is a `oneOf` of five bodies three of which require only `scaStatus`, so every answer
 * fails the same way. With those two narrowed, each body is checked against its own schema
 * (updatePsuAuthentication, selectPsuAuthenticationMethod, transactionAuthorisation) and each answer
 * against the file's. Prism cannot check the encrypted password's content (a string to the file):
 * the simulator decrypts it and compares.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgEmbeddedSpec, BG_SPEC, type Prism, startPrismProxy } from '../support/prism.ts';
import { databaseText, processDatabases, type ProcessDatabase } from '../support/process-databases.ts';
import { exited } from '../support/processes.ts';
import { leakedCode } from '../support/helpers.ts';
import { BANK_NAME, exchangesOf, merchantPayment, startBgStack, startSimulatorProcess, waitForState, type BgStack } from './bg-stack.ts';

/** The simulator's payer (bank-simulate --embedded): password and the code each method "sends". */
const PASSWORD = 'bank-password-42';
const PUSH = { name: 'Code in the bank app', code: '654321' };
const SMS = { name: 'SMS to +49 151 •••• 42', code: '123456' };
const WRONG_PASSWORD = 'not-my-password-77';
const WRONG_CODES = ['271828', '314159'];
const ENCRYPTED_BANK = 'Sparkasse Verschlüsselt';
const PROFILE = { embedded: true, timeout_ms: 8000, poll_initial_ms: 500, poll_max_ms: 2000 };

/**
 * The bank's words, or status sync's own text: the bank rejects the payment (RJCT, scaStatus failed)
 * as it answers the payer's step, and a status read that lands in between records the same
 * `authenticationFailed` first, without the words (measured once on PostgreSQL under load). The
 * words themselves are asserted where nothing races: test/berlin-group-connector.test.ts.
 */
const bankWordsOr = (words: string) => new RegExp(`${words}|^The payer's authentication at the bank failed\\.$`);

describe.each(processDatabases())('Berlin Group embedded SCA end to end [$name]', ({ create }) => {
  let db: ProcessDatabase;
  let stack: BgStack;
  let context: BrowserContext;
  let dir: string;
  /** The bank that wants the password encrypted: its own simulator and Prism. */
  let sealed: { sim: Awaited<ReturnType<typeof startSimulatorProcess>>; prism: Prism };
  /** Every page the payer saw, for the secrets check. */
  const pages: string[] = [];
  const ids: number[] = [];

  beforeAll(async () => {
    db = await create();
    dir = mkdtempSync(join(tmpdir(), 'payrail-bg-embedded-'));
    const spec = bgEmbeddedSpec(dir);
    stack = await startBgStack(db, {
      settleSeconds: 1,
      // Every log line Payrail writes is read for the password and the codes.
      serveArgs: ['--log-level', 'debug'],
      simArgs: ['--embedded', '--embedded-max-tries', '2'],
      spec,
      bankArgs: ['--profile', JSON.stringify(PROFILE)],
    });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'bank-password-key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const sim = await startSimulatorProcess(['--settle-seconds', '1', '--embedded', '--embedded-password-key', keyFile]);
    sealed = { sim, prism: await startPrismProxy(sim.url, spec) };
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    stack.cli([
      'bank',
      'add',
      '--standard',
      'berlin-group',
      '--name',
      ENCRYPTED_BANK,
      '--base-url',
      sealed.prism.url,
      '--country',
      'DE',
      '--profile',
      JSON.stringify({ ...PROFILE, embedded_password_key: pem }),
      '--json',
    ]);
    context = await stack.browser.newContext({ viewport: { width: 390, height: 800 } });
  }, 300_000);
  afterAll(async () => {
    await context?.close();
    await stack?.stop();
    if (sealed) {
      sealed.sim.proc.kill('SIGTERM');
      await exited(sealed.sim.proc);
      await sealed.prism.stop();
    }
    await db?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const exchanges = (id: number) => exchangesOf(stack, id);

  function prismSilent(prism: Prism, mark: number) {
    expect(prism.problems(mark), prism.log().slice(mark)).toEqual([]);
  }

  /** The payer picks the bank and types their id and password in Payrail's page. */
  async function logIn(page: Page, url: string, password: string, bank = BANK_NAME) {
    await page.goto(url);
    await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
    // A bank added while serve runs is offered within 2 s.
    await expect.poll(() => page.reload().then(() => page.getByRole('button', { name: bank }).count()), { timeout: 10_000 }).toBe(1);
    await page.getByRole('button', { name: bank }).click();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByLabel(/online banking user ID/).fill('germaine.michu');
    await page.getByLabel(/online banking password/).fill(password);
    pages.push(await page.content());
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
  }

  /** Picks a method among those the bank returned, and lands on the code page. */
  async function chooseMethod(page: Page, method: { name: string }) {
    const methods = page.getByLabel(/How do you want to confirm/);
    await methods.waitFor();
    expect(await methods.locator('option').allTextContents()).toEqual([SMS.name, PUSH.name]);
    await methods.selectOption({ label: method.name });
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByLabel(/One-time code/).waitFor();
    await page.getByText(`Enter the code sent by: ${method.name}`).waitFor();
  }

  async function typeCode(page: Page, code: string) {
    await page.getByLabel(/One-time code/).fill(code);
    pages.push(await page.content());
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
  }

  async function back(page: Page): Promise<URL> {
    await page.waitForURL(`${stack.merchant}/return?**`);
    pages.push(await page.content());
    return new URL(page.url());
  }

  /** The simulator's record of the payment it received last. */
  async function latestAtSimulator(sim: { url: string }) {
    const all = (await fetch(`${sim.url}/_simulator/payments`).then((r) => r.json())) as { approach: string; authorisations: { scaStatus: string }[] }[];
    return all.at(-1)!;
  }

  it('the official file refuses every embedded body (the oneOf with {}), which is why Prism runs on the narrowed copy', async () => {
    const official = await startPrismProxy(stack.sim.url, BG_SPEC);
    try {
      const path = '/v1/payments/sepa-credit-transfers/any-id/authorisations';
      const answer = await fetch(`${official.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Request-ID': crypto.randomUUID(), 'PSU-IP-Address': '192.0.2.1', 'PSU-ID': 'germaine.michu' },
        body: JSON.stringify({ psuData: { password: 'anything' } }),
      });
      expect(answer.status).toBe(422);
      expect(JSON.stringify(await answer.json())).toContain('must match exactly one schema in oneOf');
    } finally {
      await official.stop();
    }
  });

  it('id and password, a method among those the bank returned, the one-time code → done, signed webhooks, TPP-Redirect-Preferred false, Prism silent', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    ids.push(id);
    const page = await context.newPage();
    await logIn(page, url, PASSWORD);
    await chooseMethod(page, PUSH);
    await typeCode(page, PUSH.code);
    expect((await back(page)).searchParams.get('payment_state')).not.toBe('rejected');
    const done = await waitForState(stack, id, ['done']);

    // The simulator takes the embedded approach only when asked with TPP-Redirect-Preferred: false.
    expect(done.state).toBe('done');
    const bank = await latestAtSimulator(stack.sim);
    expect(bank.approach).toBe('EMBEDDED');
    expect(bank.authorisations.map((a) => a.scaStatus)).toEqual(['finalised']);
    const log = exchanges(id).exchanges;
    // Status sync may read the payment between the payer's steps: the steps themselves, in order, once each.
    const steps = log.filter((e) => !['status', 'sca-status'].includes(e.operation));
    expect(steps.map((e) => `${e.operation} ${e.status}`)).toEqual(['initiate 201', 'authorise 201', 'select-method 200', 'authorise-transaction 200']);
    expect(log.find((e) => e.operation === 'select-method')?.path).toMatch(/\?step=method$/);
    // The webhook of the last change is delivered by its own job, soon after the state is read.
    const hooks = () => stack.webhooks.filter((w) => w.body.id === id);
    await expect.poll(() => hooks().map((w) => w.state), { timeout: 20_000 }).toContain('done');
    expect(hooks().every((w) => w.verified)).toBe(true);
    await page.close();
    prismSilent(stack.prism, mark);
  });

  it('a wrong password → rejected authenticationFailed, the bank’s words back at the merchant', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    ids.push(id);
    const page = await context.newPage();
    await logIn(page, url, WRONG_PASSWORD);
    const landed = await back(page);
    expect(landed.searchParams.get('payment_state')).toBe('rejected');
    expect(landed.searchParams.get('error_code')).toBe('authenticationFailed');
    expect(landed.searchParams.get('bank_message')).toMatch(bankWordsOr('The online banking id or password is wrong.'));
    const rejected = await waitForState(stack, id, ['rejected']);
    expect(rejected.error_code).toBe('authenticationFailed');
    expect(exchanges(id).exchanges.map((e) => `${e.operation} ${e.status}`)).toContain('authorise 401');
    await page.close();
    prismSilent(stack.prism, mark);
  });

  it('a wrong code is asked again with the bank’s words; the right one then → done', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    ids.push(id);
    const page = await context.newPage();
    await logIn(page, url, PASSWORD);
    await chooseMethod(page, SMS);
    await typeCode(page, WRONG_CODES[0]!);
    await page.getByText('The one-time code is wrong. 1 try left.').waitFor();
    await typeCode(page, SMS.code);
    await back(page);
    await waitForState(stack, id, ['done']);
    await page.close();
    prismSilent(stack.prism, mark);
  });

  it('too many wrong codes → rejected authenticationFailed, the bank’s words back at the merchant', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    ids.push(id);
    const page = await context.newPage();
    await logIn(page, url, PASSWORD);
    await chooseMethod(page, SMS);
    await typeCode(page, WRONG_CODES[0]!);
    await page.getByText('The one-time code is wrong. 1 try left.').waitFor();
    await typeCode(page, WRONG_CODES[1]!);
    const landed = await back(page);
    expect(landed.searchParams.get('error_code')).toBe('authenticationFailed');
    expect(landed.searchParams.get('bank_message')).toMatch(bankWordsOr('Too many wrong codes'));
    const rejected = await waitForState(stack, id, ['rejected']);
    expect(rejected.error_code).toBe('authenticationFailed');
    expect((await latestAtSimulator(stack.sim)).authorisations.map((a) => a.scaStatus)).toEqual(['failed']);
    await page.close();
    prismSilent(stack.prism, mark);
  });

  it('a bank that takes the password only encrypted with its key: sent as a JWE, decrypted and checked by the bank → done; a wrong one → authenticationFailed', async () => {
    const mark = sealed.prism.mark();
    const { id, url } = await merchantPayment(stack);
    ids.push(id);
    const page = await context.newPage();
    await logIn(page, url, PASSWORD, ENCRYPTED_BANK);
    await chooseMethod(page, PUSH);
    await typeCode(page, PUSH.code);
    await back(page);
    await waitForState(stack, id, ['done']);
    const authorise = exchanges(id).exchanges.find((e) => e.operation === 'authorise')!;
    expect(authorise.status).toBe(201);
    expect(JSON.stringify(authorise.request_body)).toContain('encryptedPassword');
    await page.close();

    const wrong = await merchantPayment(stack);
    ids.push(wrong.id);
    const again = await context.newPage();
    await logIn(again, wrong.url, WRONG_PASSWORD, ENCRYPTED_BANK);
    expect((await back(again)).searchParams.get('error_code')).toBe('authenticationFailed');
    await again.close();
    prismSilent(sealed.prism, mark);
  });

  it('the password, the codes and the encrypted password are in no log line, exchange, table, page or error body', async () => {
    expect(ids.length).toBeGreaterThanOrEqual(5);
    const merchant = stack.sdk();
    const texts: Record<string, string> = {
      logs: stack.serveOutput(),
      exchanges: JSON.stringify(ids.map((id) => exchanges(id))),
      payments: JSON.stringify(await Promise.all(ids.map((id) => merchant.getPayment(id)))),
      landings: stack.landings.map((u) => u.toString()).join('\n'),
      pages: pages.join('\n'),
      database: await databaseText(db),
    };
    // The JWE's protected header, as jose writes it first: a leaked encrypted password would start so.
    const jwe = Buffer.from('{"alg":"RSA-OAEP-256"').toString('base64url').slice(0, 24);
    for (const [where, text] of Object.entries(texts)) {
      expect(text.length, where).toBeGreaterThan(0);
      expect(text, where).not.toContain(PASSWORD);
      expect(text, where).not.toContain(WRONG_PASSWORD);
      expect(text, where).not.toContain(jwe);
      for (const c of [PUSH.code, SMS.code, ...WRONG_CODES]) expect(text, `${where}: ${c}`).not.toMatch(leakedCode(c));
    }
    expect(texts.exchanges).toContain('"[redacted]"');
  });
});
