/**
 * `payrail restore`: a `payrail backup` file into a new data folder. Nothing is overwritten: the copy
 * is checked (SQLite integrity, a Payrail database, every sealed secret opens with the keys the
 * restored server will use) under a temporary name, and only then renamed to `payrail.sqlite`.
 *
 * The secrets a restored server must read back (webhook HMAC keys, bank keys, the response signing
 * key) are sealed under the key-encryption keys, which are not in the database: a configured
 * `--key-encryption-key`, or in development the data folder's `key-encryption.key`, which `keyFile`
 * brings along. Client secrets are stored as scrypt hashes and need no key.
 */
import { chmodSync, copyFileSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SECRET_COLUMNS } from './sealed-secrets.ts';
import { DEV_KEK_FILE, isSealed, type Keyring, keyringFromKeys, openSecret, parseKek } from './secret-box.ts';

export class RestoreError extends Error {}

export interface RestoreRequest {
  /** The backup file (`payrail backup --output`). */
  from: string;
  /** The new data folder; it must not hold a database yet. */
  dataDir: string;
  /** Configured key-encryption keys (current first); empty in development. */
  keys: readonly string[];
  /** Development: the backed-up data folder's key-encryption.key, copied into the new folder. */
  keyFile?: string | undefined;
}

export interface RestoreReport {
  database: string;
  /** Rows restored, per table an operator checks first. */
  counts: { payments: number; clients: number; webhook_endpoints: number; banks: number };
  /** Sealed secrets found, all of which open. */
  sealed_secrets: number;
  /** The ids of the key-encryption keys those secrets are sealed with. */
  key_ids: string[];
  /** Where the keys come from. */
  keys_from: 'configuration' | 'key file' | 'data folder' | 'none needed';
}

function keyIdOf(sealed: string): string {
  return sealed.split('.')[1] ?? '?';
}

/** The keyring the restored server will open its secrets with, or null when there is none yet. */
function restoredKeyring(request: RestoreRequest): { keyring: Keyring | null; from: RestoreReport['keys_from']; keyText?: string } {
  if (request.keys.length > 0) {
    if (request.keyFile) throw new RestoreError('--key-file is for development: with --key-encryption-key configured, the configured keys open the secrets');
    return { keyring: keyringFromKeys(request.keys.map(parseKek)), from: 'configuration' };
  }
  const existing = join(request.dataDir, DEV_KEK_FILE);
  if (request.keyFile) {
    const keyText = readFileSync(request.keyFile, 'utf8');
    const keyring = keyringFromKeys([parseKek(keyText)]);
    if (existsSync(existing) && keyringFromKeys([parseKek(readFileSync(existing, 'utf8'))]).current.id !== keyring.current.id)
      throw new RestoreError(`${existing} already holds another key-encryption key; restore into a new data folder`);
    return { keyring, from: 'key file', keyText };
  }
  if (existsSync(existing)) return { keyring: keyringFromKeys([parseKek(readFileSync(existing, 'utf8'))]), from: 'data folder' };
  return { keyring: null, from: 'none needed' };
}

function count(db: DatabaseSync, table: string): number {
  try {
    return Number((db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
  } catch {
    return 0; // a table a backup from an older version does not have yet
  }
}

export function restoreBackup(request: RestoreRequest): RestoreReport {
  const target = join(request.dataDir, 'payrail.sqlite');
  if (!existsSync(request.from)) throw new RestoreError(`--from ${request.from}: no such file`);
  for (const file of [target, `${target}-wal`])
    if (existsSync(file)) throw new RestoreError(`${file} exists: restore into a new data folder (or move the old one away first)`);
  const keys = restoredKeyring(request);
  mkdirSync(request.dataDir, { recursive: true, mode: 0o700 });
  const staging = `${target}.restoring-${process.pid}`;
  copyFileSync(request.from, staging, constants.COPYFILE_EXCL);
  chmodSync(staging, 0o600);
  try {
    let db: DatabaseSync;
    let integrity: { integrity_check: string }[];
    try {
      db = new DatabaseSync(staging);
      integrity = db.prepare('pragma integrity_check').all() as { integrity_check: string }[];
    } catch (error) {
      throw new RestoreError(`${request.from} is not an SQLite database: ${(error as Error).message}`);
    }
    let report: RestoreReport;
    try {
      if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok')
        throw new RestoreError(
          `${request.from} is damaged: ${integrity
            .map((r) => r.integrity_check)
            .join('; ')
            .slice(0, 300)}`,
        );
      const migrated = db.prepare("select count(*) as n from sqlite_master where type = 'table' and name = 'payrail_migrations'").get() as { n: number };
      if (Number(migrated.n) === 0) throw new RestoreError(`${request.from} is not a Payrail database (no migrations table)`);
      const sealed: string[] = [];
      for (const { table, column } of SECRET_COLUMNS) {
        let rows: { v: string | null }[] = [];
        try {
          rows = db.prepare(`select ${column} as v from ${table}`).all() as { v: string | null }[];
        } catch {
          continue; // not in a backup from an older version
        }
        for (const { v } of rows) if (v && isSealed(v)) sealed.push(v);
      }
      const keyIds = [...new Set(sealed.map(keyIdOf))].sort();
      const unopened = new Set<string>();
      for (const value of sealed) {
        try {
          if (!keys.keyring) throw new Error('no key');
          openSecret(keys.keyring, value);
        } catch {
          unopened.add(keyIdOf(value));
        }
      }
      if (unopened.size > 0)
        throw new RestoreError(
          `the backup's secrets are sealed with key-encryption key ${[...unopened].join(', ')}, which ${keys.keyring ? 'is not among the keys given' : 'was not given'}: ` +
            `pass --key-file OLD_DATA_DIR/${DEV_KEK_FILE} (development) or --key-encryption-key with that key (production); nothing was restored`,
        );
      report = {
        database: target,
        counts: {
          payments: count(db, 'payments'),
          clients: count(db, 'clients'),
          webhook_endpoints: count(db, 'webhook_endpoints'),
          banks: count(db, 'banks'),
        },
        sealed_secrets: sealed.length,
        key_ids: keyIds,
        keys_from: keys.from,
      };
    } finally {
      db.close();
    }
    if (keys.keyText !== undefined) {
      const keyPath = join(request.dataDir, DEV_KEK_FILE);
      if (!existsSync(keyPath)) writeFileSync(keyPath, keys.keyText, { mode: 0o600, flag: 'wx' });
    }
    renameSync(staging, target);
    return report;
  } finally {
    rmSync(staging, { force: true });
  }
}
