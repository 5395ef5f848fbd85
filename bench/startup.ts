/**
 * Cold start of `payrail serve` alone: spawn → "listening on" (wall and CPU time of the process),
 * RSS right after and 2 s later (idle), on an existing data folder (a restart). Median of N runs.
 *
 *   node bench/startup.ts [runs=5] [bin…]     # several bins: measured in turn, interleaved, same run
 *   STARTUP_ARGS="--database-url postgres://…" node bench/startup.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
const PAGE = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout.trim() || 4096);
const runs = Number(process.argv[2] ?? 5);
const bins = process.argv.slice(3);
if (!bins.length) bins.push(new URL('../packages/server/bin/payrail.js', import.meta.url).pathname);
const extra = (process.env.STARTUP_ARGS ?? '').split(' ').filter(Boolean);
const dataDir = extra.length ? null : mkdtempSync(join(tmpdir(), 'payrail-startup-'));
const storeArgs = dataDir ? ['--data-dir', dataDir] : extra;

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
function rssMb(pid: number): number {
  return (Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE) / 2 ** 20;
}

async function once(bin: string) {
  const start = performance.now();
  const proc = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1', ...storeArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      if (line.includes('listening on')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  const wall = performance.now() - start;
  const cpu = cpuMs(proc.pid!);
  const rss = rssMb(proc.pid!);
  await new Promise((r) => setTimeout(r, 2000));
  const idle = rssMb(proc.pid!);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  return { wall, cpu, rss, idle };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = new Map<string, Awaited<ReturnType<typeof once>>[]>(bins.map((b) => [b, []]));
try {
  for (const bin of bins) await once(bin); // first start: creates the database, fills the compile cache
  for (let i = 0; i < runs; i++) for (const bin of bins) results.get(bin)!.push(await once(bin));
} finally {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
for (const [bin, rs] of results) {
  const f = (k: keyof (typeof rs)[0], d = 0) => `${median(rs.map((r) => r[k])).toFixed(d)} (${rs.map((r) => r[k].toFixed(d)).join(', ')})`;
  console.log(`${bin}\n  wall ms ${f('wall')}\n  cpu ms  ${f('cpu')}\n  rss MB after listen ${f('rss')}\n  rss MB idle 2 s ${f('idle')}`);
}
