/**
 * Initiation throughput through the bank boundary, as a merchant sees it. In one run, against one
 * `payrail bank simulate --standard berlin-group` process answering every call in BENCH_LATENCY_MS
 * (50 ms by default, a latency fault on every call):
 *
 * - direct: BENCH_PAYMENTS bare initiation requests to the simulator (undici, keep-alive, the
 *   connector's headers and body shape), BENCH_CONNECTIONS concurrent payers;
 * - through Payrail: a real `payrail serve` process (SQLite in a temporary folder, then PostgreSQL
 *   in a new database) with the simulator added as a bank; BENCH_PAYMENTS payments created
 *   beforehand, then each validated with `POST /2.0/payments/{id}` by the same number of
 *   concurrent payers (the merchant's keep-alive client, one token). Each answer must be the
 *   payment `validating` with action `redirect`.
 *
 * Afterwards it checks with the simulator that no initiation was received twice. BENCH_ROUNDS
 * repeats the whole sequence (direct, SQLite, PostgreSQL) to show the noise of a shared machine.
 * BENCH_CPU_PROF=DIR starts each `serve` with `node --cpu-prof --cpu-prof-dir DIR`. For each
 * `serve` it prints the CPU time it spent (user + system, from /proc) per validation during the
 * measure; BENCH_COUNT=1 also loads bench/count-statements.ts into it and prints the SQL statements
 * it sent per validation (each one a round trip on PostgreSQL), by statement. It also prints the CPU
 * time per initiation of every process on the path (this client, the simulator, `serve`, and
 * `serve`'s PostgreSQL backends, from /proc): on a 2-core machine each one's share limits the others.
 * BENCH_LOOP=1 loads bench/loop-probe.ts into `serve` and prints its event-loop delay and garbage
 * collection pauses during the measure; BENCH_PHASES=1 loads bench/phase-probe.ts and prints where a
 * validation's time goes inside `serve` (before its bank call, the call, after it) and how bunched
 * the validations arrive.
 *
 *   npm run bench:banks     (BENCH_PAYMENTS, BENCH_CONNECTIONS, BENCH_LATENCY_MS, BENCH_ROUNDS,
 *                            BENCH_DATABASE_URL, BENCH_PG_POOL_SIZE (24), BENCH_SERVE_ARGS to change;
 *                            BENCH_BEFORE_BIN=/tmp/before/packages/server/bin/payrail.js: an earlier
 *                            build's serve measured beside this one, on its own database, first in
 *                            odd rounds and second in even ones)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { reachablePostgres } from '../packages/server/test/support/stores.ts';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 1500);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const CPU_PROF = process.env.BENCH_CPU_PROF ?? null;
/** PostgreSQL: connections each serve keeps (`--database-pool-size`): the 16 payers, status sync and webhooks without waiting for one. */
const PG_POOL = process.env.BENCH_PG_POOL_SIZE ?? '24';
const BANK_ARGS = (process.env.BENCH_BANK_ARGS ?? '').split(/\s+/).filter(Boolean);
const ONLY = process.env.BENCH_ONLY ?? null;
const SERVE_ARGS = (process.env.BENCH_SERVE_ARGS ?? '').split(/\s+/).filter(Boolean);
const COUNT = process.env.BENCH_COUNT === '1';
const COUNTER = new URL('./count-statements.ts', import.meta.url).pathname;
const LOOP = process.env.BENCH_LOOP === '1';
const LOOP_PROBE = new URL('./loop-probe.ts', import.meta.url).pathname;
const PHASES = process.env.BENCH_PHASES === '1';
const PHASE_PROBE = new URL('./phase-probe.ts', import.meta.url).pathname;
const BIN = new URL('../packages/server/bin/payrail.js', import.meta.url).pathname;
/** An earlier build's bin/payrail.js: its `serve` is measured too, beside this one, on a database of its own (same-run A/B). */
const BEFORE_BIN = process.env.BENCH_BEFORE_BIN ?? null;
const DEBTOR = 'DE02100100109307118603';
const CREDITOR = 'FR7630006000011234567890189';
const REDIRECT = 'https://merchant.example/payment/return';

interface Run {
  label: string;
  ok: number;
  failed: number;
  seconds: number;
  latencies: number[];
  /** Of the `serve` process during the measure: CPU ms per validation, statements per validation by statement. */
  cpuMsPer?: number;
  statements?: Record<string, number>;
  /** CPU ms per initiation of every process on the path during the measure: the bench's client, the simulator, serve, serve's PostgreSQL backends. */
  cpu?: { client: number; simulator: number; serve?: number; postgres?: number };
  /** BENCH_LOOP=1: serve's event-loop delay (ms) and garbage-collection pauses during the measure. */
  loop?: Record<string, number>;
  /** BENCH_PHASES=1: the phases of a validation inside serve (ms) and the bunching of arrivals. */
  phases?: Record<string, unknown>;
}

/** User + system CPU time of a process so far, in ms (Linux /proc). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
}

/** This process's CPU time so far, in ms. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU ms so far of each PostgreSQL backend connected to database `name`, by pid. */
async function backendCpu(adminUrl: string, name: string): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [name]);
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        out.set(pid, cpuMs(pid));
      } catch {
        // gone, or not on this machine
      }
    }
    return out;
  } finally {
    await client.end();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Spawns `payrail …` and resolves with the first match of `pattern` in its output. */
async function startProcess(
  args: string[],
  pattern: RegExp,
  nodeArgs: string[] = [],
  bin = BIN,
): Promise<{ proc: ChildProcess; match: string; output(): string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [...nodeArgs, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const match = await new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      const m = pattern.exec(output);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', look);
    proc.stderr!.on('data', look);
    proc.once('exit', (code) => reject(new Error(`payrail ${args[0]} exited (${code}): ${output}`)));
    setTimeout(() => reject(new Error(`payrail ${args[0]} did not start in 60 s: ${output}`)), 60_000).unref();
  });
  return {
    proc,
    match,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

function cli(args: string[], bin = BIN): any {
  const result = spawnSync(process.execPath, [bin, ...args, '--json'], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`payrail ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Runs `work(i)` for i in 0..count-1 on CONNECTIONS concurrent loops. */
async function measure(label: string, count: number, work: (i: number) => Promise<boolean>): Promise<Run> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        const good = await work(i).catch(() => false);
        latencies.push(performance.now() - t0);
        if (good) ok += 1;
        else failed += 1;
      }
    }),
  );
  return { label, ok, failed, seconds: (performance.now() - started) / 1000, latencies };
}

async function direct(simUrl: string, simPid: number): Promise<Run> {
  const dispatcher = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 10_000 });
  const body = JSON.stringify({
    endToEndIdentification: 'bench',
    debtorAccount: { iban: DEBTOR },
    instructedAmount: { currency: 'EUR', amount: '10.00' },
    creditorAccount: { iban: CREDITOR },
    creditorName: 'ACME',
    remittanceInformationUnstructured: 'Bench',
  });
  const client0 = ownCpuMs();
  const sim0 = cpuMs(simPid);
  try {
    const run = await measure('direct', PAYMENTS, async () => {
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
          'TPP-Redirect-URI': 'http://127.0.0.1:3000/2.0/bank-return/ok',
          'TPP-Nok-Redirect-URI': 'http://127.0.0.1:3000/2.0/bank-return/nok',
        },
      });
      await response.body.json();
      return response.statusCode === 201;
    });
    run.cpu = { client: (ownCpuMs() - client0) / PAYMENTS, simulator: (cpuMs(simPid) - sim0) / PAYMENTS };
    return run;
  } finally {
    await dispatcher.close();
  }
}

interface Database {
  label: string;
  args: string[];
  /** PostgreSQL: the database's name and an admin URL, to find its backends. */
  postgres?: { adminUrl: string; name: string };
  serveArgs?: string[];
  cleanup(): Promise<void>;
}

function sqliteDatabase(): Database {
  const dir = mkdtempSync(join(tmpdir(), 'payrail-bench-banks-'));
  return { label: 'SQLite', args: ['--data-dir', dir], cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function postgresDatabase(adminUrl: string): Promise<Database> {
  const name = `payrail_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    label: 'PostgreSQL',
    args: ['--database-url', url.toString()],
    serveArgs: ['--database-pool-size', PG_POOL],
    postgres: { adminUrl, name },
    cleanup: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`),
  };
}

/** A real `payrail serve` on `db` with the simulator as a bank: PAYMENTS payments made, then validated through the API. */
async function throughPayrail(simUrl: string, simPid: number, db: Database, round: number, bin = BIN): Promise<Run> {
  const label = `Payrail${bin === BIN ? '' : ' before'} (${db.label})`;
  const bank = cli(
    ['bank', 'add', '--standard', 'berlin-group', '--name', 'Simulator', '--base-url', simUrl, '--country', 'DE', ...BANK_ARGS, ...db.args],
    bin,
  );
  const client = cli(['client', 'create', '--name', 'Bench shop', '--redirect-uri', REDIRECT, ...db.args], bin);
  const nodeArgs = [
    ...(CPU_PROF
      ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF, '--cpu-prof-name', `serve-${bin === BIN ? '' : 'before-'}${db.label}-${round}-${Date.now()}.cpuprofile`]
      : []),
    ...(COUNT ? ['--import', COUNTER] : []),
    ...(LOOP ? ['--import', LOOP_PROBE] : []),
    ...(PHASES ? ['--import', PHASE_PROBE] : []),
  ];
  const serve = await startProcess(
    ['serve', '--port', '0', '--log-level', 'error', ...(db.serveArgs ?? []), ...SERVE_ARGS, ...db.args],
    /listening on (http:\/\/\S+)/,
    nodeArgs,
    bin,
  );
  const base = serve.match;
  const dispatcher = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 10_000 });
  const call = async (method: string, path: string, body: unknown, token?: string) => {
    const response = await request(`${base}${path}`, {
      method: method as 'POST',
      dispatcher,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, any> };
  };
  try {
    const minted = await call('POST', '/2.0/auth/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
      scope: 'payments:admin',
    });
    const token = minted.json.token as string;
    const ids: number[] = [];
    const payment = {
      client_redirect_uri: REDIRECT,
      instructions: [
        {
          label: 'Bench',
          amount: '10.00',
          currency: 'EUR',
          execution_date_type: 'instant',
          beneficiary: { scheme_name: 'iban', identification: CREDITOR, label: 'ACME' },
        },
      ],
    };
    // The payments exist before the measure starts (their creation is bench:api's subject).
    let made = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (made < PAYMENTS) {
          made++;
          const created = await call('POST', '/2.0/payments', payment, token);
          if (created.status !== 200) throw new Error(`payment creation answered ${created.status}: ${JSON.stringify(created.json)}`);
          ids.push(created.json.id);
        }
      }),
    );
    const validate = { connector_uuid: bank.uuid, webview_url: 'https://merchant.example/own', payer: { scheme_name: 'iban', identification: DEBTOR } };
    const statuses = new Map<number, number>();
    const counts = async (): Promise<Record<string, number>> => {
      if (!COUNT) return {};
      const seen = serve.output().length;
      serve.proc.kill('SIGUSR2');
      for (let waited = 0; waited < 5000; waited += 20) {
        const m = /payrail-bench-counts (\{.*\})\n/.exec(serve.output().slice(seen));
        if (m) return JSON.parse(m[1]!);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('serve did not print its statement counts');
    };
    /** One SIGUSR2: the line each loaded probe prints, `payrail-bench-<name> {json}`, by name (bench/count-statements.ts prints its counts too). */
    const probed = [...(LOOP ? ['loop'] : []), ...(PHASES ? ['phases'] : [])];
    const probe = async (): Promise<Record<string, any>> => {
      if (probed.length === 0) return {};
      const seen = serve.output().length;
      serve.proc.kill('SIGUSR2');
      for (let waited = 0; waited < 5000; waited += 20) {
        const found = probed.map((name) => new RegExp(`payrail-bench-${name} (\\{.*\\})\\n`).exec(serve.output().slice(seen)));
        if (found.every(Boolean)) return Object.fromEntries(probed.map((name, i) => [name, JSON.parse(found[i]![1]!)]));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`serve did not print its ${probed.join(' and ')} figures`);
    };
    const countsBefore = await counts();
    await probe(); // resets the histogram: the measure's alone
    const backends0 = db.postgres ? await backendCpu(db.postgres.adminUrl, db.postgres.name) : null;
    const client0 = ownCpuMs();
    const sim0 = cpuMs(simPid);
    const cpuBefore = cpuMs(serve.proc.pid!);
    const run = await measure(label, ids.length, async (i) => {
      const answer = await call('POST', `/2.0/payments/${ids[i]}`, validate, token);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status !== 200 && statuses.get(answer.status) === 1) console.warn(JSON.stringify(answer.json));
      return answer.status === 200 && answer.json.state === 'validating' && answer.json.action === 'redirect';
    });
    run.cpuMsPer = (cpuMs(serve.proc.pid!) - cpuBefore) / ids.length;
    run.cpu = { client: (ownCpuMs() - client0) / ids.length, simulator: (cpuMs(simPid) - sim0) / ids.length, serve: run.cpuMsPer };
    if (db.postgres && backends0) {
      // Backends opened during the measure count from their start.
      const backends1 = await backendCpu(db.postgres.adminUrl, db.postgres.name);
      let total = 0;
      for (const [pid, ms] of backends1) total += ms - (backends0.get(pid) ?? 0);
      run.cpu.postgres = total / ids.length;
    }
    const probes = await probe();
    run.loop = probes.loop;
    run.phases = probes.phases;
    if (COUNT) {
      const after = await counts();
      run.statements = Object.fromEntries(
        Object.entries(after)
          .map(([k, n]) => [k, (n - (countsBefore[k] ?? 0)) / ids.length] as const)
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1]),
      );
    }
    if (run.failed > 0) console.warn(`${run.label}: ${run.failed} validations failed; answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
    return run;
  } finally {
    await dispatcher.close();
    await serve.stop();
  }
}

const sim = await startProcess(
  ['bank', 'simulate', '--standard', 'berlin-group', '--port', '0', '--settle-seconds', '600'],
  /listening on (http:\/\/127\.0\.0\.1:\d+)/,
);
const simUrl = sim.match;
const control = (method: string, path: string, body?: unknown) =>
  fetch(`${simUrl}/_simulator${path}`, { method, headers: { 'Content-Type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
const runs: Run[][] = [];
try {
  if (LATENCY_MS > 0) await control('POST', '/faults', { kind: 'latency', latencyMs: LATENCY_MS, times: 0 });
  const pgUrl = await reachablePostgres([process.env.BENCH_DATABASE_URL, process.env.TEST_DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres']);
  if (!pgUrl) console.warn('no PostgreSQL reachable (BENCH_DATABASE_URL): SQLite only');
  for (let round = 1; round <= ROUNDS; round++) {
    const row: Run[] = [await direct(simUrl, sim.proc.pid!)];
    for (const make of [
      ...(ONLY !== 'postgres' ? [async () => sqliteDatabase()] : []),
      ...(pgUrl && ONLY !== 'sqlite' ? [() => postgresDatabase(pgUrl)] : []),
    ]) {
      // Same-run A/B: the earlier build first in odd rounds, this one first in even rounds, so that a
      // trend of the machine's load during a round does not favour one of them.
      for (const bin of BEFORE_BIN ? (round % 2 === 1 ? [BEFORE_BIN, BIN] : [BIN, BEFORE_BIN]) : [BIN]) {
        const db = await make();
        try {
          row.push(await throughPayrail(simUrl, sim.proc.pid!, db, round, bin));
        } finally {
          await db.cleanup();
        }
      }
    }
    runs.push(row);
  }
  const received = (await (await control('GET', '/received')).json()) as { initiations: unknown[]; duplicates: { requestIds: string[] } };
  const sent = runs.flat().reduce((n, r) => n + r.ok + r.failed, 0);
  if (received.duplicates.requestIds.length > 0) throw new Error(`the simulator received ${received.duplicates.requestIds.length} X-Request-IDs twice`);
  console.log(
    `\nBerlin Group initiations against the simulator on 127.0.0.1 answering in ${LATENCY_MS} ms, ${PAYMENTS} per path, ${CONNECTIONS} concurrent payers ` +
      `(${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}); ` +
      `the simulator received ${received.initiations.length} initiations for ${sent} sent, no X-Request-ID twice\n`,
  );
  console.log('| Round | Path | Initiated/s | mean | p50 | p99 | failed | vs direct | serve CPU per validation |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [i, row] of runs.entries()) {
    const base = row[0]!.ok / row[0]!.seconds;
    for (const r of row) {
      const rate = r.ok / r.seconds;
      console.log(
        `| ${i + 1} | ${r.label} | ${rate.toFixed(0)} | ${(r.latencies.reduce((a, b) => a + b, 0) / r.latencies.length).toFixed(1)} ms | ${percentile(r.latencies, 50).toFixed(1)} ms | ${percentile(r.latencies, 99).toFixed(1)} ms | ${r.failed} | ${(rate / base).toFixed(2)} | ${r.cpuMsPer === undefined ? '' : `${r.cpuMsPer.toFixed(2)} ms`} |`,
      );
    }
  }
  console.log('\nCPU ms per initiation, by process (the machine has 2 cores; the bench client is this process):\n');
  console.log('| Round | Path | client | simulator | serve | PostgreSQL backends | total |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [i, row] of runs.entries()) {
    for (const r of row) {
      if (!r.cpu) continue;
      const { client, simulator, serve, postgres } = r.cpu;
      const total = client + simulator + (serve ?? 0) + (postgres ?? 0);
      const ms = (v: number | undefined) => (v === undefined ? '' : v.toFixed(2));
      console.log(`| ${i + 1} | ${r.label} | ${ms(client)} | ${ms(simulator)} | ${ms(serve)} | ${ms(postgres)} | ${ms(total)} |`);
    }
  }
  if (LOOP) {
    console.log('\nserve during the measure (BENCH_LOOP=1): event-loop delay and garbage collection\n');
    for (const [i, row] of runs.entries()) for (const r of row) if (r.loop) console.log(`Round ${i + 1}, ${r.label}: ${JSON.stringify(r.loop)}`);
  }
  if (PHASES) {
    console.log('\nA validation inside serve (BENCH_PHASES=1, ms): before its bank call, the call, after it; arrivals bunched or spread\n');
    for (const [i, row] of runs.entries()) for (const r of row) if (r.phases) console.log(`Round ${i + 1}, ${r.label}: ${JSON.stringify(r.phases)}`);
  }
  for (const [i, row] of runs.entries()) {
    for (const r of row) {
      if (!r.statements) continue;
      const total = Object.values(r.statements).reduce((a, b) => a + b, 0);
      console.log(`\nRound ${i + 1}, ${r.label}: ${total.toFixed(1)} statements per validation`);
      for (const [sql, n] of Object.entries(r.statements)) console.log(`  ${n.toFixed(2)}  ${sql}`);
    }
  }
} finally {
  await sim.stop();
}
