/**
 * `payrail keys rotate`: re-seals every secret at rest (webhook HMAC keys, the installation signing
 * key, bank keys) under the current key-encryption key, the first of --key-encryption-key. Run it
 * with the new key first and the old one after it; once it reports, the old key may be dropped.
 */
import type { Command } from 'commander';
import { jsonOption, printData } from '../output.ts';
import { examples } from '../runtime.ts';
import { keyringOf, storeOptions, withStore } from '../store-options.ts';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('key-encryption keys (rotation of the secrets sealed at rest) and the response-signature key');
  const rotate = jsonOption(
    storeOptions(keys.command('rotate').description('re-seal every stored secret under the current (first) key-encryption key')),
  ).action(async (_options, cmd: Command) => {
    const result = await withStore(cmd, async (store, config) => {
      const { sealStoredSecrets } = await import('../../services/sealed-secrets.ts');
      const keyring = keyringOf(config);
      const report = await sealStoredSecrets(store.db, keyring, { rotate: true });
      return { current_key: keyring.current.id, ...report, other_keys: [...keyring.byId.keys()].filter((id) => id !== keyring.current.id) };
    });
    printData(
      cmd,
      result,
      (r) =>
        `every secret is now sealed under key ${r.current_key} (${r.resealed} re-sealed, ${r.sealed} sealed from clear text)\n` +
        (r.other_keys.length ? `keys ${r.other_keys.join(', ')} are no longer needed: remove them from --key-encryption-key` : ''),
    );
  });
  examples(
    rotate,
    'PAYRAIL_KEY_ENCRYPTION_KEY=$NEW_KEY,$OLD_KEY payrail keys rotate',
    'payrail keys rotate --database-url postgres://payrail@db/payrail --key-encryption-key $NEW_KEY,$OLD_KEY --json',
  );

  const rotateSigning = jsonOption(
    storeOptions(
      keys.command('rotate-signing').description('make a new response-signature key current; the old one is deprecated but still listed and verifying'),
    ),
  ).action(async (_options, cmd: Command) => {
    const result = await withStore(cmd, async (store, config) => {
      const { rotateSigningKey } = await import('../../services/jose-keys.ts');
      const { systemClock } = await import('../../domain/clock.ts');
      return rotateSigningKey(store.db, keyringOf(config), systemClock);
    });
    printData(
      cmd,
      result,
      (r) => `signing key ${r.current} is now current${r.deprecated === null ? '' : `; key ${r.deprecated} is deprecated (GET /2.0/sign-keys still lists it)`}`,
    );
  });
  examples(rotateSigning, 'payrail keys rotate-signing', 'payrail keys rotate-signing --database-url postgres://payrail@db/payrail --json');
}
