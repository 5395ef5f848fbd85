/**
 * Overhead of the bank boundary: Berlin Group payments initiated per second against the simulator
 * (`payrail bank simulate`, its own process, on 127.0.0.1), in the same run:
 *
 * - direct: bare initiation requests (undici, keep-alive, the connector's headers and body shape);
 * - boundary: the Berlin Group connector's `start` through the core's outbound client
 *   (`createBankHttp`: attempt row written before each call, its id as X-Request-ID, deadline,
 *   redacted exchange-log row after it) and the outcome recorded (`settleAttempts`), on SQLite
 *   and on PostgreSQL, each payment a real row created beforehand.
 *
 * Afterwards it checks with the simulator that no initiation was received twice.
 *
 *   npm run bench:banks          (BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_PAYMENTS to change)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { berlinGroupModule } from '../packages/server/src/connectors/berlin-group/index.ts';
import { createBankHttp, createBankTransport } from '../packages/server/src/connectors/kit/http.ts';
import type { ConfiguredBank, ConnectorContext, ConnectorPayment } from '../packages/server/src/connectors/kit/index.ts';
import { systemClock } from '../packages/server/src/domain/clock.ts';
import { connectorRegistry } from '../packages/server/src/services/banks.ts';
import { validatePaymentRequest } from '../packages/server/src/domain/payment-request.ts';
import { attemptRecorder, settleAttempts } from '../packages/server/src/services/attempts.ts';
import { createClient } from '../packages/server/src/services/clients.ts';
import { createPayment } from '../packages/server/src/services/payments.ts';
import { authenticate, issueServiceToken } from '../packages/server/src/services/tokens.ts';
import type { Store } from '../packages/server/src/store/db.ts';
import { openIsolatedStore, reachablePostgres } from '../packages/server/test/stores.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 2000);
const BIN = new URL('../packages/server/bin/payrail.js', import.meta.url).pathname;
const DEBTOR = 'DE02100100109307118603';
const CREDITOR = 'FR7630006000011234567890189';
const RETURN = { ok: 'http://127.0.0.1:3000/2.0/bank/return/ok', nok: 'http://127.0.0.1:3000/2.0/bank/return/nok' };

interface Run {
  label: string;
  initiated: number;
  seconds: number;
  latencies: number[];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function startSimulator(): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [BIN, 'bank', 'simulate', '--standard', 'berlin-group', '--port', '0', '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"([^"]+)"/.exec(output);
      if (match) resolve(match[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${output}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** Runs `work` on CONNECTIONS concurrent loops for SECONDS (or until it says there is nothing left). */
async function measure(label: string, work: () => Promise<boolean | null>): Promise<Run> {
  const latencies: number[] = [];
  let initiated = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const ok = await work();
        if (ok === null) return;
        latencies.push(performance.now() - t0);
        if (ok) initiated += 1;
      }
    }),
  );
  return { label, initiated, seconds: (performance.now() - started) / 1000, latencies };
}

async function direct(simUrl: string): Promise<Run> {
  const dispatcher = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 10_000 });
  const body = JSON.stringify({
    endToEndIdentification: 'bench',
    debtorAccount: { iban: DEBTOR },
    instructedAmount: { currency: 'EUR', amount: '10.00' },
    creditorAccount: { iban: CREDITOR },
    creditorName: 'ACME',
    remittanceInformationUnstructured: 'Bench',
  });
  try {
    return await measure('direct', async () => {
      const response = await request(`${simUrl}/v1/payments/instant-sepa-credit-transfers`, {
        method: 'POST',
        dispatcher,
        body,
        signal: AbortSignal.timeout(10_000),
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-Request-ID': randomUUID(),
          'PSU-IP-Address': '127.0.0.1',
          'TPP-Redirect-Preferred': 'true',
          'TPP-Redirect-URI': RETURN.ok,
          'TPP-Nok-Redirect-URI': RETURN.nok,
        },
      });
      await response.body.json();
      return response.statusCode === 201;
    });
  } finally {
    await dispatcher.close();
  }
}

async function makePayments(store: Store, count: number): Promise<number[]> {
  const redirect = 'https://merchant.example/payment/return';
  const client = await createClient(store.db, { name: 'bench', redirectUris: [redirect], now: Date.now() });
  const { token } = await issueServiceToken(store.db, systemClock, {
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    scope: 'payments:admin',
  });
  const principal = (await authenticate(store.db, systemClock, token))!;
  const input = validatePaymentRequest(
    {
      client_redirect_uri: redirect,
      instructions: [
        {
          label: 'Bench',
          amount: '10.00',
          currency: 'EUR',
          execution_date_type: 'instant',
          beneficiary: { scheme_name: 'iban', identification: CREDITOR, label: 'ACME' },
        },
      ],
    },
    {
      nowMs: Date.now(),
      redirectUris: principal.redirectUris,
      connectors: await connectorRegistry({ db: store.db, clock: systemClock, keyring: null }).descriptors(),
    },
  );
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push((await createPayment(store.db, systemClock, principal, input, { showSensitive: false })).record.payment.id);
  return ids;
}

function snapshot(id: number): ConnectorPayment {
  return {
    id,
    state: 'created',
    action: null,
    state_detail: null,
    execution_date_type: 'instant',
    currency: 'EUR',
    psu_ip_address: '127.0.0.1',
    bank_payment_id: null,
    data: null,
    payer: { scheme_name: 'iban', identification: DEBTOR, label: null, bic: null },
    instructions: [
      {
        amount_minor: 1000,
        currency: 'EUR',
        label: 'Bench',
        execution_date: null,
        reference_id: `bench-${id}`,
        start_date: null,
        end_date: null,
        frequency: null,
        beneficiary: { scheme_name: 'iban', identification: CREDITOR, label: 'ACME', bic: null },
      },
    ],
  };
}

async function boundary(simUrl: string, dialect: 'sqlite' | 'postgres', pgUrl: string | null): Promise<Run> {
  const { store, drop } = await openIsolatedStore(dialect, pgUrl, { sqliteOnDisk: true, poolSize: 10 });
  const draft = {
    id: 1,
    uuid: randomUUID(),
    name: 'Simulator',
    standard: 'berlin-group',
    base_url: simUrl,
    country: 'DE',
    bic: null,
    sca_approach: 'redirect' as const,
    has_client_cert: false,
    has_ca: false,
    has_signing_key: false,
    created_at: Date.now(),
  };
  const bank: ConfiguredBank = { ...draft, profile: berlinGroupModule.validateConfig({}, draft) };
  const connector = berlinGroupModule.create(bank, { clock: systemClock });
  const transport = createBankTransport(bank, {});
  const recorder = attemptRecorder(store.db);
  try {
    const ids = await makePayments(store, PAYMENTS);
    let next = 0;
    const run = await measure(`boundary (${dialect})`, async () => {
      const paymentId = ids[next++];
      if (paymentId === undefined) return null;
      const http = createBankHttp({ transport, recorder, clock: systemClock, paymentId });
      const ctx: ConnectorContext = {
        now: Date.now(),
        clock: systemClock,
        baseUrl: 'http://127.0.0.1:3000',
        testStepMs: 0,
        sign: (v) => v,
        http,
        returnUrls: RETURN,
      };
      const outcome = await connector.start(snapshot(paymentId), { fields: {}, validate_mechanism: 'webauth' }, ctx);
      await settleAttempts(store.db, http.calls, outcome);
      return outcome.kind === 'redirect';
    });
    if (next > ids.length) console.warn(`boundary (${dialect}): ran out of the ${PAYMENTS} payments made beforehand; raise BENCH_PAYMENTS`);
    return run;
  } finally {
    await transport.close();
    await drop();
  }
}

const sim = await startSimulator();
const runs: Run[] = [];
try {
  const pgUrl = await reachablePostgres([process.env.BENCH_DATABASE_URL, process.env.TEST_DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres']);
  runs.push(await direct(sim.url));
  runs.push(await boundary(sim.url, 'sqlite', null));
  if (pgUrl) runs.push(await boundary(sim.url, 'postgres', pgUrl));
  const received = (await (await fetch(`${sim.url}/_simulator/received`)).json()) as { initiations: unknown[]; duplicates: { requestIds: string[] } };
  const sent = runs.reduce((n, r) => n + r.latencies.length, 0);
  if (received.duplicates.requestIds.length > 0) throw new Error(`the simulator received ${received.duplicates.requestIds.length} X-Request-IDs twice`);
  console.log(
    `\nBerlin Group initiations against the simulator on 127.0.0.1, ${CONNECTIONS} concurrent, ${SECONDS} s each (${new Date().toISOString().slice(0, 10)}, node ${process.version}); ` +
      `the simulator received ${received.initiations.length} initiations for ${sent} sent, no X-Request-ID twice\n`,
  );
  console.log('| Path | Initiated/s | p50 | p99 | vs direct |');
  console.log('|---|---|---|---|---|');
  const base = runs[0]!.initiated / runs[0]!.seconds;
  for (const r of runs) {
    const rate = r.initiated / r.seconds;
    console.log(
      `| ${r.label} | ${rate.toFixed(0)} | ${percentile(r.latencies, 50).toFixed(1)} ms | ${percentile(r.latencies, 99).toFixed(1)} ms | ${((rate / base) * 100).toFixed(0)}% |`,
    );
  }
} finally {
  await sim.stop();
}
