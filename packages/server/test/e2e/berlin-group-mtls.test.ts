/**
 * Issue 22, item 1 end to end with real processes on SQLite and PostgreSQL: a bank whose token
 * endpoint authenticates Payrail by its mTLS certificate (`tls_client_auth`, RFC 8705 §2.1).
 * `payrail bank simulate --tls-cert … --tls-client-ca … --oauth-client-auth tls_client_auth
 * --oauth-pre-step` listens on HTTPS and asks every client for a certificate; Payrail is added with
 * `--client-cert`/`--client-key` (its QWAC) and `--ca` (the bank's server CA). Prism (`proxy
 * --errors`, the official 1.3.12 file) stands between Payrail and `/v1` and reaches the simulator
 * over HTTPS without a certificate (it has none to give: `--mtls-api`, which would refuse it, is
 * tested without Prism in test/berlin-group-oauth.test.ts); Payrail reaches the token endpoint
 * directly, with its certificate, and Prism cannot judge that exchange (RFC 6749/8705, checked by
 * the simulator: the certificate's chain and subject, `client_id`, no secret). The payer is in
 * Chromium. Logs, the exchange log and every table of the database are read for the tokens and the
 * private key.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { makePki, type TestPki } from '../support/certs.ts';
import { databaseText, processDatabases, type ProcessDatabase } from '../support/process-databases.ts';
import { exchangesOf, merchantPayment, pickBank, startBgStack, waitForState, type BgStack } from './bg-stack.ts';

const CLIENT_ID = 'PSDDE-BAFIN-000077';

describe.each(processDatabases())('Berlin Group tls_client_auth (mTLS) end to end [$name]', ({ create }) => {
  let db: ProcessDatabase;
  let pki: TestPki;
  let stack: BgStack;
  let context: BrowserContext;
  /** The simulator's control endpoint, over HTTPS with its CA (and Payrail's certificate: it asks every client for one). */
  let control: (method: string, path: string) => Promise<any>;
  let closeControl: () => Promise<void>;

  beforeAll(async () => {
    db = await create();
    pki = makePki();
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert } });
    closeControl = () => dispatcher.close();
    stack = await startBgStack(db, {
      settleSeconds: 1,
      // Every log line Payrail writes is read for tokens.
      serveArgs: ['--log-level', 'debug'],
      simArgs: [
        '--tls-cert',
        `${pki.dir}/server.crt`,
        '--tls-key',
        `${pki.dir}/server.key`,
        '--tls-client-ca',
        pki.ca.certPath,
        '--oauth-client-id',
        CLIENT_ID,
        '--oauth-client-auth',
        'tls_client_auth',
        '--oauth-client-cert',
        pki.client.certPath,
        '--oauth-pre-step',
      ],
      // Prism trusts the simulator's server CA; Payrail is given it with --ca (nothing else trusts it).
      prismEnv: { NODE_EXTRA_CA_CERTS: pki.ca.certPath },
      bankArgs: (simUrl) => [
        '--client-cert',
        pki.client.certPath,
        '--client-key',
        pki.client.keyPath,
        '--ca',
        pki.ca.certPath,
        '--profile',
        JSON.stringify({
          timeout_ms: 8000,
          poll_initial_ms: 500,
          poll_max_ms: 2000,
          poll_payer_ms: 1000,
          oauth: { client_id: CLIENT_ID, client_auth: 'tls_client_auth', token_url: `${simUrl}/oauth/token`, scope: 'PIS' },
        }),
      ],
    });
    control = async (method, path) => {
      const answer = await request(`${stack.sim.url}/_simulator${path}`, { method, dispatcher });
      return answer.body.json();
    };
    // The simulator's pages are on HTTPS with the test CA.
    context = await stack.browser.newContext({ viewport: { width: 390, height: 800 }, ignoreHTTPSErrors: true });
  }, 300_000);
  afterAll(async () => {
    await context?.close();
    await stack?.stop();
    await closeControl?.();
    await db?.cleanup();
    pki?.cleanup();
  });

  /** `payrail bank add` of another bank behind the same Prism and token endpoint, tls_client_auth, with `more` arguments. */
  function addBank(name: string, more: string[]) {
    return stack.addBank(name, { oauth: { client_id: CLIENT_ID, client_auth: 'tls_client_auth', token_url: `${stack.sim.url}/oauth/token` } }, more);
  }

  const exchanges = (id: number) => exchangesOf(stack, id);

  it('paid with tls_client_auth: the token endpoint took Payrail by its certificate; no token or key in the logs, the exchange log or the database', async () => {
    expect(stack.sim.url).toMatch(/^https:/);
    const mark = stack.prism.mark();
    const { id, url } = await merchantPayment(stack);
    const page = await context.newPage();
    await pickBank(page, url);
    await page.waitForURL(`${stack.sim.url}/sca/**`);
    await page.getByText('ACME Corp.').waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${stack.merchant}/return?**`);
    await waitForState(stack, id, ['done']);
    await page.close();

    const log = exchanges(id);
    expect(log.exchanges.slice(0, 2).map((e) => `${e.operation} ${e.status}`)).toEqual(['client-token 200', 'initiate 201']);
    // client_id in the body, nothing secret: the certificate is the credential.
    expect(log.exchanges[0]!.request_body).toEqual({ grant_type: 'client_credentials', scope: 'PIS', client_id: CLIENT_ID });
    const oauth = await control('GET', '/oauth');
    expect(oauth).toMatchObject({ clientAuth: 'tls_client_auth', issued: { client_credentials: 1 } });
    const received = await control('GET', '/received');
    expect(received.byBearer.initiatePayment).toEqual({ client: 1 });
    expect(received.duplicates).toEqual({ requestIds: [], bodyHashes: [] });

    const tokens: string[] = await control('GET', '/oauth/tokens');
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    const keyBody = readFileSync(pki.client.keyPath, 'utf8').split('\n')[1]!; // a line of the private key's base64
    const channels = { logs: stack.serveOutput(), 'exchange log': JSON.stringify(log), database: await databaseText(db) };
    for (const [channel, text] of Object.entries(channels)) {
      for (const token of tokens) expect(text, channel).not.toContain(token);
      expect(text, channel).not.toContain(keyBody);
    }
    expect(channels.database).toContain(CLIENT_ID); // the rows were read (the bank's profile)
    expect(channels.logs).toContain('/2.0/');
    expect(channels['exchange log']).toMatch(/access_token\\*":\\*"\[redacted\]/);
    expect(stack.prism.problems(mark), stack.prism.log().slice(mark)).toEqual([]);
  });

  it("another client's certificate is refused at the token endpoint: rejected with the bank's reason, no initiation reaches the bank; a bank without a certificate cannot be added", async () => {
    // Same CA, another subject: the bank knows this certificate, but not as this client's.
    const wrong = addBank('Wrong Certificate Bank', ['--client-cert', pki.signing.certPath, '--client-key', pki.signing.keyPath, '--ca', pki.ca.certPath]);
    const before = await control('GET', '/received');
    const { id, merchant } = await merchantPayment(stack);
    await merchant.updatePayment(id, { connector_uuid: wrong.uuid, webview_url: `${stack.merchant}/own` } as never).catch(() => undefined);
    const rejected = await waitForState(stack, id, ['rejected']);
    expect(rejected.error_code).toBe('bug');
    expect(exchanges(id).exchanges.map((e) => `${e.operation} ${e.status}`)).toEqual(['client-token 401']);
    const after = await control('GET', '/received');
    expect(after.byOperation.initiatePayment ?? 0).toBe(before.byOperation.initiatePayment ?? 0);
    const shown = JSON.stringify(exchanges(id));
    expect(shown).toContain('the client certificate is not the one registered for this client');

    // tls_client_auth without --client-cert: refused when the bank is added, naming what is missing.
    expect(() => addBank('No Certificate Bank', [])).toThrow(/tls_client_auth needs the mTLS certificate: give --client-cert and --client-key/);
  });
});
