// Node.js settings of `payrail serve` (see docs/operations.md, "Memory and Node.js flags", and
// docs/performance.md, "Memory"). Plain JavaScript, loaded by bin/payrail.js before any TypeScript.
//
// Without them, a burst of list requests grew V8's young generation to 2 × 64 MB, the old generation
// grew to about 2.3 × its live data before a full collection, and glibc's heap stayed fragmented by
// sockets' 64 KB read buffers, all kept for the life of the process. Two kinds:
// - read only when a process starts (V8's young generation cap, glibc's malloc settings): the server
//   starts Node again with them (`process.execve`: the same PID, nothing left behind, about 40 ms);
// - read at every collection (the old generation's growing factor): set once start-up is over, so
//   that module loading is not slowed by extra full collections.
// What the operator set wins (node's options, NODE_OPTIONS, MALLOC_* variables); PAYRAIL_NODE_TUNING=off
// (any value, in fact) leaves Node's defaults.

const AT_START = [['max-semi-space-size', '8']];
const AFTER_START = [['heap-growing-percent', '50']];
const MALLOC = [
  ['MALLOC_ARENA_MAX', '2'],
  ['MALLOC_MMAP_THRESHOLD_', '32768'],
];

function notGiven(execArgv, env) {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map((flag) => flag.replaceAll('_', '-'));
  return ([name]) => !given.some((flag) => flag === `--${name}` || flag.startsWith(`--${name}=`));
}

/**
 * What `serve` should restart with, or null when nothing is to be done (tuning off or already applied,
 * or no process.execve on this platform).
 */
export function restartWith(execArgv, env, canExecve = true) {
  if (!canExecve || env.PAYRAIL_NODE_TUNING) return null;
  const flags = AT_START.filter(notGiven(execArgv, env)).map(([name, value]) => `--${name}=${value}`);
  const newEnv = { ...env, PAYRAIL_NODE_TUNING: 'applied' };
  for (const [name, value] of MALLOC) newEnv[name] ??= value;
  return { execArgv: [...execArgv, ...flags], env: newEnv };
}

/** V8 flags to set once the server listens: only after the restart above, and only those not given. */
export function flagsAfterStart(execArgv, env) {
  if (env.PAYRAIL_NODE_TUNING !== 'applied') return [];
  return AFTER_START.filter(notGiven(execArgv, env)).map(([name, value]) => `--${name}=${value}`);
}
