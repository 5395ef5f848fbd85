/**
 * Issue 24 (9): a restore that has been tried. A real `payrail serve` creates payments under load
 * while it is backed up (`payrail backup` on the embedded database, `pg_dump` on PostgreSQL); the
 * backup is restored into a new data folder (`payrail restore`) or a new database (`pg_restore`),
 * and a server started on it has every acknowledged payment, its client (whose secret still mints
 * tokens), its webhook endpoint (whose secret still signs the same) and its bank (whose sealed
 * signing key still signs what the bank verifies). The bank and the webhook receiver are loopback
 * servers; PostgreSQL databases are created with unique names and dropped after.
 */
import { type ChildProcess, execFile, spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import { makePki, type TestPki } from './support/certs.ts';
import { guideBody } from './support/helpers.ts';
import { processDatabases } from './support/process-databases.ts';
import { BIN, exited, startServe, waitFor } from './support/processes.ts';

const run = promisify(execFile);
const KEK = 'cd'.repeat(32);
const CLEAN_ENV = { ...process.env, PAYRAIL_MODE: '', PAYRAIL_DEMO: '', PAYRAIL_KEY_ENCRYPTION_KEY: '', PAYRAIL_DATABASE_URL: '' };

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
function recorder(answer: (seen: Seen, response: import('node:http').ServerResponse) => void) {
  const seen: Seen[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      const entry = { path: request.url ?? '', headers: request.headers, body, at: Date.now() };
      seen.push(entry);
      answer(entry, response);
    });
  });
  return {
    seen,
    start: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: CLEAN_ENV });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function api(base: string, method: string, path: string, token: string | null, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null, headers: response.headers };
}

async function mint(base: string, client: { client_id: string; client_secret: string }): Promise<{ status: number; token: string }> {
  const answer = await api(base, 'POST', '/2.0/auth/token', null, {
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    scope: 'payments:admin',
  });
  return { status: answer.status, token: answer.json?.token };
}

/** The Berlin Group signature a bank checks: over the listed headers, with the signing certificate's key. */
function verifyBankSignature(headers: IncomingHttpHeaders, certPem: string): boolean {
  const params = Object.fromEntries([...String(headers.signature).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  if (!params.headers || !params.signature) return false;
  const signingString = params.headers
    .split(' ')
    .map((h: string) => `${h}: ${headers[h]}`)
    .join('\n');
  const cert = new X509Certificate(certPem);
  return verify(
    'sha256',
    Buffer.from(signingString),
    createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })),
    Buffer.from(params.signature, 'base64'),
  );
}

interface Deployment {
  /** Arguments naming the source store (and its keys). */
  source: string[];
  /** Backs up the source while it runs; resolves when the backup is complete. */
  backup(): Promise<void>;
  /** Restores the backup; returns the arguments naming the restored store. */
  restore(): Promise<string[]>;
  cleanup(): Promise<void>;
}

const targets: { name: string; create: () => Promise<Deployment> }[] = [
  {
    name: 'sqlite: payrail backup, payrail restore (development, the data folder key)',
    create: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'payrail-restore-'));
      const file = join(dir, 'backup.sqlite');
      return {
        source: ['--data-dir', join(dir, 'live')],
        backup: async () => {
          await run(process.execPath, [BIN, 'backup', '--output', file, '--data-dir', join(dir, 'live')], { env: CLEAN_ENV });
        },
        restore: async () => {
          const restored = join(dir, 'restored');
          // Without the key the backup's secrets were sealed with: refused, and nothing is restored.
          const keyless = cli(['restore', '--from', file, '--data-dir', restored]);
          expect(keyless.code, keyless.stderr).toBe(2);
          expect(keyless.stderr).toContain('key-encryption key');
          expect(keyless.stderr).toContain('--key-file');
          const done = cli(['restore', '--from', file, '--data-dir', restored, '--key-file', join(dir, 'live', 'key-encryption.key'), '--json']);
          expect(done.code, done.stderr).toBe(0);
          const report = JSON.parse(done.stdout);
          expect(report).toMatchObject({ keys_from: 'key file', counts: { clients: 1, webhook_endpoints: 1, banks: 1 } });
          expect(report.sealed_secrets).toBeGreaterThanOrEqual(3); // webhook key, bank signing key, response signing key
          // Something else than a backup is refused.
          const wrong = cli(['restore', '--from', join(dir, 'live', 'key-encryption.key'), '--data-dir', join(dir, 'other')]);
          expect(wrong.code).toBe(2);
          expect(wrong.stderr).toContain('not an SQLite database');
          // A second restore into the same folder is refused.
          expect(cli(['restore', '--from', file, '--data-dir', restored]).code).toBe(2);
          return ['--data-dir', restored];
        },
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];
const postgres = processDatabases().find((d) => d.name === 'postgres');
if (postgres) {
  targets.push({
    name: 'postgres: pg_dump, pg_restore (production keys, configured)',
    create: async () => {
      const source = await postgres.create();
      const target = await postgres.create();
      const dir = mkdtempSync(join(tmpdir(), 'payrail-pgdump-'));
      const dump = join(dir, 'payrail.dump');
      const keys = ['--key-encryption-key', KEK];
      return {
        source: [...source.args, ...keys],
        backup: async () => {
          await run('pg_dump', ['--format=custom', `--file=${dump}`, source.args[1]!]);
        },
        restore: async () => {
          await run('pg_restore', ['--no-owner', `--dbname=${target.args[1]}`, dump]);
          return [...target.args, ...keys];
        },
        cleanup: async () => {
          rmSync(dir, { recursive: true, force: true });
          await source.cleanup();
          await target.cleanup();
        },
      };
    },
  });
}

describe.each(targets)('a backup taken under load restores whole [$name]', ({ create }) => {
  let pki: TestPki;
  const bank = recorder((_seen, response) =>
    response
      .writeHead(400, { 'content-type': 'application/json' })
      .end(JSON.stringify({ tppMessages: [{ category: 'ERROR', code: 'FORMAT_ERROR', text: 'test bank refuses' }] })),
  );
  const hooks = recorder((_seen, response) => response.writeHead(200).end());
  let bankPort = 0;
  let hookPort = 0;
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    pki = makePki();
    bankPort = await bank.start();
    hookPort = await hooks.start();
  });
  afterAll(async () => {
    for (const proc of procs) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited(proc);
    }
    await bank.stop();
    await hooks.stop();
    pki.cleanup();
  });

  it('every acknowledged payment, the client, the webhook endpoint and the bank, with secrets that still work', async () => {
    const deployment = await create();
    try {
      // ---- the live installation ----
      const created = cli(['client', 'create', '--name', 'Shop', '--redirect-uri', 'https://merchant.example/payment/return', '--json', ...deployment.source]);
      expect(created.code, created.stderr).toBe(0);
      const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
      const added = cli([
        'bank',
        'add',
        '--standard',
        'berlin-group',
        '--name',
        'Sealed Bank',
        '--base-url',
        `http://127.0.0.1:${bankPort}`,
        '--signing-key',
        pki.signing.keyPath,
        '--signing-cert',
        pki.signing.certPath,
        '--profile',
        '{"signing":true}',
        '--json',
        ...deployment.source,
      ]);
      expect(added.code, added.stderr).toBe(0);
      const bankUuid = JSON.parse(added.stdout).uuid as string;

      const live = await startServe(deployment.source);
      procs.push(live.proc);
      const admin = await mint(live.base, client);
      expect(admin.status).toBe(200);
      const endpoint = await api(live.base, 'POST', '/2.0/webhooks', admin.token, { url: `http://127.0.0.1:${hookPort}/payrail` });
      expect(endpoint.status).toBe(200);
      const hookSecret = endpoint.json.secret_key as string;
      const signed = await fetch(`${live.base}/2.0/payments?limit=1&sign_response=true`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(signed.status).toBe(200);
      const kid = JSON.parse(Buffer.from((await signed.text()).split('.')[0]!, 'base64url').toString()).kid as string;

      // ---- load: 4 payers creating payments while the backup is taken ----
      const acknowledged: { id: number; amount: number; at: number }[] = [];
      let stop = false;
      const until = Date.now() + 60_000;
      const payer = async (n: number) => {
        for (let i = 0; i < 150 && !stop && Date.now() < until; i++) {
          const amount = Number(`${n + 1}.${String(i).padStart(2, '0')}`);
          const body = guideBody('first_open_day', {});
          (body.instructions as Record<string, unknown>[])[0]!.amount = amount;
          const answer = await api(live.base, 'POST', '/2.0/payments', admin.token, body);
          if (answer.status === 200) acknowledged.push({ id: answer.json.id, amount, at: Date.now() });
        }
      };
      const payers = [0, 1, 2, 3].map(payer);
      await waitFor('payments before the backup', () => (acknowledged.length >= 20 ? true : undefined), 30_000);
      const backupStarted = Date.now();
      await deployment.backup();
      const backupDone = Date.now();
      await waitFor('payments after the backup', () => (acknowledged.some((p) => p.at > backupDone + 200) ? true : undefined), 30_000).catch(() => undefined);
      stop = true;
      await Promise.all(payers);
      live.proc.kill('SIGTERM');
      await exited(live.proc);
      const before = acknowledged.filter((p) => p.at < backupStarted);
      expect(before.length).toBeGreaterThanOrEqual(20);

      // ---- restore, start, check ----
      const restoredArgs = await deployment.restore();
      const restored = await startServe(restoredArgs);
      procs.push(restored.proc);
      const again = await mint(restored.base, client); // the client's secret still mints
      expect(again.status).toBe(200);
      const listed = await api(restored.base, 'GET', '/2.0/payments?limit=1000', again.token);
      expect(listed.status).toBe(200);
      const byId = new Map<number, { instructions: { amount: string | number }[] }>(listed.json.payments.map((p: { id: number }) => [p.id, p]));
      for (const payment of before) {
        expect(byId.has(payment.id), `payment ${payment.id} acknowledged before the backup`).toBe(true);
        expect(Number(byId.get(payment.id)!.instructions[0]!.amount)).toBe(payment.amount);
      }
      // Nothing that was never acknowledged: every restored payment is one the server answered 200 for.
      const known = new Set(acknowledged.map((p) => p.id));
      for (const id of byId.keys()) expect(known.has(id), `payment ${id}`).toBe(true);

      // The response signing key is the same one.
      const signedAgain = await fetch(`${restored.base}/2.0/payments?limit=1&sign_response=true`, { headers: { authorization: `Bearer ${again.token}` } });
      expect(JSON.parse(Buffer.from((await signedAgain.text()).split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
      // The webhook endpoint is there.
      const endpoints = await api(restored.base, 'GET', '/2.0/webhooks', again.token);
      expect(endpoints.json.webhooks.map((w: { id: number; url: string }) => [w.id, w.url])).toEqual([
        [endpoint.json.id, `http://127.0.0.1:${hookPort}/payrail`],
      ]);

      // A validation on the bank: its request is signed with the sealed key, the state change is
      // announced to the endpoint, signed with the endpoint's secret.
      const startedAt = Date.now();
      const target = before[0]!.id;
      const scoped = await api(restored.base, 'POST', `/2.0/payments/${target}/scopedtoken`, again.token, { scope: ['payments:validate'] });
      expect(scoped.status).toBe(200);
      const validated = await api(restored.base, 'POST', `/2.0/payments/${target}`, scoped.json.token, {
        connector_uuid: bankUuid,
        webview_url: 'https://merchant.example/payment/webview',
        payer: { scheme_name: 'iban', identification: 'DE02100100109307118603' },
      });
      expect(validated.status, JSON.stringify(validated.json)).toBeLessThan(500); // the bank refuses it
      const bankCall = await waitFor('the bank to be called', () => bank.seen.find((s) => s.at >= startedAt), 30_000);
      expect(bankCall.headers.digest).toBe(`SHA-256=${createHash('sha256').update(bankCall.body).digest('base64')}`);
      expect(verifyBankSignature(bankCall.headers, pki.signing.cert)).toBe(true);
      const hook = await waitFor(
        'a webhook from the restored server',
        () => hooks.seen.find((s) => s.at >= startedAt && s.body.includes(`"id":${target}`)),
        30_000,
      );
      expect(
        verifyWebhookSignature(hookSecret, 'POST', '/payrail', String(hook.headers['bi-signature-date']), hook.body, String(hook.headers['bi-signature'])),
      ).toBe(true);
      restored.proc.kill('SIGTERM');
      await exited(restored.proc);
    } finally {
      await deployment.cleanup();
    }
  }, 240_000);
});
