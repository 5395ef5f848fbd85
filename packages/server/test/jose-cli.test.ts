/**
 * `payrail keys rotate-signing` as an operator runs it, then a real `payrail serve` on the same
 * database: the old key is listed deprecated, new answers are signed with the new key.
 */
import { spawnSync } from 'node:child_process';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { processDatabases } from './support/process-databases.ts';
import { BIN, exited, startServe } from './support/processes.ts';

function cliJson(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args, '--json'], { encoding: 'utf8', timeout: 90_000 });
  if (result.status !== 0) throw new Error(`payrail ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe.each(processDatabases())('payrail keys rotate-signing [$name]', ({ create }) => {
  it('deprecates the old key, keeps it listed, and the server signs with the new one', async () => {
    const db = await create();
    try {
      expect(cliJson(['keys', 'rotate-signing', ...db.args])).toEqual({ current: 1, deprecated: null });
      expect(cliJson(['keys', 'rotate-signing', ...db.args])).toEqual({ current: 2, deprecated: 1 });
      const { proc, base } = await startServe([...db.args, '--log-level', 'warn']);
      try {
        const keys = (await (await fetch(`${base}/2.0/sign-keys`)).json()) as { keys: { id: number; deprecated: string | null; kid: string }[] };
        expect(keys.keys.map((k) => [k.id, k.kid, k.deprecated === null])).toEqual([
          [1, '1', false],
          [2, '2', true],
        ]);
        const signed = await (await fetch(`${base}/2.0/terms?sign_response=true`)).text();
        expect(decodeProtectedHeader(signed).kid).toBe('2');
        const { payload } = await compactVerify(signed, createLocalJWKSet(keys as never));
        expect(JSON.parse(new TextDecoder().decode(payload)).request_url).toBe(`${base}/2.0/terms?sign_response=true`);
      } finally {
        proc.kill('SIGTERM');
        await exited(proc);
      }
    } finally {
      await db.cleanup();
    }
  }, 120_000);
});
