/** Helpers for tests that run `payrail` as real processes. */
import { spawn, type ChildProcess } from 'node:child_process';

export const BIN = new URL('../../bin/payrail.js', import.meta.url).pathname;

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `payrail serve --port 0 …` and resolves once it prints the address it listens on. */
export async function startServe(args: string[]): Promise<{ proc: ChildProcess; base: string; output: () => string }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  const base = await waitFor(
    'the server to listen',
    () => (proc.exitCode !== null ? Promise.reject(new Error(`payrail serve exited: ${output}`)) : /listening on (http:\/\/\S+)/.exec(output)?.[1]),
    30_000,
  );
  return { proc, base, output: () => output };
}

export function exited(proc: ChildProcess): Promise<unknown> {
  return new Promise((resolve) => (proc.exitCode !== null || proc.signalCode ? resolve(null) : proc.once('exit', resolve)));
}
