/**
 * Lifecycle benchmarks, on SQLite and PostgreSQL, each against a baseline in the same run:
 *
 * 1. Webhook delivery: state changes at a steady rate (default 200/s for 5 s) through the real
 *    state machine; latency from the change to the signed delivery arriving at a receiver on
 *    127.0.0.1. Baseline: the same bodies POSTed straight to the receiver at the same rate.
 * 2. Status sync: 10,000 pending test-connector payments due for sync; time until all are done
 *    through the real sync job. Baseline: the same state updates as bare SQL.
 *
 *   npm run bench:lifecycle          (BENCH_RATE, BENCH_SECONDS, BENCH_SYNC_PAYMENTS to change)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../packages/server/src/domain/clock.ts';
import { startJobs } from '../packages/server/src/jobs/runner.ts';
import { syncDuePayments } from '../packages/server/src/jobs/sync-payments.ts';
import { createClient } from '../packages/server/src/services/clients.ts';
import { changePayment } from '../packages/server/src/services/payment-changes.ts';
import { createPayment } from '../packages/server/src/services/payments.ts';
import { authenticate, issueServiceToken } from '../packages/server/src/services/tokens.ts';
import { createEndpoint } from '../packages/server/src/webhooks/endpoints.ts';
import { validatePaymentRequest } from '../packages/server/src/domain/payment-request.ts';
import type { Store } from '../packages/server/src/store/db.ts';
import { openIsolatedStore, reachablePostgres } from '../packages/server/test/support/stores.ts';
import { connectorRegistry } from '../packages/server/src/services/banks.ts';
import { testConnector } from '../packages/server/src/connectors/test-connector.ts';
import { randomBytes } from 'node:crypto';
import { keyringFromKeys } from '../packages/server/src/services/secret-box.ts';
import { createWorkNotifier } from '../packages/server/src/services/work-notifier.ts';

const BENCH_KEYRING = keyringFromKeys([randomBytes(32)]);

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SYNC_PAYMENTS = Number(process.env.BENCH_SYNC_PAYMENTS ?? 10_000);
const TEST_CONNECTOR = '338178e6-3d01-564f-9a7b-52ca442459bf';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function openBenchStore(dialect: 'sqlite' | 'postgres', url: string | null) {
  return openIsolatedStore(dialect, url, { sqliteOnDisk: true, poolSize: 10 });
}

const paymentBody = {
  client_redirect_uri: 'https://merchant.example/payment/return',
  instructions: [
    {
      label: 'pdng/done - Bench',
      amount: '10.00',
      currency: 'EUR',
      execution_date_type: 'instant',
      beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME' },
    },
  ],
};

async function makePayments(store: Store, count: number) {
  const client = await createClient(store.db, { name: 'bench', redirectUris: [paymentBody.client_redirect_uri], now: Date.now() });
  const { token } = await issueServiceToken(store.db, systemClock, {
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    scope: 'payments:admin',
  });
  const principal = (await authenticate(store.db, systemClock, token))!;
  const input = validatePaymentRequest(paymentBody, { nowMs: Date.now(), redirectUris: principal.redirectUris, connectors: [testConnector.descriptor] });
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push((await createPayment(store.db, systemClock, principal, input, { showSensitive: false })).record.payment.id);
  return { principal, ids };
}

/** Paces `count` calls of `fn` at `rate` per second. */
async function paced(count: number, rate: number, fn: (i: number) => Promise<void>) {
  const start = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    running.push(fn(i));
  }
  await Promise.all(running);
}

async function webhookBench(dialect: 'sqlite' | 'postgres', url: string | null) {
  const { store, drop } = await openBenchStore(dialect, url);
  const arrived = new Map<number, number>();
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (c) => (body += c));
    request.on('end', () => {
      const id = JSON.parse(body).id as number;
      arrived.set(id, performance.now());
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const count = RATE * SECONDS;
  try {
    const { ids, principal } = await makePayments(store, count);
    await createEndpoint(store.db, systemClock, principal.domainId, { url: hook }, { keyring: BENCH_KEYRING, allowPrivate: true });
    // The bench's changes wake its job runner as a server's requests wake `payrail serve`'s.
    const notifier = createWorkNotifier();
    const jobs = startJobs(
      {
        db: store.db,
        dialect: store.dialect,
        clock: systemClock,
        keyring: BENCH_KEYRING,
        allowPrivateWebhooks: true,
        actions: {
          db: store.db,
          clock: systemClock,
          secret: 'x',
          baseUrl: 'http://127.0.0.1',
          testStepMs: 1000,
          connectors: connectorRegistry({ db: store.db, clock: systemClock, keyring: BENCH_KEYRING }),
          notifier,
        },
      },
      { pollMs: 500, expiryEveryMs: 3_600_000 },
    );
    const changedAt = new Map<number, number>();
    const rows = await store.db.selectFrom('payments').selectAll().where('id', 'in', ids).execute();
    await paced(count, RATE, async (i) => {
      const payment = rows[i]!;
      changedAt.set(payment.id, performance.now());
      await changePayment({ db: store.db, clock: systemClock, notifier }, payment, { state: 'rejected', patch: { error_code: 'CancelledByClient' } });
    });
    const deadline = Date.now() + 60_000;
    while (arrived.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await jobs.stop();
    const latencies = ids.map((id) => (arrived.get(id) ?? NaN) - changedAt.get(id)!);
    const delivered = ids.filter((id) => arrived.has(id)).length;
    // Baseline: the same body straight to the receiver at the same rate.
    const body = JSON.stringify({ id: 0, state: 'rejected', padding: 'x'.repeat(1200) });
    const baseline: number[] = [];
    await paced(count, RATE, async () => {
      const t = performance.now();
      await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.arrayBuffer());
      baseline.push(performance.now() - t);
    });
    return {
      delivered,
      count,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      baseP50: percentile(baseline, 50),
      baseP99: percentile(baseline, 99),
    };
  } finally {
    await new Promise((r) => receiver.close(r));
    await drop();
  }
}

async function syncBench(dialect: 'sqlite' | 'postgres', url: string | null) {
  const { store, drop } = await openBenchStore(dialect, url);
  try {
    const { ids } = await makePayments(store, SYNC_PAYMENTS);
    const now = Date.now();
    const data = JSON.stringify({ use_case: 'legacy', tokens: [['pdng', 'done']], approved_at: now - 10_000, step: 0 });
    // Each payment gets one attempt at the test bank, due now (services/attempts.ts).
    for (const id of ids) {
      const attempt = await store.db
        .insertInto('payment_attempts')
        .values({
          payment_id: id,
          number: 1,
          connector_uuid: TEST_CONNECTOR,
          bank_id: null,
          bank_payment_id: null,
          connector_data: data,
          consent_sealed: null,
          bank_status: null,
          outcome: 'ok',
          next_sync_at: now,
          sync_locked_until: null,
          sync_error: null,
          created_at: now,
          superseded_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await store.db.updateTable('payments').set({ current_attempt_id: attempt.id }).where('id', '=', id).execute();
    }
    const due = async () => {
      for (let i = 0; i < ids.length; i += 500) {
        await store.db
          .updateTable('payments')
          .set({ state: 'pending', connector_uuid: TEST_CONNECTOR, id_connector: 40 })
          .where('id', 'in', ids.slice(i, i + 500))
          .execute();
        await store.db
          .updateTable('payment_attempts')
          .set({ connector_data: data, next_sync_at: now, sync_locked_until: null })
          .where('payment_id', 'in', ids.slice(i, i + 500))
          .execute();
      }
    };
    await due();
    const env = {
      db: store.db,
      dialect: store.dialect,
      clock: systemClock,
      keyring: BENCH_KEYRING,
      actions: {
        db: store.db,
        clock: systemClock,
        secret: 'x',
        baseUrl: 'http://127.0.0.1',
        testStepMs: 1000,
        connectors: connectorRegistry({ db: store.db, clock: systemClock, keyring: BENCH_KEYRING }),
        notifier: createWorkNotifier(),
      },
    };
    let start = performance.now();
    let done = 0;
    while (done < ids.length) {
      const n = await syncDuePayments(env, 200);
      if (n === 0) break;
      done += n;
    }
    const syncSeconds = (performance.now() - start) / 1000;
    // Baseline: the same final state written row by row with bare SQL.
    await due();
    start = performance.now();
    for (const id of ids) await store.db.updateTable('payments').set({ state: 'done' }).where('id', '=', id).execute();
    const baseSeconds = (performance.now() - start) / 1000;
    return { synced: done, syncSeconds, baseSeconds };
  } finally {
    await drop();
  }
}

const url = await reachablePostgres([process.env.BENCH_DATABASE_URL, process.env.TEST_DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres']);
const dialects: ('sqlite' | 'postgres')[] = url ? ['sqlite', 'postgres'] : ['sqlite'];
const webhookRows: string[] = [];
const syncRows: string[] = [];
for (const dialect of dialects) {
  const name = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const w = await webhookBench(dialect, url);
  webhookRows.push(
    `| ${name} | ${w.delivered}/${w.count} | ${w.p50.toFixed(1)} ms | ${w.p99.toFixed(1)} ms | ${w.baseP50.toFixed(1)} ms | ${w.baseP99.toFixed(1)} ms |`,
  );
  const s = await syncBench(dialect, url);
  syncRows.push(`| ${name} | ${s.synced} | ${s.syncSeconds.toFixed(1)} s (${(s.synced / s.syncSeconds).toFixed(0)}/s) | ${s.baseSeconds.toFixed(1)} s |`);
}
console.log(
  `\nWebhooks: ${RATE} state changes/s for ${SECONDS} s, change → signed delivery at a loopback receiver (${new Date().toISOString().slice(0, 10)}, node ${process.version})\n`,
);
console.log('| Database | Delivered | p50 | p99 | Baseline p50 (bare POST) | Baseline p99 |');
console.log('|---|---|---|---|---|---|');
for (const row of webhookRows) console.log(row);
console.log(`\nStatus sync of ${SYNC_PAYMENTS} pending payments\n`);
console.log('| Database | Synced | Payrail sync job | Baseline (bare UPDATE per payment) |');
console.log('|---|---|---|---|');
for (const row of syncRows) console.log(row);
