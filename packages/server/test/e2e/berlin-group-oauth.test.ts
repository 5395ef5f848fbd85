/**
 * Issue 22, items 1 and 2 end to end with real processes on SQLite and PostgreSQL: a bank that wants
 * an OAuth2 token before every call (the pre-step) and has the payer authorise at its OAuth2
 * authorization server (`scaOAuth`). `payrail bank simulate --oauth-client-id … --oauth-pre-step
 * --sca-oauth` ← Prism (`proxy --errors`, the official 1.3.12 file) ← `payrail serve`; the payer in
 * Chromium. The simulator's authorization server (metadata, token endpoint, authorize page) is not
 * in the NextGenPSD2 file: Payrail reaches it directly (profile `oauth.hosts`), so Prism judges every
 * `/v1` exchange, each carrying its bearer token, and cannot judge the OAuth ones (RFC 6749/8414,
 * checked by the simulator itself: client authentication, PKCE, redirect_uri, single-use code).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { databaseText, processDatabases, type ProcessDatabase } from '../support/process-databases.ts';
import { exchangesOf, merchantPayment, pickBank, startBgStack, waitForState, type BgStack } from './bg-stack.ts';

const CLIENT_ID = 'PSDDE-BAFIN-000042';
const SECRET = 'e2e-oauth-client-secret-7d1f';

describe.each(processDatabases())('Berlin Group OAuth2 pre-step and scaOAuth end to end [$name]', ({ create }) => {
  let db: ProcessDatabase;
  let stack: BgStack;
  let context: BrowserContext;
  let dir: string;

  beforeAll(async () => {
    db = await create();
    dir = mkdtempSync(join(tmpdir(), 'payrail-bg-oauth-'));
    const secretFile = join(dir, 'secret.txt');
    writeFileSync(secretFile, `${SECRET}\n`);
    stack = await startBgStack(db, {
      settleSeconds: 1,
      // Every log line Payrail writes is read for tokens, codes and the secret.
      serveArgs: ['--log-level', 'debug'],
      simArgs: ['--oauth-client-id', CLIENT_ID, '--oauth-client-secret-file', secretFile, '--oauth-pre-step', '--sca-oauth'],
      bankArgs: (simUrl) => [
        '--oauth-client-secret-file',
        secretFile,
        '--profile',
        JSON.stringify({
          timeout_ms: 8000,
          poll_initial_ms: 500,
          poll_max_ms: 2000,
          poll_payer_ms: 1000,
          oauth: { client_id: CLIENT_ID, client_auth: 'client_secret_basic', token_url: `${simUrl}/oauth/token`, scope: 'PIS', hosts: [new URL(simUrl).host] },
        }),
      ],
    });
    context = await stack.browser.newContext({ viewport: { width: 390, height: 800 } });
  }, 300_000);
  afterAll(async () => {
    await context?.close();
    await stack?.stop();
    await db?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const exchanges = (id: number) => exchangesOf(stack, id);

  async function received() {
    return (await stack.control('GET', '/received')) as {
      byOperation: Record<string, number>;
      byBearer: Record<string, Record<string, number>>;
      duplicates: { requestIds: string[]; bodyHashes: string[] };
    };
  }

  /** The payer picks the bank and lands on the bank's authorization page. */
  async function toAuthorizationServer(page: Page, url: string) {
    await pickBank(page, url);
    await page.waitForURL(`${stack.sim.url}/oauth/authorize?**`);
    const at = new URL(page.url());
    expect(at.searchParams.get('code_challenge_method')).toBe('S256');
    expect(at.searchParams.get('scope')).toMatch(/^PIS:/);
    await page.getByText('ACME Corp.').waitFor();
  }

  it('approve at the authorization server → done; every call carried a token; no token nor the secret is in the logs, the exchange log or the database', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    const page = await context.newPage();
    await toAuthorizationServer(page, url);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    await waitForState(stack, id, ['done']);

    const log = exchanges(id);
    const operations = log.exchanges.map((e) => e.operation);
    // Status sync may read the payment while the payer is at the bank's pages: its reads can fall anywhere after the initiation.
    expect(operations.filter((o) => o !== 'status' && o !== 'sca-status').slice(0, 4)).toEqual(['client-token', 'initiate', 'oauth-metadata', 'token']);
    expect(operations).toContain('status');
    const byBearer = (await received()).byBearer;
    expect(byBearer.initiatePayment?.client).toBeGreaterThanOrEqual(1);
    expect(byBearer.getPaymentInitiationStatus?.payer).toBeGreaterThanOrEqual(1);
    expect(byBearer.initiatePayment?.none ?? 0).toBe(0);
    const text = JSON.stringify(log) + stack.serveOutput();
    expect(text).not.toContain(SECRET);
    expect(text).toMatch(/access_token\\*":\\*"\[redacted\]/);
    expect(text).not.toMatch(/access_token\\*":\\*"(?!\[redacted\])/);
    expect(text).not.toMatch(/[?&]code=[\w-]{20,}/);
    // The tokens themselves (the client's and the payer's, as the bank issued them) and the secret: in no log
    // line, exchange or row (the payer's token is sealed on the attempt, the secret on the bank).
    const tokens: string[] = await stack.control('GET', '/oauth/tokens');
    expect((await stack.control('GET', '/oauth')).issued.authorization_code).toBeGreaterThanOrEqual(1);
    const database = await databaseText(db);
    expect(database).toContain(CLIENT_ID);
    for (const [channel, content] of Object.entries({ logs: stack.serveOutput(), 'exchange log': JSON.stringify(log), database })) {
      expect(content, channel).not.toContain(SECRET);
      for (const token of tokens) expect(content, channel).not.toContain(token);
    }
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });

  it('refuse at the authorization server → rejected CancelledByUser', async () => {
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    const page = await context.newPage();
    await toAuthorizationServer(page, url);
    await page.getByRole('button', { name: 'Refuse' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    const rejected = await waitForState(stack, id, ['rejected']);
    expect(rejected.error_code).toBe('CancelledByUser');
    expect(new URL(page.url()).searchParams.get('payment_state')).toBe('rejected');
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });

  it('the bank answers 401 to an initiation (its tokens revoked): the initiation is never sent again, the next payment gets a fresh token', async () => {
    const mark = stack.prism.mark();
    const before = (await received()).byOperation.initiatePayment ?? 0;
    await stack.control('POST', '/oauth/revoke');
    const { id } = await merchantPayment(stack);
    const merchant = stack.sdk();
    await merchant.updatePayment(id, { connector_uuid: stack.bank.uuid, webview_url: `${stack.merchant}/own` } as never).catch(() => undefined);
    const refused = await waitForState(stack, id, ['rejected']);
    expect(refused.error_code).toBe('bug');
    // Status sync and the payer's page run meanwhile: nothing sends the initiation again.
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await received();
    expect(after.byOperation.initiatePayment).toBe(before + 1);
    expect(after.duplicates).toEqual({ requestIds: [], bodyHashes: [] });
    expect(exchanges(id).exchanges.map((e) => `${e.operation} ${e.status}`)).toEqual(['initiate 401']);

    // The refused token was forgotten: the next payment is initiated with a fresh one.
    const next = await merchantPayment(stack);
    const page = await context.newPage();
    await toAuthorizationServer(page, next.url);
    expect(
      exchanges(next.id)
        .exchanges.map((e) => `${e.operation} ${e.status}`)
        .slice(0, 2),
    ).toEqual(['client-token 200', 'initiate 201']);
    await page.close();
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });
});
