/**
 * Issue 24 (4): `payrail serve --mode production` creates no demo client on its first start, on the
 * embedded database as on PostgreSQL: no credentials on stdout, no client in the database. `--demo`
 * (or PAYRAIL_DEMO) with production is refused before anything is touched. Real processes.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.ts';
import { processDatabases } from './support/process-databases.ts';
import { BIN, exited, waitFor } from './support/processes.ts';

const PRODUCTION = ['--mode', 'production', '--public-url', 'https://pay.example', '--key-encryption-key', 'ab'.repeat(32)];
/** Nothing from the test runner's environment chooses the mode, the demo or the keys. */
const CLEAN_ENV = { ...process.env, PAYRAIL_MODE: '', PAYRAIL_DEMO: '', PAYRAIL_PUBLIC_URL: '', PAYRAIL_KEY_ENCRYPTION_KEY: '' };

async function serveOnce(args: string[]): Promise<string> {
  const proc: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--no-jobs', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: CLEAN_ENV,
  });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  try {
    await waitFor(
      'the server to listen',
      () => (proc.exitCode !== null ? Promise.reject(new Error(`payrail serve exited: ${output}`)) : /listening on http/.test(output) || undefined),
      30_000,
    );
  } finally {
    proc.kill('SIGTERM');
    await exited(proc);
  }
  return output;
}

describe.each(processDatabases())('serve --mode production creates no demo client [$name]', ({ create }) => {
  it('first start on a fresh database: no credentials printed, no client stored; the next start neither', async () => {
    const database = await create();
    try {
      for (let start = 0; start < 2; start++) {
        const output = await serveOnce([...database.args, ...PRODUCTION]);
        expect(output).not.toMatch(/client_secret|demo client|First start/i);
        expect(output).toContain('No client yet: create one with `payrail client create');
        expect(output).not.toContain('--demo');
      }
      const dataDir = database.args[0] === '--data-dir' ? database.args[1] : undefined;
      const databaseUrl = database.args[0] === '--database-url' ? database.args[1] : undefined;
      const store = await openStore({ ...(dataDir ? { dataDir } : {}), ...(databaseUrl ? { databaseUrl } : {}) });
      try {
        expect(await store.db.selectFrom('clients').select('id').execute()).toEqual([]);
        expect(await store.db.selectFrom('installation_secrets').select('name').where('name', '=', 'demo-client').execute()).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await database.cleanup();
    }
  }, 90_000);
});

describe('serve --mode production with --demo', () => {
  it('is refused with a one-line message before the database is touched, by flag or by PAYRAIL_DEMO', async () => {
    const database = await processDatabases()[0]!.create();
    try {
      const byFlag = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', ...database.args, ...PRODUCTION, '--demo'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: CLEAN_ENV,
      });
      const byEnv = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', ...database.args, ...PRODUCTION], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...CLEAN_ENV, PAYRAIL_DEMO: '1' },
      });
      for (const result of [byFlag, byEnv]) {
        expect(result.status).toBe(2);
        expect(result.stderr).toContain('creates no demo client');
        expect(result.stdout).not.toContain('client_secret');
      }
      expect(existsSync(join(database.args[1]!, 'payrail.sqlite'))).toBe(false);
    } finally {
      await database.cleanup();
    }
  }, 60_000);
});
