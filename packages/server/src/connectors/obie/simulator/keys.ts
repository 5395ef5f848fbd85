/**
 * The model bank's keys and its one registered client: the bank's own PS256 key (it signs
 * id_tokens and answers) and the TPP's key, generated on first start and kept as PEM files in a
 * directory so that a bank added with `payrail bank add` keeps working across restarts. The
 * client's private key file is what the printed `payrail bank add` line names (`--signing-key`).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JWK } from 'jose';

export const MODEL_CLIENT_ID = 'payrail-model-tpp';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  /** Absolute path of the private key's PEM file. */
  path: string;
}

function kidOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
    .slice(0, 20);
}

/** Reads `<dir>/<name>.key` or makes a new RSA-2048 key there (mode 0600). */
export function loadOrCreateKey(dir: string, name: string): KeyPair {
  const path = resolve(join(dir, `${name}.key`));
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, kid: kidOf(publicKey), path };
}

export function publicJwk(pair: KeyPair): JWK {
  return { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid: pair.kid, alg: 'PS256', use: 'sig' };
}
