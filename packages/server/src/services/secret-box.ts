/**
 * Secrets at rest (bank private keys, webhook HMAC keys, signing keys) are sealed with AES-256-GCM
 * under a key-encryption key (KEK) from configuration. A keyring holds the current KEK, which seals,
 * and older ones, which still open what they sealed, so a KEK can be rotated without downtime.
 *
 * Sealed form: `kek1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts). The key id is derived from
 * the key itself, so a value sealed under a KEK that is no longer configured says which one it needs.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Keyring {
  /** Seals new values. */
  current: { id: string; key: Buffer };
  /** Every configured KEK by id, the current one included. */
  byId: ReadonlyMap<string, Buffer>;
}

const PREFIX = 'kek1';

export class SecretBoxError extends Error {}

/** A KEK is 32 random bytes, written as 64 hex digits or 43/44 base64(url) characters. */
export function parseKek(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64url');
  if (key.length !== 32)
    throw new SecretBoxError('a key-encryption key must be 32 bytes: 64 hex digits or 43 base64url characters (generate one with `openssl rand -hex 32`)');
  return key;
}

export function kekId(key: Buffer): string {
  return createHash('sha256').update('payrail-kek-id').update(key).digest('hex').slice(0, 12);
}

/** The first key seals; every key opens. */
export function keyringFromKeys(keys: Buffer[]): Keyring {
  if (keys.length === 0) throw new SecretBoxError('at least one key-encryption key is needed');
  const byId = new Map(keys.map((key) => [kekId(key), key] as const));
  return { current: { id: kekId(keys[0]!), key: keys[0]! }, byId };
}

export const DEV_KEK_FILE = 'key-encryption.key';

/**
 * The configured KEKs (current first), or, when none is configured (local development), a KEK kept
 * in `<dataDir>/key-encryption.key`, created on first use and readable by the owner only.
 */
export function loadKeyring(options: { keys: readonly string[]; dataDir: string }): Keyring {
  if (options.keys.length > 0) return keyringFromKeys(options.keys.map(parseKek));
  const file = join(options.dataDir, DEV_KEK_FILE);
  if (!existsSync(file)) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    // Written whole under another name, then linked: processes starting together all read one complete key.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(tmp);
    }
  }
  chmodSync(file, 0o600);
  return keyringFromKeys([parseKek(readFileSync(file, 'utf8'))]);
}

export function isSealed(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}

export function sealSecret(keyring: Keyring, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv);
  cipher.setAAD(Buffer.from(`${PREFIX}.${keyring.current.id}`));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [PREFIX, keyring.current.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function openSecret(keyring: Keyring, sealed: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== PREFIX) throw new SecretBoxError('not a sealed secret');
  const [, id, iv, ciphertext, tag] = parts as [string, string, string, string, string];
  const key = keyring.byId.get(id);
  if (!key) throw new SecretBoxError(`this secret was sealed with key-encryption key ${id}, which is not configured`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`${PREFIX}.${id}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBoxError(`a secret sealed with key-encryption key ${id} failed its integrity check`);
  }
}

/** Re-seals a value under the current KEK (rotation); values already under it are returned as they are. */
export function resealSecret(keyring: Keyring, sealed: string): string {
  const id = sealed.split('.')[1];
  return id === keyring.current.id ? sealed : sealSecret(keyring, openSecret(keyring, sealed));
}
