/** A real `payrail serve` on 127.0.0.1 for the SDK's tests, with a client application created by the CLI. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../server/bin/payrail.js', import.meta.url).pathname;
export const REDIRECT_URI = 'https://merchant.example/payment/return';

export interface RunningServer { base: string; clientId: string; clientSecret: string; stop(): Promise<void> }

export async function startServer(extra: string[] = []): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'payrail-sdk-'));
  const created = spawnSync(process.execPath, [BIN, 'client', 'create', '--name', 'SDK', '--redirect-uri', REDIRECT_URI, '--json', '--data-dir', dataDir], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(created.stderr);
  const { client_id, client_secret } = JSON.parse(created.stdout);
  const proc: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'error', '--data-dir', dataDir, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(output));
      }
    }, 50);
  });
  return {
    base, clientId: client_id, clientSecret: client_secret,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((resolve) => (proc.exitCode !== null ? resolve(null) : proc.once('exit', resolve)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const paymentBody = {
  client_redirect_uri: REDIRECT_URI,
  client_state: 'order-42',
  instructions: [{
    label: 'Order 42', amount: 50.9, currency: 'EUR', execution_date_type: 'instant' as const,
    beneficiary: { scheme_name: 'iban' as const, identification: 'FR7630006000011234567890189', label: 'ACME Corp.' },
  }],
};
