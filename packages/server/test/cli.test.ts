/** The `payrail` CLI as a user runs it: a real process, real options, a real listening server. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = new URL('../bin/payrail.js', import.meta.url).pathname;
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'payrail-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('payrail CLI', () => {
  it('client create --json prints the credentials and stores the client', () => {
    const dataDir = tempDir();
    const result = run([
      'client',
      'create',
      '--name',
      'Shop',
      '--redirect-uri',
      'https://shop.example/return',
      '--redirect-uri',
      'https://shop.example/other',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const created = JSON.parse(result.stdout);
    expect(created).toEqual({
      client_id: expect.any(String),
      client_secret: expect.any(String),
      redirect_uris: ['https://shop.example/return', 'https://shop.example/other'],
    });
    expect(created.client_secret.length).toBeGreaterThanOrEqual(32);
  });

  it.each([
    [['client', 'create', '--redirect-uri', 'https://a.example/cb'], '--name is required'],
    [['client', 'create', '--name', 'x'], '--redirect-uri'],
    [['client', 'create', '--name', 'x', '--redirect-uri', 'https://a.example/cb?x=1'], 'query string'],
    [['client', 'create', '--name', 'x', '--redirect-uri', 'nope'], 'absolute URL'],
    [['client', 'create', '--name', 'x', '--redirect-uri', 'https://a.example/cb', '--bogus'], 'bogus'],
    [['serve', '--port', 'eighty'], '--port'],
    [['serve', '--database-url', 'mysql://x'], '--database-url'],
    [['launch'], 'unknown command'],
  ])('refuses %j with a one-line message and a non-zero exit', (args, message) => {
    const result = run([...args, '--data-dir', tempDir()]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reads options from environment variables', () => {
    const dataDir = tempDir();
    const result = run(['migrate'], { PAYRAIL_DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('applied: 0001_core');
    expect(run(['migrate'], { PAYRAIL_DATA_DIR: dataDir }).stdout).toContain('up to date');
    const bad = run(['serve'], { PAYRAIL_PORT: '99999', PAYRAIL_DATA_DIR: dataDir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--port');
  });

  it('serve creates a demo client on first start whose credentials work', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const address = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line in: ${output}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      const credentials = JSON.parse(output.split('\n').find((line) => line.startsWith('{"client_id"'))!);
      expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(credentials.redirect_uris).toContain('https://merchant.example/payment/return');
      const response = await fetch(`${address}/2.0/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: credentials.client_id,
          client_secret: credentials.client_secret,
          scope: 'payments:admin',
        }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { scope: string }).scope).toBe('payments:admin');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
