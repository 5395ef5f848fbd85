/**
 * The event loop of a `payrail serve` process under a bench (bench/bank-boundary.ts, BENCH_LOOP=1):
 * loaded with `node --import`, it keeps a histogram of the event loop's delay (perf_hooks, 1 ms
 * resolution) and the garbage collector's pauses, and on SIGUSR2 prints them since the last signal
 * as one line `payrail-bench-loop {json}` on stderr (ms), then starts again.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let gcCount = 0;
let gcMs = 0;
let gcMax = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcCount += 1;
    gcMs += entry.duration;
    gcMax = Math.max(gcMax, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
let since = performance.now();
let elu0 = performance.eventLoopUtilization();

process.on('SIGUSR2', () => {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const figures = {
    seconds: Math.round(performance.now() - since) / 1000,
    delay_p50: ms(delay.percentile(50)),
    delay_p90: ms(delay.percentile(90)),
    delay_p99: ms(delay.percentile(99)),
    delay_max: ms(delay.max),
    delay_mean: ms(delay.mean),
    gc_count: gcCount,
    gc_ms: Math.round(gcMs * 100) / 100,
    gc_max_ms: Math.round(gcMax * 100) / 100,
    elu: Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 1000,
  };
  process.stderr.write(`payrail-bench-loop ${JSON.stringify(figures)}\n`);
  delay.reset();
  gcCount = 0;
  gcMs = 0;
  gcMax = 0;
  elu0 = performance.eventLoopUtilization();
  since = performance.now();
});
