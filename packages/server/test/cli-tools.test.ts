/**
 * The developer commands as a user runs them: `payrail trigger`, `payrail listen --forward-to`,
 * `payrail payments list|get|cancel` as real processes against a real `payrail serve` and database,
 * and `serve` on a busy port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.ts';
import { openStore } from '../src/store/db.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import { processDatabases } from './support/process-databases.ts';
import { BIN, exited, startServe, waitFor } from './support/processes.ts';

const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) {
    child.kill('SIGTERM');
    await exited(child);
  }
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A merchant's webhook receiver on loopback that records every request. */
async function receiver(status = 200) {
  const received: Received[] = [];
  const server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (c) => (body += c));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 90_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function cliJson(args: string[]) {
  const result = cli([...args, '--json']);
  if (result.code !== 0) throw new Error(`payrail ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe('payrail serve on a busy port', () => {
  it('exits 1 in under a second with a clear message, before touching the data folder', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    const dataDir = join(mkdtempSync(join(tmpdir(), 'payrail-busy-')), 'data');
    try {
      for (const portArgs of [['--port', String(port)], [`--port=${port}`]]) {
        const started = performance.now();
        const child = spawn(process.execPath, [BIN, 'serve', ...portArgs, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        const elapsed = performance.now() - started;
        expect(code).toBe(1);
        expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
        expect(elapsed).toBeLessThan(1000);
        // No migration, no demo client, no jobs: the data folder was never created.
        expect(existsSync(dataDir)).toBe(false);
      }
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });
});

describe.each(processDatabases())('trigger, listen and payments against a real serve [$name]', ({ create }) => {
  it('triggers outcomes, forwards every state change signed to a local URL, lists, reads and refuses to cancel a final payment', async () => {
    const db = await create();
    const hooks = await receiver();
    const forwarded = await receiver();
    let serve: ChildProcess | null = null;
    try {
      cliJson(['client', 'create', '--name', 'Shop', '--redirect-uri', 'https://merchant.example/payment/return', ...db.args]);
      const endpoint = cliJson(['webhook', 'add', '--url', `${hooks.url}/payrail/hook`, ...db.args]);
      serve = (await startServe([...db.args, '--log-level', 'warn'])).proc;

      // listen: its first line gives the signing secret; then one line per state change.
      const listen = spawn(process.execPath, [BIN, 'listen', '--forward-to', `${forwarded.url}/dev/hook`, '--json', ...db.args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(listen);
      let listenOutput = '';
      listen.stdout!.on('data', (c: Buffer) => (listenOutput += c.toString()));
      const ready = await waitFor('listen to start', () => (listenOutput.includes('\n') ? JSON.parse(listenOutput.split('\n')[0]!) : undefined), 30_000);
      expect(ready).toMatchObject({ listening: true, forward_to: `${forwarded.url}/dev/hook`, secret: expect.stringMatching(/^whsec_/) });

      const done = cliJson(['trigger', 'done', ...db.args]);
      expect(done).toMatchObject({ id: expect.any(Number), state: 'done', error_code: null, states: ['created', 'validating', 'pending', 'done'] });
      const rejected = cliJson(['trigger', 'rejected', ...db.args]);
      expect(rejected).toMatchObject({ state: 'rejected', error_code: 'noSpecifiedReason' });

      // The running server announced the final states to the merchant's endpoint, signed with its key.
      const finalHook = await waitFor('the server to deliver the done webhook', () =>
        hooks.received.find((r) => JSON.parse(r.body).id === done.id && JSON.parse(r.body).state === 'done'),
      );
      expect(
        verifyWebhookSignature(
          endpoint.secret_key,
          'POST',
          '/payrail/hook',
          String(finalHook.headers['bi-signature-date']),
          finalHook.body,
          String(finalHook.headers['bi-signature']),
        ),
      ).toBe(true);
      await waitFor('the rejected webhook', () => hooks.received.find((r) => JSON.parse(r.body).id === rejected.id && JSON.parse(r.body).state === 'rejected'));

      // listen forwarded every state change of both payments, in order, signed with its own secret.
      const expected = [
        [done.id, 'validating'],
        [done.id, 'pending'],
        [done.id, 'done'],
        [rejected.id, 'validating'],
        [rejected.id, 'pending'],
        [rejected.id, 'rejected'],
      ];
      await waitFor('six forwarded events', () => (forwarded.received.length >= 6 ? true : undefined));
      expect(forwarded.received.map((r) => [JSON.parse(r.body).id, JSON.parse(r.body).state])).toEqual(expected);
      for (const r of forwarded.received) {
        expect(r.path).toBe('/dev/hook');
        expect(
          verifyWebhookSignature(ready.secret, 'POST', '/dev/hook', String(r.headers['bi-signature-date']), r.body, String(r.headers['bi-signature'])),
        ).toBe(true);
        expect(
          verifyWebhookSignature(endpoint.secret_key, 'POST', '/dev/hook', String(r.headers['bi-signature-date']), r.body, String(r.headers['bi-signature'])),
        ).toBe(false);
      }
      const lines = listenOutput
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.payment_id, l.to_state, l.forwarded.status])).toEqual(expected.map(([id, state]) => [id, state, 200]));

      // payments list with the API's filters, get, and cancel refused on a final payment.
      const listed = cliJson(['payments', 'list', '--state', 'done', ...db.args]);
      expect(listed.total).toBe(1);
      expect(listed.payments.map((p: { id: number }) => p.id)).toEqual([done.id]);
      const all = cliJson(['payments', 'list', '--order-by', 'id', '--reverse', 'true', '--limit', '1', ...db.args]);
      expect([all.total, all.payments.map((p: { id: number }) => p.id)]).toEqual([2, [rejected.id]]);
      const text = cli(['payments', 'list', ...db.args]);
      expect(text.stdout).toMatch(new RegExp(`^${done.id}\\s+done\\s+10\\.00 EUR`, 'm'));
      expect(cliJson(['payments', 'get', String(rejected.id), ...db.args])).toMatchObject({
        id: rejected.id,
        state: 'rejected',
        error_code: 'noSpecifiedReason',
      });
      const cancel = cli(['payments', 'cancel', String(done.id), ...db.args]);
      expect([cancel.code, cancel.stderr.trim()]).toEqual([1, 'payrail: the payment is done and cannot be cancelled']);
      const badFilter = cli(['payments', 'list', '--order-by', 'nope', ...db.args]);
      expect(badFilter.code).toBe(2);
      expect(badFilter.stderr).toContain('order_by');

      listen.kill('SIGINT');
      expect(await new Promise((resolve) => (listen.exitCode !== null ? resolve(listen.exitCode) : listen.once('exit', resolve)))).toBe(0);
    } finally {
      serve?.kill('SIGTERM');
      if (serve) await exited(serve);
      await hooks.close();
      await forwarded.close();
      await db.cleanup();
    }
  }, 180_000);
});

describe.each(processDatabases())('payrail admin create and login [$name]', ({ create }) => {
  it('creates an operator whose one-time link opens a dashboard session once', async () => {
    const db = await create();
    try {
      const created = cliJson(['admin', 'create', '--email', 'Ops@Example.com', ...db.args]);
      expect(created).toEqual({ email: 'ops@example.com', password: expect.stringMatching(/^[\w-]{20,}$/) });
      const again = cli(['admin', 'create', '--email', 'ops@example.com', ...db.args]);
      expect([again.code, again.stderr.trim()]).toEqual([2, 'payrail: email: an operator ops@example.com already exists']);
      const unknown = cli(['admin', 'login', '--email', 'nobody@example.com', ...db.args]);
      expect(unknown.code).toBe(1);
      const { link, expires_in } = cliJson(['admin', 'login', '--email', 'ops@example.com', '--public-url', 'https://pay.example.com', ...db.args]);
      expect(link).toMatch(/^https:\/\/pay\.example\.com\/admin\/login\/link\?token=[\w-]{40,}$/);
      expect(expires_in).toBe(900);
      const store = await openStore(db.args[0] === '--data-dir' ? { dataDir: db.args[1]! } : { databaseUrl: db.args[1]! });
      const app = await buildApp({ store });
      try {
        const path = new URL(link).pathname + new URL(link).search;
        const first = await app.inject({ url: path });
        expect([first.statusCode, first.headers.location]).toEqual([303, '/admin/payments']);
        expect(String(first.headers['set-cookie'])).toMatch(/payrail_admin=[\w-]+; Path=\/admin; HttpOnly; SameSite=Strict/);
        expect((await app.inject({ url: path })).statusCode).toBe(401);
      } finally {
        await app.close();
        await store.close();
      }
    } finally {
      await db.cleanup();
    }
  }, 120_000);
});
