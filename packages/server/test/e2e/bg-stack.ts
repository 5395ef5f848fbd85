/**
 * A stack of real processes for end-to-end tests of a bank standard (Berlin Group, or STET with
 * `standard: 'stet'`): `payrail bank simulate`, Prism (`proxy --errors`, the standard's official
 * file) between Payrail and the simulator, `payrail bank add` pointing at Prism (for STET: the
 * line the simulator printed, its base URL replaced by Prism's), a webhook receiver and a merchant
 * page on loopback, `payrail serve`, Chromium.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { PayrailClient } from '../../../client/src/index.ts';
import { verifyWebhookSignature } from '../../src/webhooks/signature.ts';
import { API_ROOT } from '../../src/connectors/obie/versions.ts';
import { OBIE_SPECS, startPrismProxy, STET_SPEC, type Prism } from '../support/prism.ts';
import type { ProcessDatabase } from '../support/process-databases.ts';
import { BIN, exited, startServe, waitFor } from '../support/processes.ts';

export const DEBTOR_IBAN = 'DE02100100109307118603';
export const CREDITOR_IBAN = 'FR7630006000011234567890189';
export const BANK_NAME = 'Sandbox Bank';

export interface Webhook {
  state: string;
  body: Record<string, any>;
  verified: boolean;
}

export interface BgStack {
  sim: { url: string; proc: ChildProcess; output(): string };
  prism: Prism;
  bank: { uuid: string; id: number; name: string };
  base: string;
  serve: ChildProcess;
  /** What `payrail serve` printed on stdout (its logs). */
  serveOutput(): string;
  merchant: string;
  landings: URL[];
  webhooks: Webhook[];
  client: { client_id: string; client_secret: string };
  browser: Browser;
  cli(args: string[]): string;
  /** The simulator's control endpoint. */
  control(method: string, path: string, body?: unknown): Promise<any>;
  /** Another Berlin Group bank behind the same Prism, with its own profile and `more` arguments (`bank add … --json`). */
  addBank(name: string, profile: Record<string, unknown>, more?: string[]): { uuid: string; id: number; name: string };
  sdk(): PayrailClient;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startSimulatorProcess(args: string[] = [], standard: 'berlin-group' | 'stet' | 'obie' = 'berlin-group'): Promise<BgStack['sim']> {
  const proc = spawn(process.execPath, [BIN, 'bank', 'simulate', '--standard', standard, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = await waitFor(
    'the simulator to listen',
    () => {
      if (proc.exitCode !== null) throw new Error(`payrail bank simulate exited: ${output}`);
      return /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    },
    30_000,
  );
  return { url, proc, output: () => output };
}

/** The words of a printed `payrail bank add …` line (single-quoted words kept whole), without `payrail`. */
export function commandWords(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!)).slice(1);
}

/** The payer approves (or refuses) on the simulator's page `validateUri` shows; returns where the bank sends them back (to Payrail), if anywhere. */
export async function decideAtSimulator(validateUri: string, decision: 'approve' | 'refuse' = 'approve'): Promise<string | null> {
  const page = await fetch(validateUri).then((r) => r.text());
  const formToken = /name="token" value="([^"]+)"/.exec(page)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  if (!formToken || !action) return null;
  const decided = await fetch(new URL(action.replaceAll('&amp;', '&'), validateUri), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: formToken, decision }).toString(),
  });
  return decided.headers.get('location');
}

export async function startBgStack(
  db: ProcessDatabase,
  options: {
    settleSeconds?: number;
    /** `bank add` arguments; a function gets the simulator's own URL (e.g. for its token endpoint, outside Prism). */
    bankArgs?: string[] | ((simUrl: string) => string[]);
    serveArgs?: string[];
    /** More `bank simulate` options. */
    simArgs?: string[];
    /** The standard (default Berlin Group); for STET and UK Open Banking the bank is added with the line the simulator printed. */
    standard?: 'berlin-group' | 'stet' | 'obie';
    /** UK Open Banking: the version the model bank speaks and Prism checks. */
    apiVersion?: '4.0' | '3.1.11';
    /** Berlin Group: the file Prism checks against, when not the vendored one (e.g. with the VoP statuses). */
    spec?: string;
    /** More of Prism's environment (an HTTPS simulator: `NODE_EXTRA_CA_CERTS` with its CA). */
    prismEnv?: Record<string, string>;
  } = {},
): Promise<BgStack> {
  const standard = options.standard ?? 'berlin-group';
  const cli = (args: string[]) => {
    const result = spawnSync(process.execPath, [BIN, ...args, ...db.args], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`payrail ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return result.stdout;
  };
  const landings: URL[] = [];
  const merchantServer = createServer((request, response) => {
    landings.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><head><title>Merchant</title></head><body><main><h1>Back at the shop</h1></main></body></html>');
  });
  const merchant = await listen(merchantServer);
  const webhooks: Webhook[] = [];
  let secret = '';
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (c) => (body += c));
    request.on('end', () => {
      const verified = verifyWebhookSignature(
        secret,
        'POST',
        request.url ?? '',
        String(request.headers['bi-signature-date']),
        body,
        String(request.headers['bi-signature']),
      );
      const parsed = JSON.parse(body);
      webhooks.push({ state: parsed.state, body: parsed, verified });
      response.writeHead(204).end();
    });
  });
  const hooks = await listen(receiver);

  const version = options.apiVersion ?? '4.0';
  const sim = await startSimulatorProcess(
    ['--settle-seconds', String(options.settleSeconds ?? 2), ...(standard === 'obie' ? ['--api-version', version] : []), ...(options.simArgs ?? [])],
    standard,
  );
  // UK Open Banking: Prism serves the file's paths without the /open-banking/…/pisp prefix, so the prefix goes on its upstream.
  const prism =
    standard === 'obie'
      ? await startPrismProxy(`${sim.url}${API_ROOT[version]}`, OBIE_SPECS[version])
      : await startPrismProxy(sim.url, standard === 'stet' ? STET_SPEC : options.spec, options.prismEnv);
  let add = ['bank', 'add', '--standard', 'berlin-group', '--name', BANK_NAME, '--base-url', prism.url, '--country', 'DE'];
  if (standard === 'stet' || standard === 'obie') {
    const printed = await waitFor('the bank add line', () => /^payrail bank add .*$/m.exec(sim.output())?.[0], 10_000);
    add = commandWords(printed);
    add[add.indexOf('--base-url') + 1] = prism.url;
    add[add.indexOf('--name') + 1] = BANK_NAME;
  }
  const extra = typeof options.bankArgs === 'function' ? options.bankArgs(sim.url) : (options.bankArgs ?? []);
  const bank = JSON.parse(cli([...add, ...extra, '--json']));
  const client = JSON.parse(
    cli(['client', 'create', '--name', 'BG shop', '--redirect-uri', `${merchant}/return`, '--redirect-uri', `${merchant}/cancelled`, '--json']),
  );
  secret = JSON.parse(cli(['webhook', 'add', '--url', `${hooks}/payrail/hook`, '--event', 'PAYMENT_STATE_UPDATED', '--json'])).secret_key;
  const { proc: serve, base, output: serveOutput } = await startServe([...db.args, '--log-level', 'warn', ...(options.serveArgs ?? [])]);
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
    sim,
    prism,
    bank,
    base,
    serve,
    serveOutput,
    merchant,
    landings,
    webhooks,
    client,
    browser,
    cli,
    async control(method, path, body) {
      const response = await fetch(`${sim.url}/_simulator${path}`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return response.status === 204 ? null : response.json();
    },
    addBank: (name, profile, more = []) =>
      JSON.parse(
        cli([
          'bank',
          'add',
          '--standard',
          'berlin-group',
          '--name',
          name,
          '--base-url',
          prism.url,
          '--country',
          'DE',
          '--profile',
          JSON.stringify(profile),
          ...more,
          '--json',
        ]),
      ),
    sdk: () => new PayrailClient({ baseUrl: base, clientId: client.client_id, clientSecret: client.client_secret }),
    async stop() {
      await browser.close();
      for (const proc of [serve, sim.proc]) {
        proc.kill('SIGTERM');
        await exited(proc);
      }
      await prism.stop();
      await new Promise((resolve) => merchantServer.close(resolve));
      await new Promise((resolve) => receiver.close(resolve));
    },
  };
}

/** The payer opens the webview, picks the bank and goes on to it. */
export async function pickBank(page: Page, url: string, bankName = BANK_NAME): Promise<void> {
  await page.goto(url);
  await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
  await page.getByRole('button', { name: bankName }).click();
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
}

/** What `payrail bank exchanges --payment ID` shows of a payment: its attempts, its bank calls and their exchange log. */
export interface PaymentExchanges {
  attempts: Record<string, any>[];
  exchanges: Record<string, any>[];
  payment_attempts: Record<string, any>[];
}

export function exchangesOf(stack: BgStack, id: number): PaymentExchanges {
  return JSON.parse(stack.cli(['bank', 'exchanges', '--payment', String(id), '--json']));
}

/**
 * What the end-to-end files of every standard set up alike, in a `describe` per database: the
 * stack started before its tests with a phone-sized browser context, stopped after them; Prism's
 * log marked at a test's start (`prismStart`) and silent at its end (`prismSilent`); the
 * simulator's received calls; the payer's way to the bank in the webview. `stack` and `context`
 * are set once the stack runs.
 */
export function stackForTests(
  create: () => Promise<ProcessDatabase>,
  options: Parameters<typeof startBgStack>[1],
  /** More set-up once the stack runs (e.g. more banks behind the same Prism). */
  then?: (stack: BgStack) => void | Promise<void>,
) {
  let db: ProcessDatabase | undefined;
  let mark = 0;
  const env = {
    stack: undefined as unknown as BgStack,
    context: undefined as unknown as BrowserContext,
    prismStart() {
      mark = env.stack.prism.mark();
    },
    prismSilent() {
      expect(env.stack.prism.problems(mark), env.stack.prism.log().slice(mark)).toEqual([]);
    },
    async received() {
      return (await env.stack.control('GET', '/received')) as {
        byOperation: Record<string, number>;
        initiations: { requestId: string; paymentId: string | null }[];
        duplicates: { requestIds: string[]; bodyHashes: string[] };
      };
    },
    exchanges: (id: number) => exchangesOf(env.stack, id),
    toBank: pickBank,
  };
  beforeAll(async () => {
    db = await create();
    env.stack = await startBgStack(db, options);
    await then?.(env.stack);
    env.context = await env.stack.browser.newContext({ viewport: { width: 390, height: 800 } });
  }, 300_000);
  afterAll(async () => {
    await env.context?.close();
    await env.stack?.stop();
    await db?.cleanup();
  });
  return env;
}

/**
 * The merchant creates a payment and a webview URL; the payer known (Berlin Group needs the
 * debtor's IBAN) unless `payer` is false.
 */
export async function merchantPayment(stack: BgStack, instruction: Record<string, unknown> = {}, options: { payer?: boolean } = {}) {
  const merchant = stack.sdk();
  const payment = await merchant.createPayment({
    client_redirect_uri: `${stack.merchant}/return`,
    client_state: 'order-0042',
    ...(options.payer === false ? {} : { payer: { scheme_name: 'iban', identification: DEBTOR_IBAN, label: 'Germaine Michu' } }),
    instructions: [
      {
        label: 'Order 0042',
        amount: 50.9,
        currency: 'EUR',
        execution_date_type: 'instant',
        beneficiary: { scheme_name: 'iban', identification: CREDITOR_IBAN, label: 'ACME Corp.' },
        ...instruction,
      },
    ],
  } as Parameters<PayrailClient['createPayment']>[0]);
  const scoped = await merchant.createScopedToken(payment.id);
  const url = merchant.webviewUrl({
    paymentId: payment.id,
    code: scoped.token,
    redirectUri: `${stack.merchant}/cancelled`,
    state: 'webview-state-42',
    lang: 'en',
    domain: '127.0.0.1',
  });
  return { id: payment.id, url, merchant };
}

export async function waitForState(stack: BgStack, id: number, states: string[], timeoutMs = 60_000): Promise<Record<string, any>> {
  const merchant = stack.sdk();
  return waitFor(
    `payment ${id} to be ${states.join(' or ')}`,
    async () => {
      const payment = (await merchant.getPayment(id)) as Record<string, any>;
      return states.includes(payment.state) ? payment : undefined;
    },
    timeoutMs,
  );
}
