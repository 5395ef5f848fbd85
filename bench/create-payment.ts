/**
 * Benchmark of POST /2.0/payments against a baseline Fastify route that writes the same rows with
 * no authentication or validation, on SQLite and on PostgreSQL, in one run.
 *
 *   npm run bench                      # 10 s per server, 10 connections
 *   BENCH_SECONDS=5 npm run bench
 *
 * Each server runs in its own process on 127.0.0.1; autocannon loads it from this process for a
 * bounded time. PostgreSQL comes from BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local
 * server on 127.0.0.1:5432 if it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { reachablePostgres } from '../packages/server/test/stores.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SERVER = new URL('./server.ts', import.meta.url).pathname;

const body = JSON.stringify({
  client_redirect_uri: 'https://merchant.example/payment/return',
  client_state: 'order-0042',
  instructions: [{
    label: 'Order 0042', amount: 50.9, currency: 'EUR', execution_date_type: 'first_open_day',
    beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME Corp.' },
    beneficiary_identity: { kind: 'corporate', org_name: 'ACME Corp.', scheme_name: 'siren', identification: '732829320' },
  }],
  payer_identity: { kind: 'individual', first_name: 'Germaine', last_name: 'Michu' },
});

async function startServer(mode: string, dialect: string, url: string | null): Promise<{ child: ChildProcess; port: number; token: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'payrail-bench-'));
  const child = spawn(process.execPath, [SERVER, mode, dialect, dir], {
    env: { ...process.env, BENCH_DATABASE_URL: url ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode}/${dialect} did not start`)), 30_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`${mode}/${dialect} exited with ${code}`)));
  });
  return { child, dir, ...(JSON.parse(line) as { port: number; token: string }) };
}

async function measure(mode: 'payrail' | 'baseline', dialect: 'sqlite' | 'postgres', url: string | null) {
  const server = await startServer(mode, dialect, url);
  try {
    const result = await autocannon({
      url: `http://127.0.0.1:${server.port}/2.0/payments`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
      body,
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${mode}/${dialect}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    return { reqPerSec: result.requests.average, p99: result.latency.p99, total: result.requests.total };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    rmSync(server.dir, { recursive: true, force: true });
  }
}

const url = await reachablePostgres([process.env.BENCH_DATABASE_URL, process.env.TEST_DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres']);
const dialects: ('sqlite' | 'postgres')[] = url ? ['sqlite', 'postgres'] : ['sqlite'];
if (!url) console.warn('No PostgreSQL reachable: measuring SQLite only.');
const rows: string[] = [];
for (const dialect of dialects) {
  const baseline = await measure('baseline', dialect, url);
  const payrail = await measure('payrail', dialect, url);
  const ratio = (payrail.reqPerSec / baseline.reqPerSec) * 100;
  rows.push(
    `| ${dialect === 'sqlite' ? 'SQLite (node:sqlite, WAL, synchronous=FULL)' : 'PostgreSQL 15 (local)'} | ${payrail.reqPerSec.toFixed(0)} | ${payrail.p99} ms | ` +
      `${baseline.reqPerSec.toFixed(0)} | ${baseline.p99} ms | ${ratio.toFixed(0)}% |`,
  );
}
console.log(`\nPOST /2.0/payments, ${CONNECTIONS} connections, ${SECONDS} s per server, ${new Date().toISOString().slice(0, 10)}, node ${process.version}\n`);
console.log('| Database | Payrail req/s | Payrail p99 | Baseline req/s | Baseline p99 | Payrail / baseline |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
