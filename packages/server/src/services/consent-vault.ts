/**
 * The connectors' vault (`ConnectorContext.vault`): what a payer's consent must keep between two
 * steps but is a secret (a PKCE verifier, a nonce, the payer's token at the bank) is sealed with
 * the secret box (AES-256-GCM) under a key derived from the installation secret, itself stored
 * sealed under the key-encryption key. The sealed text rides in the attempt's connector data.
 */
import { hkdfSync } from 'node:crypto';
import { type Keyring, keyringFromKeys, openSecret, sealSecret } from './secret-box.ts';

const keyrings = new Map<string, Keyring>();

function keyringOf(secret: string): Keyring {
  let keyring = keyrings.get(secret);
  if (!keyring) {
    keyring = keyringFromKeys([Buffer.from(hkdfSync('sha256', secret, 'payrail', 'consent-vault', 32))]);
    if (keyrings.size > 16) keyrings.clear();
    keyrings.set(secret, keyring);
  }
  return keyring;
}

export function consentVault(secret: string): { seal(plaintext: string): string; open(sealed: string): string } {
  const keyring = keyringOf(secret);
  return { seal: (plaintext) => sealSecret(keyring, plaintext), open: (sealed) => openSecret(keyring, sealed) };
}
