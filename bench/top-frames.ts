/**
 * The top frames of a V8 CPU profile (`node --cpu-prof`), by self time and by total time, and the
 * share of time under a few code areas (query builder, SQLite/pg, Fastify, JSON, validation).
 *
 *   node bench/top-frames.ts PROFILE.cpuprofile [N] [FUNCTION]
 *
 * With FUNCTION (e.g. validatePayment), only the samples from the first one with that function on
 * its stack onwards count: the measured phase of a bench, without its set-up (bench:banks creates
 * its payments first).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const top = Number(process.argv[3] ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const after = process.argv[4];
const onStack = (id: number, name: string) => {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)!.callFrame.functionName === name) return true;
  return false;
};
const first = after ? profile.samples.findIndex((id) => onStack(id, after)) : 0;
if (first < 0) throw new Error(`no sample has ${after} on its stack`);
const selfTime = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) if (i >= first) selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));

const label = (n: Node) => {
  const url = n.callFrame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^.*packages\/server\//, '')
    .replace(/^file:\/\//, '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
};
const AREAS: [string, RegExp][] = [
  ['kysely: building and compiling queries', /kysely\/dist\/(query-compiler|operation-node|query-builder|parser|expression|query-creator|dynamic|util)/],
  ['kysely: executor, driver, transactions', /kysely\/dist\/(query-executor|driver|dialect|kysely\.js)/],
  ['store/sqlite / node:sqlite', /store\/sqlite\/|node:sqlite/],
  ['pg', /node_modules\/pg/],
  ['fastify / find-my-way / avvio', /fastify|find-my-way|light-my-request|avvio/],
  ['ajv (validation)', /ajv/],
  ['pino (logging)', /pino|sonic-boom/],
  ['payrail src', /packages\/server\/src/],
];
const self = new Map<string, number>();
const total = new Map<string, number>();
const areas = new Map<string, number>();
let all = 0;
let idle = 0;
for (const [id, t] of selfTime) {
  const n = byId.get(id)!;
  all += t;
  if (['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName)) {
    if (n.callFrame.functionName === '(idle)') idle += t;
  }
  self.set(label(n), (self.get(label(n)) ?? 0) + t);
  const seen = new Set<string>();
  const seenArea = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const node = byId.get(cur)!;
    const l = label(node);
    if (!seen.has(l)) {
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + t);
    }
    for (const [area, re] of AREAS)
      if (re.test(node.callFrame.url) && !seenArea.has(area)) {
        seenArea.add(area);
        areas.set(area, (areas.get(area) ?? 0) + t);
      }
  }
}
const busy = all - idle;
const pct = (t: number) => `${((t / busy) * 100).toFixed(1)}%`.padStart(6);
console.log(`busy ${(busy / 1000).toFixed(0)} ms of ${(all / 1000).toFixed(0)} ms sampled (idle excluded from the shares)\n\nby area (inclusive):`);
for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`${pct(t)}  ${a}`);
console.log('\nself time:');
for (const [l, t] of [...self]
  .filter(([l]) => !l.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`${pct(t)}  ${l}`);
console.log('\ntotal time:');
for (const [l, t] of [...total]
  .filter(([l]) => !l.startsWith('(idle)') && !l.startsWith('(root)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`${pct(t)}  ${l}`);
