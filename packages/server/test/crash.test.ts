/**
 * Crash test: `payrail serve` is killed with SIGKILL during a burst of state changes; after a
 * restart, every change that committed is delivered to the receiver, and every creation and change
 * the server answered is in the database (SQLite commits in groups: an answer leaves only once its
 * group is durable). No change is lost.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { sql } from 'kysely';
import { ManualClock } from '../src/domain/clock.ts';
import { validatePaymentRequest } from '../src/domain/payment-request.ts';
import { testConnector } from '../src/connectors/test-connector.ts';
import { createClient } from '../src/services/clients.ts';
import { changePayment } from '../src/services/payment-changes.ts';
import { createPayment } from '../src/services/payments.ts';
import { authenticate, issueServiceToken } from '../src/services/tokens.ts';
import { createEndpoint } from '../src/webhooks/endpoints.ts';
import { createWorkNotifier } from '../src/services/work-notifier.ts';
import { keyringFromKeys } from '../src/services/secret-box.ts';
import { openStore } from '../src/store/db.ts';
import { guideBody, openTestStore } from './support/helpers.ts';
import { BIN, decideAtTestBank, exited, startServe, waitFor } from './support/processes.ts';

const PAYMENTS = 300; // two state changes each: 600 in the burst
const TEST_CONNECTOR = '338178e6-3d01-564f-9a7b-52ca442459bf';

const targets: { name: string; setup: () => Promise<{ args: string[]; storeOptions: Parameters<typeof openStore>[0]; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    setup: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'payrail-crash-'));
      return { args: ['--data-dir', dir], storeOptions: { dataDir: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
const pgUrl = inject('pgUrl');
if (pgUrl) {
  targets.push({
    name: 'postgres',
    setup: async () => {
      const name = `payrail_crash_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = new URL(pgUrl);
      url.pathname = `/${name}`;
      return {
        args: ['--database-url', url.toString()],
        storeOptions: { databaseUrl: url.toString() },
        cleanup: async () => {
          const c = new pg.Client({ connectionString: pgUrl });
          await c.connect();
          await c.query(`drop database if exists ${name} with (force)`);
          await c.end();
        },
      };
    },
  });
}

describe.each(targets)('crash during a burst [$name]', ({ setup }) => {
  it('loses none of at least 500 state changes when the server is killed with SIGKILL during the burst', async () => {
    const { args, storeOptions, cleanup } = await setup();
    const received = new Set<number>();
    let deliveries = 0;
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c) => (body += c));
      request.on('end', () => {
        received.add(JSON.parse(body).id_webhook_data);
        deliveries++;
        setTimeout(() => response.writeHead(200).end(), 2); // a receiver that takes a moment
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    let child: ChildProcess | null = null;
    const run = (extra: string[]) => spawnSync(process.execPath, [BIN, ...extra, ...args], { encoding: 'utf8', timeout: 30_000 });
    try {
      const client = JSON.parse(run(['client', 'create', '--name', 'Shop', '--redirect-uri', 'https://merchant.example/payment/return', '--json']).stdout);
      run(['webhook', 'add', '--url', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, '--json']);

      // A short lease, so that what the killed process had claimed is retaken soon after the restart.
      const start = () => startServe(['--log-level', 'error', '--job-lease-seconds', '12', ...args]);
      let server = await start();
      child = server.proc;
      const call = async (method: string, path: string, body?: unknown, token?: string) => {
        const response = await fetch(`${server.base}${path}`, {
          method,
          redirect: 'manual',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        return response.status === 200 && response.headers.get('content-type')?.includes('json') ? ((await response.json()) as Record<string, any>) : null;
      };
      const token = (await call('POST', '/2.0/auth/token', {
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        scope: 'payments:admin',
      }))!.token;
      // What the server answered before it was killed: each payment's id and the last state it reported.
      const answered = new Map<number, 'created' | 'validating'>();
      const onePayment = async () => {
        const payment = await call(
          'POST',
          '/2.0/payments',
          {
            client_redirect_uri: 'https://merchant.example/payment/return',
            instructions: [
              {
                label: 'Burst',
                amount: 1,
                currency: 'EUR',
                execution_date_type: 'instant',
                beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME' },
              },
            ],
          },
          token,
        );
        if (payment) answered.set(payment.id as number, 'created');
        const validating = await call(
          'POST',
          `/2.0/payments/${payment!.id}`,
          { connector_uuid: TEST_CONNECTOR, webview_url: 'https://merchant.example/own', fields: { use_case_pay: 'redirect' } },
          token,
        );
        if (validating) answered.set(payment!.id as number, 'validating');
        const visit = new URL(validating!.validate_uri);
        await fetch(`${server.base}${visit.pathname}${visit.search}`, { redirect: 'manual' }).then((r) => r.arrayBuffer());
      };
      const burst = async (count: number, killAt?: number) => {
        let next = 0;
        const workers = Array.from({ length: 8 }, async () => {
          while (next < count) {
            const n = next++;
            if (killAt !== undefined && n === killAt) child!.kill('SIGKILL'); // in the middle of the burst, deliveries under way
            if (killAt !== undefined && n >= killAt) return; // the server is gone: the rest of the burst comes after the restart
            await onePayment().catch(() => {}); // requests cut by the crash fail; what committed must still be announced
          }
        });
        await Promise.all(workers);
      };
      await burst(PAYMENTS, Math.floor(PAYMENTS * 0.4));
      await exited(child);
      expect(child.signalCode).toBe('SIGKILL');
      const deliveredBeforeCrash = deliveries;

      server = await start();
      child = server.proc;
      const store = await openStore(storeOptions);
      try {
        const committed = async () => (await store.db.selectFrom('webhook_data').select('id').execute()).map((r) => r.id);
        const changesBeforeRestart = (await committed()).length;
        // Every answer the killed server gave stands: the payment exists, at least in the state it reported.
        const answeredBeforeCrash = new Map(answered);
        expect(answeredBeforeCrash.size).toBeGreaterThan(0);
        const stored = new Map(
          (
            await store.db
              .selectFrom('payments')
              .select(['id', 'state'])
              .where('id', 'in', [...answeredBeforeCrash.keys()])
              .execute()
          ).map((p) => [Number(p.id), p.state]),
        );
        for (const [id, state] of answeredBeforeCrash) {
          expect(stored.has(id), `payment ${id} was answered before the crash`).toBe(true);
          if (state === 'validating') expect(stored.get(id), `payment ${id} was answered validating`).not.toBe('created');
        }
        expect(changesBeforeRestart).toBeGreaterThan(0);
        // Finish the burst so that it holds at least 500 changes in all.
        const remaining = Math.max(0, Math.ceil((500 - changesBeforeRestart) / 2)) + 20;
        if (remaining) await burst(remaining);
        const all = await committed();
        expect(all.length).toBeGreaterThanOrEqual(500);
        await waitFor('every change delivered', () => (all.every((id) => received.has(id)) ? true : undefined));
        console.log(
          `crash test: ${answeredBeforeCrash.size} payments answered and ${changesBeforeRestart} changes committed before SIGKILL (${deliveredBeforeCrash} delivered by then), ${all.length} in all, all delivered`,
        );
        // Deliveries the killed process had sent but not yet recorded are sent again once their lease ends (at least once).
        await waitFor('the log to show every delivery delivered', async () => {
          const pending = await store.db.selectFrom('webhook_deliveries').select('id').where('status', '!=', 'delivered').execute();
          return pending.length === 0 ? true : undefined;
        });
        // Every payment reached its final state or is still exactly where its committed changes left it.
        const states = await store.db.selectFrom('payments').select('state').execute();
        expect(states.every((s) => ['created', 'validating', 'done'].includes(s.state))).toBe(true);
      } finally {
        await store.close();
      }
    } finally {
      if (child && child.exitCode === null && !child.signalCode) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child!.once('exit', resolve));
      }
      await new Promise((resolve) => receiver.close(resolve));
      await cleanup();
    }
  }, 180_000);
});

/** Two Payrail processes on one PostgreSQL share the work and never do a job twice. */
describe.each(targets.filter((t) => t.name === 'postgres'))('two processes on one PostgreSQL', ({ setup }) => {
  it('carry 1,000 payments to their final state, every change delivered exactly once', async () => {
    const { args, storeOptions, cleanup } = await setup();
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
    const run = (extra: string[]) => spawnSync(process.execPath, [BIN, ...extra, ...args], { encoding: 'utf8', timeout: 30_000 });
    try {
      const client = JSON.parse(run(['client', 'create', '--name', 'Shop', '--redirect-uri', 'https://merchant.example/payment/return', '--json']).stdout);
      run(['webhook', 'add', '--url', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, '--json']);
      const bases: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { proc, base } = await startServe(['--log-level', 'error', '--test-connector-step-seconds', '1', ...args]);
        procs.push(proc);
        bases.push(base);
      }
      const call = async (base: string, path: string, body: unknown, token?: string) => {
        const response = await fetch(`${base}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
        return (await response.json()) as Record<string, any>;
      };
      const token = (
        await call(bases[0]!, '/2.0/auth/token', {
          grant_type: 'client_credentials',
          client_id: client.client_id,
          client_secret: client.client_secret,
          scope: 'payments:admin',
        })
      ).token;
      let next = 0;
      const TOTAL = 1000;
      await Promise.all(
        Array.from({ length: 8 }, async (_, worker) => {
          while (next < TOTAL) {
            next++;
            const base = bases[worker % 2]!; // both processes take API traffic too
            const payment = await call(
              base,
              '/2.0/payments',
              {
                client_redirect_uri: 'https://merchant.example/payment/return',
                instructions: [
                  {
                    label: 'pdng/done - Shared',
                    amount: 1,
                    currency: 'EUR',
                    execution_date_type: 'instant',
                    beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME' },
                  },
                ],
              },
              token,
            );
            const validating = await call(
              base,
              `/2.0/payments/${payment.id}`,
              { connector_uuid: TEST_CONNECTOR, webview_url: 'https://merchant.example/own' },
              token,
            );
            await decideAtTestBank(base, validating.validate_uri);
          }
        }),
      );
      const store = await openStore(storeOptions);
      try {
        await waitFor(
          'every payment done',
          async () => {
            const open = await store.db.selectFrom('payments').select('id').where('state', '!=', 'done').limit(1).execute();
            return open.length === 0 ? true : undefined;
          },
          120_000,
        );
        const data = (await store.db.selectFrom('webhook_data').select('id').execute()).map((r) => r.id);
        expect(data.length).toBe(TOTAL * 3); // validating, pending, done
        await waitFor('every change delivered', () => (data.every((id) => received.has(id)) ? true : undefined), 60_000);
        expect([...received.values()].every((n) => n === 1)).toBe(true);
        const doubled = await store.db
          .selectFrom('payment_events')
          .select(['payment_id', 'to_state'])
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('type', '=', 'state_changed')
          .groupBy(['payment_id', 'to_state'])
          .having((eb) => eb.fn.countAll(), '>', 1)
          .execute();
        expect(doubled).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      for (const proc of procs) {
        proc.kill('SIGTERM');
        await exited(proc);
      }
      await new Promise((resolve) => receiver.close(resolve));
      await cleanup();
    }
  }, 240_000);
});

describe.each(targets.filter((t) => t.name === 'postgres'))('LISTEN/NOTIFY', () => {
  it('a committed state change with a webhook to send wakes listeners at once; a rolled-back one does not', async () => {
    const { store, drop } = await openTestStore('postgres', pgUrl!);
    try {
      const clock = new ManualClock('2026-01-15T10:00:00Z');
      const client = await createClient(store.db, { name: 'n', redirectUris: ['https://merchant.example/payment/return'], now: clock.now() });
      const { token } = await issueServiceToken(store.db, clock, {
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        scope: 'payments:admin',
      });
      const principal = (await authenticate(store.db, clock, token))!;
      await createEndpoint(
        store.db,
        clock,
        principal.domainId,
        { url: 'http://127.0.0.1:9/hook' },
        { keyring: keyringFromKeys([randomBytes(32)]), allowPrivate: true },
      );
      const input = validatePaymentRequest(guideBody(), { nowMs: clock.now(), redirectUris: principal.redirectUris, connectors: [testConnector.descriptor] });
      const { record } = await createPayment(store.db, clock, principal, input, { showSensitive: false });
      let notified = 0;
      const stop = await store.listen!('payrail_jobs', () => notified++);
      try {
        await expect(
          store.db.transaction().execute(async (trx) => {
            await sql`notify payrail_jobs`.execute(trx);
            throw new Error('rolled back');
          }),
        ).rejects.toThrow('rolled back');
        await new Promise((r) => setTimeout(r, 300));
        expect(notified).toBe(0);
        await changePayment({ db: store.db, clock, notifier: createWorkNotifier() }, record.payment, {
          state: 'rejected',
          patch: { error_code: 'CancelledByClient' },
        });
        await waitFor('the notification', () => (notified > 0 ? true : undefined), 5_000);
        expect(notified).toBe(1);
      } finally {
        await stop();
      }
    } finally {
      await drop();
    }
  });
});
