import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEV_KEK_FILE, isSealed, keyringFromKeys, loadKeyring, openSecret, resealSecret, sealSecret } from '../../src/services/secret-box.ts';

describe('secret box', () => {
  it('seals so that the clear text is not in the sealed form, and opens it again', () => {
    const ring = keyringFromKeys([randomBytes(32)]);
    const sealed = sealSecret(ring, '-----BEGIN PRIVATE KEY-----abc');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('PRIVATE');
    expect(openSecret(ring, sealed)).toBe('-----BEGIN PRIVATE KEY-----abc');
    expect(sealSecret(ring, 'x')).not.toBe(sealSecret(ring, 'x'));
  });

  it('refuses a tampered value and one sealed under a key it does not have', () => {
    const ring = keyringFromKeys([randomBytes(32)]);
    const sealed = sealSecret(ring, 'secret');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('other!').toString('base64url');
    expect(() => openSecret(ring, parts.join('.'))).toThrow(/integrity/);
    expect(() => openSecret(keyringFromKeys([randomBytes(32)]), sealed)).toThrow(/not configured/);
  });

  it('rotates: a new current key still opens what the old one sealed, and reseals it', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const sealedOld = sealSecret(keyringFromKeys([oldKey]), 'hmac-key');
    const rotated = keyringFromKeys([newKey, oldKey]);
    expect(openSecret(rotated, sealedOld)).toBe('hmac-key');
    const resealed = resealSecret(rotated, sealedOld);
    expect(openSecret(keyringFromKeys([newKey]), resealed)).toBe('hmac-key');
  });

  it('creates a development key readable by its owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-kek-'));
    try {
      const ring = loadKeyring({ keys: [], dataDir: join(dir, 'data') });
      const file = join(dir, 'data', DEV_KEK_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(loadKeyring({ keys: [], dataDir: join(dir, 'data') }).current.id).toBe(ring.current.id);
      expect(loadKeyring({ keys: [readFileSync(file, 'utf8')], dataDir: '/nonexistent' }).current.id).toBe(ring.current.id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
