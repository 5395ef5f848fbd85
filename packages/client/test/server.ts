/** A real `payrail serve` on 127.0.0.1 for the SDK's tests, with a client application created by the CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, exited, startServe } from '../../server/test/support/processes.ts';
export const REDIRECT_URI = 'https://merchant.example/payment/return';

export interface RunningServer {
  base: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

export async function startServer(extra: string[] = []): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'payrail-sdk-'));
  const created = spawnSync(process.execPath, [BIN, 'client', 'create', '--name', 'SDK', '--redirect-uri', REDIRECT_URI, '--json', '--data-dir', dataDir], {
    encoding: 'utf8',
  });
  if (created.status !== 0) throw new Error(created.stderr);
  const { client_id, client_secret } = JSON.parse(created.stdout);
  const { proc, base } = await startServe(['--log-level', 'error', '--data-dir', dataDir, ...extra]);
  return {
    base,
    clientId: client_id,
    clientSecret: client_secret,
    async stop() {
      proc.kill('SIGTERM');
      await exited(proc);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const paymentBody = {
  client_redirect_uri: REDIRECT_URI,
  client_state: 'order-42',
  instructions: [
    {
      label: 'Order 42',
      amount: 50.9,
      currency: 'EUR',
      execution_date_type: 'instant' as const,
      beneficiary: { scheme_name: 'iban' as const, identification: 'FR7630006000011234567890189', label: 'ACME Corp.' },
    },
  ],
};
