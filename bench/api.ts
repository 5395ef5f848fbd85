/**
 * `npm run bench`: Payrail (`payrail serve`, the real process) against a bare baseline
 * (bare-sqlite.ts: node:http + node:sqlite; bare-pg.ts: node:http + pg) doing the same durable
 * writes and the same reads, on SQLite and on PostgreSQL, in one run. Each server is its own process
 * on 127.0.0.1; autocannon loads one at a time from this process, the baseline then Payrail for each
 * route, so that both see the same machine. Every run asserts zero non-2xx answers and zero errors.
 *
 * Routes: POST /2.0/payments (a unique Idempotency-Key on each, so every creation writes the
 * idempotency row too), GET /2.0/payments/{id}, GET /2.0/payments?limit=50 (over BENCH_SEED
 * payments), POST /2.0/payments/{id}/scopedtoken. Besides throughput and p99, the server's own CPU
 * time per request (from /proc/PID/stat) is printed: it is the figure least disturbed by other
 * load on the machine. Then Payrail's resident memory (idle after start, before any request; the
 * peak during the create run; idle after all the runs; with BENCH_MEMORY_SECONDS, the peak of a
 * server restarted for a create run of that length alone) and its cold start (spawn → "listening").
 * Payrail is started once and stopped before it is measured, as a server that has run before: the
 * first start after an install or upgrade also fills Node's compile cache, which loads the
 * TypeScript stripper (about 0.5 s and 12 MB more, that one time).
 *
 *   npm run bench                                       # 6 s per server and route, 16 connections
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 npm run bench
 *   BENCH_MEMORY_SECONDS=60 npm run bench               # plus a 60 s create run on a fresh server, for peak RSS
 *   BENCH_DIALECTS=sqlite BENCH_ROUTES=create,get npm run bench
 *   BENCH_PAYRAIL_ARGS="--log-level warn --no-jobs" npm run bench   # extra `payrail serve` options (experiments)
 *   BENCH_PAYRAIL_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench   # then bench/top-frames.ts
 *   BENCH_BEFORE_BIN=/tmp/old/packages/server/bin/payrail.js npm run bench  # adds another Payrail build (e.g. an
 *                                                   # earlier commit, from `git archive`) to every route
 *
 * PostgreSQL comes from BENCH_DATABASE_URL, else TEST_DATABASE_URL, else 127.0.0.1:5432 if it
 * answers; each server gets a database of its own, dropped at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';
import { reachablePostgres } from '../packages/server/test/support/stores.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SEED = Number(process.env.BENCH_SEED ?? 200);
const MEMORY_SECONDS = Number(process.env.BENCH_MEMORY_SECONDS ?? 0);
const ROUTES = (process.env.BENCH_ROUTES ?? 'create,get,list,scopedtoken').split(',') as Route[];
const BIN = new URL('../packages/server/bin/payrail.js', import.meta.url).pathname;
const REDIRECT = 'https://merchant.example/payment/return';
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

type Route = 'create' | 'get' | 'list' | 'scopedtoken';
type Dialect = 'sqlite' | 'postgres';

export const paymentBody = JSON.stringify({
  client_redirect_uri: REDIRECT,
  client_state: 'order-0042',
  instructions: [
    {
      label: 'Order 0042',
      amount: 50.9,
      currency: 'EUR',
      execution_date_type: 'first_open_day',
      beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME Corp.' },
      beneficiary_identity: { kind: 'corporate', org_name: 'ACME Corp.', scheme_name: 'siren', identification: '732829320' },
    },
  ],
  payer_identity: { kind: 'individual', first_name: 'Germaine', last_name: 'Michu' },
});

interface Server {
  name: string;
  proc: ChildProcess;
  pid: number;
  base: string;
  token: string;
  paymentId: number;
  startMs: number;
  /** CPU time used from spawn to listening (the part of the cold start that load on the machine does not stretch). */
  startCpuMs: number;
  stop(): Promise<void>;
}

/** CPU time (user + system) the process has used, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => (proc.exitCode !== null || proc.signalCode ? resolve() : proc.once('exit', () => resolve())));
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited(proc);
  clearTimeout(timer);
}

async function call(base: string, method: string, path: string, token: string | null, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body ? { body } : {}),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

async function startBare(dialect: Dialect, target: string): Promise<Server> {
  const script = new URL(dialect === 'sqlite' ? './bare-sqlite.ts' : './bare-pg.ts', import.meta.url).pathname;
  const startMs = performance.now();
  const nodeArgs = (process.env.BENCH_BARE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, script, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`bare ${dialect} exited with ${code}`)));
  });
  const info = JSON.parse(line) as { port: number; token: string; pid: number };
  return {
    name: 'bare',
    proc,
    pid: info.pid,
    base: `http://127.0.0.1:${info.port}`,
    token: info.token,
    paymentId: 0,
    startMs: performance.now() - startMs,
    startCpuMs: 0,
    stop: () => stopProcess(proc),
  };
}

/** `payrail serve` as an operator runs it (log level info, jobs on), logs to a file. */
async function startPayrail(storeArgs: string[], logFile: string, bin = BIN): Promise<Server> {
  const out = openSync(logFile, 'a');
  const offset = statSync(logFile).size;
  const startMs = performance.now();
  const nodeArgs = (process.env.BENCH_PAYRAIL_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const serveArgs = (process.env.BENCH_PAYRAIL_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, bin, 'serve', '--port', '0', '--host', '127.0.0.1', ...serveArgs, ...storeArgs], {
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  let base: string | undefined;
  const until = Date.now() + 30_000;
  while (!base) {
    if (proc.exitCode !== null) throw new Error(`payrail serve exited: ${readFileSync(logFile, 'utf8').slice(-500)}`);
    if (Date.now() > until) throw new Error('payrail serve did not start');
    base = /listening on (http:\/\/\S+)/.exec(
      readFileSync(logFile)
        .subarray(offset)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.includes('listening on'))
        .pop() ?? '',
    )?.[1];
    if (!base) await new Promise((r) => setTimeout(r, 5));
  }
  const elapsed = performance.now() - startMs;
  return {
    name: 'payrail',
    proc,
    pid: proc.pid!,
    base,
    token: '',
    paymentId: 0,
    startMs: elapsed,
    startCpuMs: cpuMs(proc.pid!),
    stop: () => stopProcess(proc),
  };
}

async function payrailClient(storeArgs: string[], bin = BIN): Promise<{ client_id: string; client_secret: string }> {
  const run = spawnSync(process.execPath, [bin, 'client', 'create', '--name', 'Bench', '--redirect-uri', REDIRECT, '--json', ...storeArgs], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`payrail client create failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

async function seed(server: Server): Promise<void> {
  for (let i = 0; i < SEED; i++) {
    const payment = await call(server.base, 'POST', '/2.0/payments', server.token, paymentBody);
    if (i === 0) server.paymentId = payment.id;
  }
}

interface Measure {
  reqPerSec: number;
  p99: number;
  total: number;
  cpuPerReq: number;
  peakRssMb: number;
}

async function load(server: Server, route: Route, seconds = SECONDS): Promise<Measure> {
  const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  const requests: Record<Route, Record<string, unknown>> = {
    create: {
      method: 'POST',
      path: '/2.0/payments',
      headers: auth,
      body: paymentBody,
      setupRequest: (request: { headers: Record<string, string> }) => ({
        ...request,
        headers: { ...request.headers, 'idempotency-key': randomBytes(12).toString('hex') },
      }),
    },
    get: { method: 'GET', path: `/2.0/payments/${server.paymentId}`, headers: auth },
    list: { method: 'GET', path: '/2.0/payments?limit=50', headers: auth },
    scopedtoken: { method: 'POST', path: `/2.0/payments/${server.paymentId}/scopedtoken`, headers: auth, body: JSON.stringify({ scope: 'payments:validate' }) },
  };
  let peakRssMb = rssMb(server.pid);
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(server.pid))), 200);
  const cpuBefore = cpuMs(server.pid);
  const result = await autocannon({ url: server.base, connections: CONNECTIONS, duration: seconds, requests: [requests[route]] });
  const cpu = cpuMs(server.pid) - cpuBefore;
  clearInterval(sampler);
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${server.name} ${route}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return {
    reqPerSec: result.requests.total / result.duration,
    p99: result.latency.p99,
    total: result.requests.total,
    cpuPerReq: cpu / result.requests.total,
    peakRssMb,
  };
}

async function pgDatabase(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `payrail_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const own = new URL(url);
  own.pathname = `/${name}`;
  return {
    url: own.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const LABEL: Record<Route, string> = {
  create: 'POST /2.0/payments',
  get: 'GET /2.0/payments/{id}',
  list: 'GET /2.0/payments?limit=50',
  scopedtoken: 'POST /2.0/payments/{id}/scopedtoken',
};

interface DialectResult {
  rows: string[];
  memory: string[];
  before: string[];
}
const BEFORE_BIN = process.env.BENCH_BEFORE_BIN ?? '';

async function benchDialect(dialect: Dialect, pgUrl: string | null): Promise<DialectResult> {
  const cleanups: (() => Promise<void>)[] = [];
  const servers: Server[] = [];
  try {
    let bareTarget: string;
    let storeArgs: string[];
    const dir = mkdtempSync(join(tmpdir(), 'payrail-bench-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    if (dialect === 'sqlite') {
      bareTarget = join(dir, 'bare');
      storeArgs = ['--data-dir', join(dir, 'payrail')];
    } else {
      const bareDb = await pgDatabase(pgUrl!);
      const payrailDb = await pgDatabase(pgUrl!);
      cleanups.push(bareDb.drop, payrailDb.drop);
      bareTarget = bareDb.url;
      storeArgs = ['--database-url', payrailDb.url];
    }
    const bare = await startBare(dialect, bareTarget);
    servers.push(bare);
    const credentials = await payrailClient(storeArgs);
    const logFile = join(dir, 'payrail.log');
    // A server that has run before (see the header): fills the compile cache on a fresh clone.
    await (await startPayrail(storeArgs, logFile)).stop();
    let payrail = await startPayrail(storeArgs, logFile);
    servers.push(payrail);
    await new Promise((r) => setTimeout(r, 1000));
    const idleBefore = rssMb(payrail.pid);
    const adminToken = async (server: Server) =>
      (await call(server.base, 'POST', '/2.0/auth/token', null, JSON.stringify({ grant_type: 'client_credentials', ...credentials, scope: 'payments:admin' })))
        .token as string;
    payrail.token = await adminToken(payrail);
    let before: Server | null = null;
    if (BEFORE_BIN) {
      const beforeArgs =
        dialect === 'sqlite'
          ? ['--data-dir', join(dir, 'before')]
          : [
              '--database-url',
              await (async () => {
                const db = await pgDatabase(pgUrl!);
                cleanups.push(db.drop);
                return db.url;
              })(),
            ];
      const beforeCredentials = await payrailClient(beforeArgs, BEFORE_BIN);
      before = await startPayrail(beforeArgs, join(dir, 'before.log'), BEFORE_BIN);
      servers.push(before);
      before.token = (
        await call(
          before.base,
          'POST',
          '/2.0/auth/token',
          null,
          JSON.stringify({ grant_type: 'client_credentials', ...beforeCredentials, scope: 'payments:admin' }),
        )
      ).token;
      await seed(before);
    }
    await seed(bare);
    await seed(payrail);
    const beforeRows: string[] = [];

    const rows: string[] = [];
    const name = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    let createPeak = 0;
    for (const route of ROUTES) {
      const b = await load(bare, route);
      const p = await load(payrail, route);
      if (route === 'create') createPeak = p.peakRssMb;
      if (before) {
        const o = await load(before, route);
        beforeRows.push(
          `| ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${LABEL[route]} | ${o.reqPerSec.toFixed(0)} | ${o.p99} ms | ${o.cpuPerReq.toFixed(2)} ms | ` +
            `${p.reqPerSec.toFixed(0)} | ${p.p99} ms | ${p.cpuPerReq.toFixed(2)} ms | ${(o.reqPerSec / b.reqPerSec).toFixed(2)} → ${(p.reqPerSec / b.reqPerSec).toFixed(2)} |`,
        );
      }
      rows.push(
        `| ${name} | ${LABEL[route]} | ${p.reqPerSec.toFixed(0)} | ${p.p99} ms | ${p.cpuPerReq.toFixed(2)} ms | ${b.reqPerSec.toFixed(0)} | ${b.p99} ms | ` +
          `${b.cpuPerReq.toFixed(2)} ms | **${(p.reqPerSec / b.reqPerSec).toFixed(2)}** | ${(p.p99 / Math.max(b.p99, 1)).toFixed(1)}× | ${(b.cpuPerReq / p.cpuPerReq).toFixed(2)} |`,
      );
      console.error(
        `${name} ${route}: payrail ${p.reqPerSec.toFixed(0)}/s p99 ${p.p99} ms (${p.total}), bare ${b.reqPerSec.toFixed(0)}/s p99 ${b.p99} ms (${b.total})`,
      );
    }
    await bare.stop();
    servers.splice(servers.indexOf(bare), 1);
    if (before) {
      await before.stop();
      servers.splice(servers.indexOf(before), 1);
    }

    await new Promise((r) => setTimeout(r, 2000));
    const idleAfter = rssMb(payrail.pid);
    await payrail.stop();
    servers.splice(servers.indexOf(payrail), 1);
    // Cold start: spawn → listening, on the existing database (a restart), three times.
    const starts: number[] = [];
    const startCpu: number[] = [];
    for (let i = 0; i < 3; i++) {
      payrail = await startPayrail(storeArgs, logFile);
      starts.push(payrail.startMs);
      startCpu.push(payrail.startCpuMs);
      await payrail.stop();
    }
    starts.sort((a, b) => a - b);
    startCpu.sort((a, b) => a - b);
    // The long create run on a server restarted for it alone, so that it measures creation only.
    let longRun = '';
    if (MEMORY_SECONDS > 0) {
      payrail = await startPayrail(storeArgs, logFile);
      servers.push(payrail);
      payrail.token = await adminToken(payrail);
      const m = await load(payrail, 'create', MEMORY_SECONDS);
      longRun = `; ${m.peakRssMb.toFixed(0)} MB over a ${MEMORY_SECONDS} s create run of a fresh server (${m.total} payments, ${m.reqPerSec.toFixed(0)}/s)`;
      await payrail.stop();
      servers.splice(servers.indexOf(payrail), 1);
    }
    const memory = [
      `| ${name} | ${idleBefore.toFixed(0)} MB | ${createPeak.toFixed(0)} MB${longRun} | ${idleAfter.toFixed(0)} MB | ${starts[1]!.toFixed(0)} ms (${starts.map((s) => s.toFixed(0)).join(', ')}) | ${startCpu[1]!.toFixed(0)} ms |`,
    ];
    return { rows, memory, before: beforeRows };
  } finally {
    for (const server of servers) await server.stop().catch(() => {});
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

const url = await reachablePostgres([process.env.BENCH_DATABASE_URL, process.env.TEST_DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres']);
const wanted = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Dialect[];
const dialects = wanted.filter((d) => d === 'sqlite' || url);
if (!url && wanted.includes('postgres')) console.warn('No PostgreSQL reachable: measuring SQLite only.');
const results: DialectResult[] = [];
for (const dialect of dialects) results.push(await benchDialect(dialect, url));

console.log(
  `\n${CONNECTIONS} connections, ${SECONDS} s per server and route, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, node ${process.version}, ${SEED} payments seeded\n`,
);
console.log(
  '| Database | Route | Payrail req/s | Payrail p99 | Payrail CPU/req | Bare req/s | Bare p99 | Bare CPU/req | Payrail / bare (req/s) | p99 vs bare | Bare CPU / Payrail CPU |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) for (const row of r.rows) console.log(row);
console.log('\n`payrail serve` resident memory and cold start (spawn → listening, restart on an existing database; median of 3)\n');
console.log('| Database | RSS idle after start (no request yet) | RSS peak during create | RSS idle after the runs | Cold start (wall) | Cold start (CPU) |');
console.log('|---|---|---|---|---|---|');
for (const r of results) for (const row of r.memory) console.log(row);
if (BEFORE_BIN) {
  console.log(`\nBefore (${BEFORE_BIN}) and now, same run\n`);
  console.log('| Database | Route | Before req/s | Before p99 | Before CPU/req | Now req/s | Now p99 | Now CPU/req | Ratio to bare, before → now |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) for (const row of r.before) console.log(row);
}
