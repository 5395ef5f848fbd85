/**
 * Secrets at rest and production mode: file modes of the data folder, no clear-text key in the SQLite
 * file or PostgreSQL rows, sealing of clear-text rows left by older versions, key rotation (service
 * and CLI), and `serve --mode production` refusing to start without a public URL and a key.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/domain/clock.ts';
import { buildApp } from '../src/http/app.ts';
import { createClient, DEFAULT_DOMAIN, ensureDomain } from '../src/services/clients.ts';
import { installationSecret } from '../src/services/installation.ts';
import { sealStoredSecrets } from '../src/services/sealed-secrets.ts';
import { keyringFromKeys, openSecret } from '../src/services/secret-box.ts';
import { createEndpoint } from '../src/webhooks/endpoints.ts';
import { migrate, openStore } from '../src/store/db.ts';
import { databases, openTestStore } from './support/helpers.ts';
import { BIN } from './support/processes.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'payrail-secrets-')), 'data');
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(join(dir, '..'), { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the embedded database on disk', () => {
  it('creates the data folder 0700 and the database files 0600, and narrows wider modes left by older versions', async () => {
    const dir = tempDir();
    const store = await openStore({ dataDir: dir });
    await migrate(store);
    const file = join(dir, 'payrail.sqlite');
    expect(mode(dir)).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(path), path).toBe(true);
      expect(mode(path), path).toBe(0o600);
    }
    await store.close();
    const { chmodSync } = await import('node:fs');
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
    const again = await openStore({ dataDir: dir });
    expect(mode(dir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    await again.close();
  });

  it('holds no clear-text webhook HMAC key nor signing key in the database file', async () => {
    const dir = tempDir();
    const store = await openStore({ dataDir: dir });
    await migrate(store);
    const keyring = keyringFromKeys([randomBytes(32)]);
    const app = await buildApp({ store, keyring, allowPrivateWebhooks: true });
    const client = await createClient(store.db, { name: 'Shop', redirectUris: ['https://shop.example/return'], now: Date.now() });
    const token = (
      await app.inject({
        method: 'POST',
        url: '/2.0/auth/token',
        payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, scope: 'payments:admin' },
      })
    ).json().token;
    const created = (
      await app.inject({ method: 'POST', url: '/2.0/webhooks', headers: { authorization: `Bearer ${token}` }, payload: { url: 'http://127.0.0.1:9/hook' } })
    ).json();
    expect(created.secret_key).toMatch(/^[\w-]{40,}$/);
    const signing = app.payrail.secret;
    await app.close();
    await store.close();
    const file = join(dir, 'payrail.sqlite');
    const bytes = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((p) => readFileSync(p)));
    expect(bytes.length).toBeGreaterThan(4096);
    for (const secret of [created.secret_key as string, signing]) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'base64url'))).toBe(false);
    }
    expect(bytes.includes(Buffer.from('kek1.'))).toBe(true);
  });
});

for (const { dialect, url } of databases()) {
  describe(`secrets at rest [${dialect}]`, () => {
    it('seals clear-text rows from older versions at start, and re-seals everything under a new key on rotation', async () => {
      const { store, drop } = await openTestStore(dialect, url);
      try {
        const oldKey = keyringFromKeys([randomBytes(32)]);
        const domain = await ensureDomain(store.db, DEFAULT_DOMAIN, systemClock.now());
        // As an older version left them: clear text.
        await store.db.insertInto('installation_secrets').values({ name: 'signing', value: 'clear-signing-key' }).execute();
        await store.db
          .insertInto('webhook_endpoints')
          .values({ domain_id: domain, url: 'https://93.184.215.14/a', event: 'PAYMENT_STATE_UPDATED', secret: 'clear-hmac-key', enabled: 1, created_at: 0 })
          .execute();
        expect(await sealStoredSecrets(store.db, oldKey)).toEqual({ sealed: 2, resealed: 0 });
        expect(await installationSecret(store.db, oldKey, 'signing')).toBe('clear-signing-key');
        const fresh = await createEndpoint(store.db, systemClock, domain, { url: 'https://93.184.215.14/b' }, { keyring: oldKey, allowPrivate: false });
        const rows = async () =>
          [
            ...(await store.db.selectFrom('webhook_endpoints').select('secret as v').orderBy('id').execute()),
            ...(await store.db.selectFrom('installation_secrets').select('value as v').execute()),
          ].map((r) => r.v);
        for (const value of await rows()) {
          expect(value).toMatch(new RegExp(`^kek1\\.${oldKey.current.id}\\.`));
          expect(value).not.toContain('clear-');
          expect(value).not.toContain(fresh.secret_key);
        }
        // Rotation: the new key first, the old one still configured to open what it sealed.
        const newKey = randomBytes(32);
        const both = keyringFromKeys([newKey, oldKey.current.key]);
        expect(await sealStoredSecrets(store.db, both, { rotate: true })).toEqual({ sealed: 0, resealed: 3 });
        const onlyNew = keyringFromKeys([newKey]);
        const values = await rows();
        for (const value of values) expect(value).toMatch(new RegExp(`^kek1\\.${onlyNew.current.id}\\.`));
        expect(values.map((v) => openSecret(onlyNew, v))).toEqual(['clear-hmac-key', fresh.secret_key, 'clear-signing-key']);
        expect(await sealStoredSecrets(store.db, onlyNew, { rotate: true })).toEqual({ sealed: 0, resealed: 0 });
      } finally {
        await drop();
      }
    });
  });
}

describe('CLI: production mode and payrail keys rotate', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PAYRAIL_MODE: '', PAYRAIL_PUBLIC_URL: '', PAYRAIL_KEY_ENCRYPTION_KEY: '', ...env },
    });

  it('refuses `serve --mode production` without a public URL and a key-encryption key, saying how to set them', () => {
    const dir = tempDir();
    const both = run(['serve', '--mode', 'production', '--port', '0', '--data-dir', dir]);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain('--public-url');
    expect(both.stderr).toContain('PAYRAIL_KEY_ENCRYPTION_KEY');
    expect(both.stderr).toContain('openssl rand -hex 32');
    const one = run(['serve', '--port', '0', '--data-dir', dir, '--public-url', 'https://pay.example'], { PAYRAIL_MODE: 'production' });
    expect(one.status).not.toBe(0);
    expect(one.stderr).toContain('--key-encryption-key');
    expect(one.stderr).not.toContain('--public-url (or');
    expect(existsSync(join(dir, 'payrail.sqlite'))).toBe(false); // refused before touching anything
  });

  it('refuses a loopback webhook URL in production mode from the CLI', () => {
    const refused = run([
      'webhook',
      'add',
      '--url',
      'http://127.0.0.1:9/hook',
      '--data-dir',
      tempDir(),
      '--mode',
      'production',
      '--key-encryption-key',
      randomBytes(32).toString('hex'),
    ]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('not a public address');
  });

  it('rotates every stored secret to the new key', () => {
    const dir = tempDir();
    const oldKey = randomBytes(32).toString('hex');
    const newKey = randomBytes(32).toString('hex');
    const added = run(['webhook', 'add', '--url', 'https://93.184.215.14/hook', '--json', '--data-dir', dir, '--key-encryption-key', oldKey]);
    expect(added.status, added.stderr).toBe(0);
    const rotated = run(['keys', 'rotate', '--json', '--data-dir', dir], { PAYRAIL_KEY_ENCRYPTION_KEY: `${newKey},${oldKey}` });
    expect(rotated.status, rotated.stderr).toBe(0);
    const report = JSON.parse(rotated.stdout);
    expect(report).toMatchObject({ current_key: keyringFromKeys([Buffer.from(newKey, 'hex')]).current.id, resealed: 1, sealed: 0 });
    expect(report.other_keys).toHaveLength(1);
    // The new key alone now opens everything.
    const again = run(['keys', 'rotate', '--json', '--data-dir', dir, '--key-encryption-key', newKey]);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ resealed: 0, sealed: 0, other_keys: [] });
  }, 120_000);
});
