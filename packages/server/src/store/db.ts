/** Opens the store: embedded SQLite by default, PostgreSQL when a database URL is given. */
import { join } from 'node:path';
import { Kysely, PostgresAdapter, type Transaction } from 'kysely';
import type { Database } from './schema.ts';
import { createSqliteDialect } from './sqlite/dialect.ts';
import { openSqlite } from './sqlite/open.ts';
import { migrateToLatest } from './migrations.ts';
import { setDirectRunner } from './precompiled.ts';
import type { Store, StoreOptions } from './contract.ts';
import { setPaymentRepository } from './repositories/payments.ts';
import { sqlitePayments } from './repositories/payments-sqlite.ts';

// What a store is, its options and defaults (in contract.ts, which the PostgreSQL store and the migrations import too).
export { DATABASE_DEFAULTS, type Dialect, redactUrl, type Store, type StoreOptions } from './contract.ts';

/** Whether this database (or a transaction on it) is PostgreSQL, for the few statements written per dialect. */
export function isPostgres(db: Kysely<Database> | Transaction<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    // pg is loaded for a PostgreSQL store only (start-up: docs/performance.md).
    const [{ openPostgres }, { postgresPayments }] = await Promise.all([import('./postgres.ts'), import('./repositories/payments-postgres.ts')]);
    const store = await openPostgres(options.databaseUrl, options);
    setPaymentRepository(store.db, postgresPayments);
    return store;
  }
  const file = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir ?? '.payrail', 'payrail.sqlite');
  const sqlite = openSqlite(file);
  const { dialect, direct } = createSqliteDialect(sqlite, file);
  const db = new Kysely<Database>({ dialect });
  setDirectRunner(db, direct);
  setPaymentRepository(db, sqlitePayments);
  return { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
}

export async function migrate(store: Store, upTo?: string): Promise<string[]> {
  const work = () => migrateToLatest(store.db, store.dialect, upTo);
  return store.unhurried ? store.unhurried(work) : work();
}
