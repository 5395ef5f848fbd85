/**
 * `payrail bank simulate --standard obie`: the UK Open Banking model bank (authorization server and
 * payment API of one version). Prints its base URL and the one `payrail bank add` line that adds
 * it, with the client id and the key it generated for the TPP (an absolute path).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runtimeOf } from '../runtime.ts';

/** What `bank simulate` hands over for this standard. */
export interface ObieSimulateOptions {
  port: number;
  host: string;
  settleSeconds: number;
  publicUrl?: string;
  apiVersion: '4.0' | '3.1.11';
  keysDir?: string;
  json?: boolean;
}

/** The shell word for a value (single-quoted when it holds anything but safe characters). */
function word(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function simulateObie(options: ObieSimulateOptions, command: Command): Promise<void> {
  const { startObieSimulator } = await import('../../connectors/obie/simulator/index.ts');
  const sim = await startObieSimulator({
    host: options.host,
    port: options.port,
    apiVersion: options.apiVersion,
    settleAfterMs: Math.round(options.settleSeconds * 1000),
    keysDir: options.keysDir ?? join(tmpdir(), 'payrail-obie-model-bank'),
    ...(options.publicUrl ? { publicUrl: options.publicUrl.replace(/\/$/, '') } : {}),
    log: (line) => process.stdout.write(options.json ? `${JSON.stringify({ log: line })}\n` : `${line}\n`),
  });
  runtimeOf(command).keepRunning = true;
  const stop = () => void sim.close().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const add = [
    'payrail bank add --standard obie --name',
    word(`OBIE Model Bank ${sim.apiVersion}`),
    '--base-url',
    word(sim.baseUrl),
    '--country GB --api-version',
    sim.apiVersion,
    '--issuer',
    word(sim.issuer),
    '--client-id',
    word(sim.clientId),
    '--signing-key',
    word(sim.clientKey.path),
    '--signing-kid',
    word(sim.clientKey.kid),
    '--token-auth private_key_jwt',
  ].join(' ');
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ standard: 'obie', api_version: sim.apiVersion, url: sim.url, base_url: sim.baseUrl, issuer: sim.issuer, client_id: sim.clientId, signing_kid: sim.clientKey.kid, signing_key: sim.clientKey.path, control_url: `${sim.url}/_simulator`, add })}\n`,
    );
  } else {
    process.stdout.write(
      `UK Open Banking ${sim.apiVersion} model bank listening on ${sim.url} (base URL for payrail bank add: ${sim.baseUrl})\n` +
        `Control endpoint (faults, statuses): ${sim.url}/_simulator\n` +
        `Add it to Payrail with:\n${add}\n`,
    );
  }
}
