/**
 * Where a validation's time goes inside a `payrail serve` under bench:banks (BENCH_PHASES=1): loaded
 * with `node --import`, it follows each POST from its arrival (node:http's diagnostics channel) to its
 * first bank request (undici's), that request's answer, and the answer sent back, and keeps the gaps
 * between arrivals. On SIGUSR2 it prints, since the last signal, one line `payrail-bench-phases
 * {json}` on stderr: each phase's mean and percentiles (ms) and how many arrivals came within
 * 0.5 ms of the one before (a burst) or more than 8 ms after it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';

interface Trace {
  start: number;
  sent?: number;
  answered?: number;
}
const current = new AsyncLocalStorage<Trace>();
const traces = new WeakMap<object, Trace>();
const phases = { before: [] as number[], bank: [] as number[], after: [] as number[], total: [] as number[] };
let arrivals: number[] = [];

dc.subscribe('http.server.request.start', (message) => {
  const { request, response } = message as { request: { method?: string }; response: object };
  if (request.method !== 'POST') return;
  const trace: Trace = { start: performance.now() };
  arrivals.push(trace.start);
  traces.set(response, trace);
  current.enterWith(trace); // the handler runs in this context: its bank request finds the trace
});
dc.subscribe('undici:request:create', (message) => {
  const trace = current.getStore();
  if (trace && trace.sent === undefined) {
    trace.sent = performance.now();
    traces.set((message as { request: object }).request, trace);
  }
});
dc.subscribe('undici:request:headers', (message) => {
  const trace = traces.get((message as { request: object }).request);
  if (trace && trace.answered === undefined) trace.answered = performance.now();
});
dc.subscribe('http.server.response.finish', (message) => {
  const trace = traces.get((message as { response: object }).response);
  if (!trace || trace.sent === undefined || trace.answered === undefined) return;
  const now = performance.now();
  phases.before.push(trace.sent - trace.start);
  phases.bank.push(trace.answered - trace.sent);
  phases.after.push(now - trace.answered);
  phases.total.push(now - trace.start);
});

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN) * 10) / 10;
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return { mean: Math.round(mean * 10) / 10, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

process.on('SIGUSR2', () => {
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
  const figures = {
    validations: phases.total.length,
    before_bank_call: summary(phases.before),
    bank_call: summary(phases.bank),
    after_bank_call: summary(phases.after),
    total: summary(phases.total),
    arrivals_within_0_5_ms: gaps.filter((g) => g < 0.5).length,
    arrivals_after_8_ms: gaps.filter((g) => g > 8).length,
  };
  process.stderr.write(`payrail-bench-phases ${JSON.stringify(figures)}\n`);
  for (const list of Object.values(phases)) list.length = 0;
  arrivals = [];
});
