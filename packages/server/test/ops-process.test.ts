/**
 * Operations in real `payrail serve` processes: a database that refuses or never answers fails the
 * start within seconds; SIGTERM drains an in-flight request then exits 0 (1 past the deadline);
 * the demo client only when asked, once even when two processes start together; and no secret
 * the flow used appears in the logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BIN, exited, waitFor } from './support/processes.ts';
import { guideBody, VALID_IBAN } from './support/helpers.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && !child.signalCode) {
      child.kill('SIGKILL');
      await exited(child);
    }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'payrail-ops-'));
  dirs.push(dir);
  return dir;
}

/** Starts `payrail serve --port 0 …`, capturing everything it writes. */
function start(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(proc);
  const out = { text: '' };
  proc.stdout!.on('data', (c: Buffer) => (out.text += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out.text += c.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const base = () =>
    waitFor(
      'the server to listen',
      () => (proc.exitCode !== null ? Promise.reject(new Error(`exited: ${out.text}`)) : /listening on (http:\/\/\S+)/.exec(out.text)?.[1]),
      60_000,
    );
  return { proc, out, exit, base };
}

describe('a database that is not there', () => {
  it('fails the start at once when PostgreSQL refuses the connection', async () => {
    const started = Date.now();
    const { exit, out } = start(['--database-url', 'postgres://payrail:secret-pw@127.0.0.1:1/x']);
    expect(await exit).toBe(1);
    expect(out.text).toMatch(/payrail: cannot reach the database: .*ECONNREFUSED/);
    expect(out.text).not.toContain('secret-pw');
    expect(Date.now() - started).toBeLessThan(30_000); // process start included, on a loaded machine
  });

  it('fails the start after --database-connect-timeout-seconds when PostgreSQL never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket)); // accepts, says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const { exit, out } = start(['--database-url', `postgres://payrail@127.0.0.1:${port}/x`, '--database-connect-timeout-seconds', '2']);
      const code = await exit;
      expect(code).toBe(1);
      expect(out.text).toMatch(/payrail: cannot reach the database: .*timeout/i);
      expect(out.text).toContain('--database-connect-timeout-seconds');
      expect(sockets.length).toBeGreaterThan(0); // it did try, and gave up by itself
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

/** Sends the head and half the body of a payment creation, and returns the socket and the rest to send. */
async function halfRequest(base: string, token: string) {
  const url = new URL(base);
  const body = JSON.stringify(guideBody());
  const socket = connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString()));
  socket.write(
    `POST /2.0/payments HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 40)}`,
  );
  return { socket, rest: body.slice(40), answer: () => answer };
}

async function serviceToken(base: string, client: { client_id: string; client_secret: string }) {
  const r = await fetch(`${base}/2.0/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', ...client, scope: 'payments:admin' }),
  });
  return ((await r.json()) as { token: string }).token;
}

function demoCredentials(text: string) {
  return JSON.parse(text.split('\n').find((line) => line.startsWith('{"client_id"'))!) as { client_id: string; client_secret: string };
}

describe('Node.js settings of `serve` (bin/payrail.js, docs/operations.md)', () => {
  // What the running server was started with, read from /proc (the PID is the one spawned: execve keeps it).
  const startedWith = (pid: number) => ({
    argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
    env: Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    ) as Record<string, string>,
  });
  const baseEnv = () => {
    const env = { ...process.env };
    for (const name of ['NODE_OPTIONS', 'MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'PAYRAIL_NODE_TUNING']) delete env[name];
    return env;
  };
  const settings = async (env: NodeJS.ProcessEnv) => {
    const server = start(['--data-dir', tempDir(), '--log-level', 'warn'], env);
    const base = await server.base();
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const seen = startedWith(server.proc.pid!);
    server.proc.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    return seen;
  };

  it.runIf(process.platform === 'linux')('caps the heap and malloc arenas in the same process; what the operator set wins; off turns it off', async () => {
    const tuned = await settings(baseEnv());
    expect(tuned.argv).toContain('--max-semi-space-size=8');
    expect(tuned.env).toMatchObject({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768', PAYRAIL_NODE_TUNING: 'applied' });

    const own = await settings({ ...baseEnv(), NODE_OPTIONS: '--max-semi-space-size=32', MALLOC_ARENA_MAX: '4' });
    expect(own.argv).not.toContain('--max-semi-space-size=8');
    expect(own.env).toMatchObject({ MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '32768' });

    const off = await settings({ ...baseEnv(), PAYRAIL_NODE_TUNING: 'off' });
    expect(off.argv.filter((a) => a.startsWith('--max-semi'))).toEqual([]);
    expect(off.env.MALLOC_ARENA_MAX).toBeUndefined();
  });
});

describe('SIGTERM', () => {
  it('lets an in-flight request finish, then exits 0', async () => {
    const server = start(['--data-dir', tempDir(), '--log-level', 'warn', '--shutdown-timeout-seconds', '20']);
    const base = await server.base();
    const token = await serviceToken(base, demoCredentials(server.out.text));
    const slow = await halfRequest(base, token);
    await new Promise((r) => setTimeout(r, 300));
    server.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(server.proc.exitCode).toBeNull(); // still draining
    slow.socket.write(slow.rest);
    expect(await server.exit).toBe(0);
    expect(slow.answer()).toMatch(/^HTTP\/1\.1 200 /);
    expect(slow.answer()).toContain('"state":"created"');
    slow.socket.destroy();
  });

  it('exits 1 once the deadline passes with a request still in flight', async () => {
    const server = start(['--data-dir', tempDir(), '--log-level', 'warn', '--shutdown-timeout-seconds', '2']);
    const base = await server.base();
    const token = await serviceToken(base, demoCredentials(server.out.text));
    const stuck = await halfRequest(base, token); // never completed
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    server.proc.kill('SIGTERM');
    expect(await server.exit).toBe(1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(1_900);
    expect(Date.now() - sent).toBeLessThan(15_000);
    expect(server.out.text).toContain('shutdown deadline passed');
    stuck.socket.destroy();
  });
});

describe('logs', () => {
  it('carry request ids and none of the secrets, tokens, IBANs or identities of a flow', async () => {
    const dataDir = tempDir();
    const server = start(['--data-dir', dataDir, '--log-level', 'debug']);
    const base = await server.base();
    const banner = server.out.text;
    const client = demoCredentials(banner);
    const token = await serviceToken(base, client);
    const body = guideBody();
    const created = await fetch(`${base}/2.0/payments?show_sensitive=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': 'logs-1' },
      body: JSON.stringify(body),
    });
    expect(created.status).toBe(200);
    const id = ((await created.json()) as { id: number }).id;
    const scoped = (
      (await (
        await fetch(`${base}/2.0/payments/${id}/scopedtoken`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: '{"scope":["payments:validate"]}',
        })
      ).json()) as { token: string }
    ).token;
    const hook = (await (
      await fetch(`${base}/2.0/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
      })
    ).json()) as { secret_key: string };
    await fetch(`${base}/2.0/payments/${id}?show_sensitive=true&iban=${VALID_IBAN}`, { headers: { authorization: `Bearer ${scoped}` } });
    await fetch(`${base}/2.0/payments`, { headers: { authorization: 'Bearer not-a-real-token-but-still-secret' } });
    await fetch(`${base}/2.0/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: 'wrong-secret-guess-123', scope: 'payments:admin' }),
    });
    server.proc.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    const logs = server.out.text.slice(banner.indexOf('listening on'));
    expect(logs).toMatch(/"reqId":"?\d+/);
    // One access line per request, with its status and time.
    expect(logs).toMatch(/"reqId":"\d+","method":"GET","path":"\/2\.0\/payments\/\d+","statusCode":200,"responseTime":[\d.]+,"msg":"request completed"/);
    const secrets = [
      client.client_secret,
      token,
      scoped,
      hook.secret_key,
      'not-a-real-token-but-still-secret',
      'wrong-secret-guess-123',
      VALID_IBAN,
      'Germaine',
      'Michu',
      '732829320',
    ];
    for (const secret of secrets) expect(logs, `a log line carries ${secret.slice(0, 6)}…`).not.toContain(secret);
    // The demo client's secret was printed once, at the first start only.
    expect(server.out.text.split(client.client_secret).length - 1).toBe(2); // the banner line and its JSON line
    const again = start(['--data-dir', dataDir, '--log-level', 'info']);
    await again.base();
    again.proc.kill('SIGTERM');
    await again.exit;
    expect(again.out.text).not.toContain(client.client_secret);
    expect(again.out.text).not.toContain('demo client');
  });
});

const pgUrl = inject('pgUrl');
describe.runIf(pgUrl)('the demo client on PostgreSQL', () => {
  it('is not created by a plain start, and only once by two processes started together with --demo', async () => {
    const name = `payrail_ops_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl! });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(pgUrl!);
    url.pathname = `/${name}`;
    try {
      const plain = start(['--database-url', url.toString(), '--log-level', 'warn']);
      await plain.base();
      expect(plain.out.text).toContain('No client yet');
      plain.proc.kill('SIGTERM');
      expect(await plain.exit).toBe(0);
      const count = async () => {
        const c = new pg.Client({ connectionString: url.toString() });
        await c.connect();
        const n = Number((await c.query('select count(*) as n from clients')).rows[0].n);
        await c.end();
        return n;
      };
      expect(await count()).toBe(0);

      const both = [
        start(['--database-url', url.toString(), '--log-level', 'warn', '--demo']),
        start(['--database-url', url.toString(), '--log-level', 'warn', '--demo']),
      ];
      await Promise.all(both.map((s) => s.base()));
      expect(both.filter((s) => s.out.text.includes('client_secret')).length).toBe(1);
      expect(await count()).toBe(1);
      for (const s of both) s.proc.kill('SIGTERM');
      expect(await Promise.all(both.map((s) => s.exit))).toEqual([0, 0]);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
