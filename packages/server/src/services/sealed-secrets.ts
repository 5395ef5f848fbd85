/**
 * Every secret Payrail keeps in the database and must read back (webhook HMAC keys, the installation
 * signing key) is sealed under the key-encryption keyring. This module seals what older versions
 * stored in clear text (at every start) and re-seals everything under the current key (rotation).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { isSealed, type Keyring, resealSecret, sealSecret } from './secret-box.ts';

export interface SealReport {
  /** Values found in clear text and sealed. */
  sealed: number;
  /** Values moved from an older key to the current one. */
  resealed: number;
}

export interface SecretColumn {
  table: 'webhook_endpoints' | 'webhook_auth_providers' | 'installation_secrets' | 'banks' | 'jose_keys';
  key: 'id' | 'name';
  column: 'secret' | 'value' | 'client_key_sealed' | 'signing_key_sealed' | 'oauth_client_secret_sealed' | 'private_sealed';
}

/** Every column holding a sealed secret (restore checks each opens). */
export const SECRET_COLUMNS: readonly SecretColumn[] = [
  { table: 'webhook_endpoints', key: 'id', column: 'secret' },
  { table: 'webhook_auth_providers', key: 'id', column: 'secret' },
  { table: 'installation_secrets', key: 'name', column: 'value' },
  { table: 'banks', key: 'id', column: 'client_key_sealed' },
  { table: 'banks', key: 'id', column: 'signing_key_sealed' },
  { table: 'banks', key: 'id', column: 'oauth_client_secret_sealed' },
  { table: 'jose_keys', key: 'id', column: 'private_sealed' },
];

/**
 * Seals clear-text values; with `rotate`, also re-seals values sealed under an older key. Each row is
 * updated only if it still holds what was read, so processes doing this at once cannot lose a value.
 */
export async function sealStoredSecrets(db: Kysely<Database>, keyring: Keyring, options: { rotate?: boolean } = {}): Promise<SealReport> {
  const report: SealReport = { sealed: 0, resealed: 0 };
  for (const { table, key, column } of SECRET_COLUMNS) {
    // The tables are small (one row per endpoint or per installation secret).
    const rows = (await db
      .selectFrom(table)
      .select([`${key} as k`, `${column} as v`] as never[])
      .execute()) as unknown as { k: string | number; v: string | null }[];
    for (const row of rows) {
      if (row.v === null || row.v === '') continue;
      let next: string;
      if (!isSealed(row.v)) next = sealSecret(keyring, row.v);
      else if (options.rotate) next = resealSecret(keyring, row.v);
      else continue;
      if (next === row.v) continue;
      await db
        .updateTable(table)
        .set({ [column]: next } as never)
        .where(key as never, '=', row.k as never)
        .where(column as never, '=', row.v as never)
        .execute();
      if (isSealed(row.v)) report.resealed++;
      else report.sealed++;
    }
  }
  return report;
}
