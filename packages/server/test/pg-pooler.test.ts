/**
 * PostgreSQL behind a transaction-mode pooler (issue 24, item 6): Debian's PgBouncer in
 * `pool_mode = transaction` in front of the test PostgreSQL, and two `payrail serve` processes
 * through it with `--database-pooler transaction`: one LISTENs straight to PostgreSQL
 * (`--database-listen-url`), the other relies on polling. Payments are created, carried to their
 * final state by status sync, every change is delivered once to a loopback receiver, and no
 * change happens twice. PostgreSQL only (it needs the shared test server behind the pooler).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPgBouncer, type PgBouncer } from './support/pgbouncer.ts';
import { BIN, exited, startServe, waitFor } from './support/processes.ts';

const TEST_CONNECTOR = '338178e6-3d01-564f-9a7b-52ca442459bf';
const TOTAL = 40;
const pgUrl = inject('pgUrl');

describe.runIf(pgUrl)('two `serve` processes through PgBouncer in transaction mode [postgres]', () => {
  let bouncer: PgBouncer;
  let direct: string;
  let pooled: string;
  const name = `payrail_pooler_${randomBytes(4).toString('hex')}`;
  const admin = async (text: string, values: unknown[] = [], url = pgUrl!) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await admin(`create database ${name}`);
    const url = new URL(pgUrl!);
    url.pathname = `/${name}`;
    direct = url.toString();
    bouncer = await startPgBouncer(direct);
    pooled = bouncer.through(direct);
  });
  afterAll(async () => {
    await bouncer?.stop();
    await admin(`drop database if exists ${name} with (force)`);
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });

  it('without the setting, the pooler refuses the session settings Payrail sends (what the setting is for)', () => {
    const result = cli(['migrate', '--database-url', pooled]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unsupported startup parameter');
  });

  it('creates payments, syncs their status and delivers every webhook once, with nothing done twice', async () => {
    const received = new Map<number, number>();
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c) => (body += c));
      request.on('end', () => {
        const id = JSON.parse(body).id_webhook_data as number;
        received.set(id, (received.get(id) ?? 0) + 1);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const procs: ChildProcess[] = [];
    try {
      // The CLI through the pooler too, the setting from the environment.
      const env = { PAYRAIL_DATABASE_URL: pooled, PAYRAIL_DATABASE_POOLER: 'transaction' };
      const created = cli(['client', 'create', '--name', 'Shop', '--redirect-uri', 'https://merchant.example/payment/return', '--json'], env);
      expect(created.status, created.stderr).toBe(0);
      const client = JSON.parse(created.stdout);
      const hook = cli(['webhook', 'add', '--url', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, '--json'], env);
      expect(hook.status, hook.stderr).toBe(0);

      const common = ['--database-url', pooled, '--database-pooler', 'transaction', '--log-level', 'error', '--test-connector-step-seconds', '1'];
      const listening = await startServe([...common, '--database-listen-url', direct]);
      procs.push(listening.proc);
      const polling = await startServe(common);
      procs.push(polling.proc);
      const bases = [listening.base, polling.base];

      const statuses = new Map<number, number>();
      const call = async (base: string, path: string, body: unknown, token?: string) => {
        const response = await fetch(`${base}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        return (await response.json()) as Record<string, any>;
      };
      const credentials = { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, scope: 'payments:admin' };
      const token = (await call(bases[1]!, '/2.0/auth/token', credentials)).token as string;
      expect(token).toEqual(expect.any(String));

      // Only the listening process has a LISTEN connection, and it goes straight to PostgreSQL.
      await waitFor(
        'the LISTEN connection',
        async () =>
          (await admin(`select 1 from pg_stat_activity where datname = $1 and query = 'listen payrail_jobs'`, [name])).length === 1 ? true : undefined,
        10_000,
      );

      let next = 0;
      await Promise.all(
        Array.from({ length: 6 }, async (_, worker) => {
          while (next < TOTAL) {
            next++;
            const base = bases[worker % 2]!;
            const payment = await call(
              base,
              '/2.0/payments',
              {
                client_redirect_uri: 'https://merchant.example/payment/return',
                instructions: [
                  {
                    label: 'pdng/done - Pooled',
                    amount: 1,
                    currency: 'EUR',
                    execution_date_type: 'instant',
                    beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME' },
                  },
                ],
              },
              token,
            );
            expect(payment.id, JSON.stringify(payment)).toEqual(expect.any(Number));
            const validating = await call(
              base,
              `/2.0/payments/${payment.id}`,
              { connector_uuid: TEST_CONNECTOR, webview_url: 'https://merchant.example/own' },
              token,
            );
            const bank = new URL(validating.validate_uri);
            const approved = await fetch(`${base}${bank.pathname}`, {
              method: 'POST',
              redirect: 'manual',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({ ...Object.fromEntries(bank.searchParams), decision: 'approve' }),
            });
            await approved.arrayBuffer();
            expect(approved.status).toBeLessThan(500);
          }
        }),
      );
      expect([...statuses.keys()], JSON.stringify([...statuses])).toEqual([200]);

      // Status sync carries every payment to done (validating → pending → done, at 1-second steps).
      await waitFor(
        'every payment done',
        async () => ((await admin(`select 1 from payments where state <> 'done' limit 1`, [], direct)).length === 0 ? true : undefined),
        120_000,
      );
      expect((await admin('select count(*)::int as n from payments', [], direct))[0].n).toBe(TOTAL);
      const data = (await admin('select id::int as id from webhook_data', [], direct)).map((r) => r.id as number);
      expect(data.length).toBe(TOTAL * 3);
      await waitFor('every change delivered', () => (data.every((id) => received.has(id)) ? true : undefined), 60_000);
      // Nothing sent twice: each webhook once, each state change once, each payment sent to its bank once.
      expect([...received.values()].every((n) => n === 1)).toBe(true);
      const doubled = await admin(
        `select payment_id, to_state from payment_events where type = 'state_changed' group by payment_id, to_state having count(*) > 1`,
        [],
        direct,
      );
      expect(doubled).toEqual([]);
      const twice = await admin(
        `select payment_id, operation from bank_calls where operation like 'initiat%' group by payment_id, operation having count(*) > 1`,
        [],
        direct,
      );
      expect(twice).toEqual([]);
    } finally {
      for (const proc of procs) {
        proc.kill('SIGTERM');
        await exited(proc);
      }
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 240_000);
});
