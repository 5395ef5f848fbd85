/** Helpers for tests that run `payrail` as real processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/webhooks/signature.ts';

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
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  // stderr is shown as before, and kept with stdout: tests read every line serve wrote (e.g. for secrets).
  proc.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
    process.stderr.write(c);
  });
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

/** A webhook receiver on loopback: every announcement (payment id and state), its signature checked once `secret` is set. */
export async function startWebhookReceiver(): Promise<{
  url: string;
  announced: { id: number; state: string; verified: boolean }[];
  secret: string;
  close(): Promise<void>;
}> {
  const receiver = {
    url: '',
    announced: [] as { id: number; state: string; verified: boolean }[],
    secret: '',
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (c) => (body += c));
    request.on('end', () => {
      const verified = verifyWebhookSignature(
        receiver.secret,
        'POST',
        request.url ?? '',
        String(request.headers['bi-signature-date']),
        body,
        String(request.headers['bi-signature']),
      );
      const parsed = JSON.parse(body);
      receiver.announced.push({ id: parsed.id, state: parsed.state, verified });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

/** The payer approves (or refuses) on the test bank's page that `validateUri` leads to. */
export async function decideAtTestBank(base: string, validateUri: string, decision: 'approve' | 'refuse' = 'approve'): Promise<void> {
  const bank = new URL(validateUri);
  await fetch(`${base}${bank.pathname}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...Object.fromEntries(bank.searchParams), decision }),
  }).then((r) => r.arrayBuffer());
}
