/**
 * PostgreSQL faults: the server terminates Payrail's connections (pg_terminate_backend, as a
 * restart or failover does) while payments are being created and jobs run. The process must not
 * crash, every request must end in a payment or a clean 503, no payment may be lost, doubled or
 * half-written, and the LISTEN connection must come back (and look for work it may have missed).
 * PostgreSQL only: SQLite has no server to lose.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { ManualClock } from '../src/domain/clock.ts';
import { buildApp, type PayrailApp } from '../src/http/app.ts';
import { startJobs } from '../src/jobs/runner.ts';
import { createClient, type CreatedClient } from '../src/services/clients.ts';
import { createEndpoint } from '../src/webhooks/endpoints.ts';
import type { Store } from '../src/store/db.ts';
import { bearer, databases, expectErrorBody, guideBody } from './support/helpers.ts';
import { openIsolatedStore } from './support/stores.ts';
import { waitFor } from './support/processes.ts';

const postgres = databases().filter((d) => d.dialect === 'postgres');

for (const { url } of postgres) {
  describe('PostgreSQL connections terminated under load [postgres]', () => {
    let store: Store;
    let drop: () => Promise<void>;
    let app: PayrailApp;
    let client: CreatedClient;
    let admin: pg.Client;
    let schema: string;
    const clock = new ManualClock('2026-01-15T10:00:00Z');
    const received: number[] = [];
    let receiver: Server;

    beforeAll(async () => {
      ({ store, drop } = await openIsolatedStore('postgres', url, { poolSize: 4 }));
      schema = (await sql<{ s: string }>`select current_schema() as s`.execute(store.db)).rows[0]!.s;
      app = await buildApp({ store, clock });
      await app.ready();
      client = await createClient(store.db, { name: 'Shop', redirectUris: ['https://merchant.example/payment/return'], now: clock.now() });
      admin = new pg.Client({ connectionString: url! });
      await admin.connect();
      receiver = createServer((request, response) => {
        let body = '';
        request.on('data', (c) => (body += c));
        request.on('end', () => {
          received.push(JSON.parse(body).id);
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await admin?.end();
      await new Promise((resolve) => receiver?.close(resolve));
      await app?.close();
      await drop?.();
    });

    /** Terminates every connection of this test's store (the pool and the LISTEN connection), never anyone else's. */
    async function terminate(): Promise<number> {
      const result = await admin.query('select pg_terminate_backend(pid) as t from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [
        `payrail:${schema}`,
      ]);
      return result.rowCount ?? 0;
    }

    it('survives terminated connections while creating payments: no crash, no 5xx but 503, nothing lost or doubled, LISTEN back', async () => {
      const token = (
        await app.inject({
          method: 'POST',
          url: '/2.0/auth/token',
          payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, scope: 'payments:admin' },
        })
      ).json().token as string;
      const domainId = (await store.db.selectFrom('domains').select('id').executeTakeFirstOrThrow()).id;
      const hook = await createEndpoint(
        store.db,
        clock,
        domainId,
        { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` },
        { keyring: app.payrail.keyring, allowPrivate: true },
      );
      // Polling once a minute: only NOTIFY (or the look after re-listening) can wake deliveries within the test.
      const jobs = startJobs(
        {
          db: store.db,
          dialect: store.dialect,
          clock,
          listen: store.listen!,
          keyring: app.payrail.keyring,
          allowPrivateWebhooks: true,
          actions: {
            db: store.db,
            clock,
            secret: app.payrail.secret,
            baseUrl: 'http://127.0.0.1',
            testStepMs: 1000,
            connectors: app.payrail.connectors,
            notifier: app.payrail.notifier,
          },
        },
        { pollMs: 60_000 },
      );
      try {
        const total = 120;
        const statuses: Record<number, number> = {};
        const retry: number[] = [];
        let terminated = 0;
        let next = 0;
        const until = Date.now() + 60_000;
        const create = async (n: number) => {
          const response = await app.inject({
            method: 'POST',
            url: '/2.0/payments',
            headers: { ...bearer(token), 'idempotency-key': `order-${n}` },
            payload: guideBody('first_open_day', { client_state: `order-${n}` }),
          });
          statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
          if (response.statusCode !== 200) {
            expectErrorBody(response.json());
            retry.push(n);
          }
          return response;
        };
        const killer = (async () => {
          while (next < total && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 150));
            terminated += await terminate();
          }
        })();
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            while (next < total && Date.now() < until) await create(next++);
          }),
        );
        await killer;
        expect(next).toBe(total);
        expect(terminated).toBeGreaterThan(5);
        // Only successes and clean 503s (or 409 for a key whose first try is still marked running): never a 500.
        expect(
          Object.keys(statuses)
            .map(Number)
            .every((s) => [200, 503, 409].includes(s)),
          JSON.stringify(statuses),
        ).toBe(true);
        expect(statuses[503] ?? 0, JSON.stringify(statuses)).toBeGreaterThan(0);

        // The client retries what failed with the same Idempotency-Key until it gets its payment.
        for (const n of retry) {
          await waitFor(
            `payment ${n}`,
            async () => {
              const r = await app.inject({
                method: 'POST',
                url: '/2.0/payments',
                headers: { ...bearer(token), 'idempotency-key': `order-${n}` },
                payload: guideBody('first_open_day', { client_state: `order-${n}` }),
              });
              if (r.statusCode === 409) clock.advance(61_000); // a key left running by a lost connection is retaken once stale
              return r.statusCode === 200 ? true : undefined;
            },
            30_000,
          );
        }
        // Exactly one whole payment per order: instructions and creation event written with it.
        const rows = await store.db
          .selectFrom('payments as p')
          .select([
            'p.client_state',
            'p.instruction_count',
            (eb) =>
              eb
                .selectFrom('payment_instructions as i')
                .select((e) => e.fn.countAll<number>().as('n'))
                .whereRef('i.payment_id', '=', 'p.id')
                .as('instructions'),
            (eb) =>
              eb
                .selectFrom('payment_events as e')
                .select((e) => e.fn.countAll<number>().as('n'))
                .whereRef('e.payment_id', '=', 'p.id')
                .where('e.type', '=', 'created')
                .as('events'),
          ])
          .execute();
        expect(rows).toHaveLength(total);
        expect(new Set(rows.map((r) => r.client_state)).size).toBe(total);
        for (const row of rows) {
          expect(Number(row.instructions)).toBe(row.instruction_count);
          expect(Number(row.events)).toBe(1);
        }

        // LISTEN is back: a change committed by another process (NOTIFY) wakes delivery within seconds.
        await terminate();
        await new Promise((r) => setTimeout(r, 1500));
        const target = rows.length;
        await admin.query('begin');
        const data = await admin.query(
          `insert into ${schema}.webhook_data (domain_id, payment_id, event, body, created_at) values ($1, $2, 'PAYMENT_STATE_UPDATED', $3, $4) returning id`,
          [domainId, target, JSON.stringify({ id: target }), clock.now()],
        );
        await admin.query(
          `insert into ${schema}.webhook_deliveries (data_id, endpoint_id, payment_id, status, attempts, next_attempt_at, created_at) values ($1, $2, $3, 'pending', 0, $4, $4)`,
          [data.rows[0].id, hook.id, target, clock.now()],
        );
        await admin.query('notify payrail_jobs');
        await admin.query('commit');
        const sent = Date.now();
        await waitFor('the NOTIFY to wake delivery', () => (received.includes(target) ? true : undefined), 5_000);
        expect(Date.now() - sent).toBeLessThan(3_000);

        // A NOTIFY sent while the listener is down is not lost: it looks for work once it is back.
        await waitFor(
          'the delivery to be recorded',
          async () => {
            const row = await store.db.selectFrom('webhook_deliveries').select('status').where('payment_id', '=', target).executeTakeFirst();
            return row?.status === 'delivered' ? true : undefined;
          },
          5_000,
        );
        await terminate();
        const again = await admin.query(
          `insert into ${schema}.webhook_deliveries (data_id, endpoint_id, payment_id, status, attempts, next_attempt_at, created_at) values ($1, $2, $3, 'pending', 0, $4, $4) returning id`,
          [data.rows[0].id, hook.id, target, clock.now()],
        );
        await admin.query('notify payrail_jobs');
        await waitFor(
          'the missed work to be delivered',
          async () => {
            const row = await store.db
              .selectFrom('webhook_deliveries')
              .select('status')
              .where('id', '=', again.rows[0].id)
              .executeTakeFirst()
              .catch(() => undefined);
            return row?.status === 'delivered' ? true : undefined;
          },
          10_000,
        );

        // And the API answers again.
        const ready = await app.inject({ method: 'GET', url: '/ready' });
        expect(ready.statusCode, ready.body).toBe(200);
      } finally {
        await jobs.stop();
      }
    });
  });
}
