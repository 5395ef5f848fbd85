/** Isolated stores for tests and benchmarks: a fresh SQLite (in memory or in a folder), or a fresh PostgreSQL schema. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate, openStore, type Dialect, type Store } from '../../src/store/db.ts';

export async function openIsolatedStore(
  dialect: Dialect,
  url: string | null,
  options: { sqliteOnDisk?: boolean; poolSize?: number; migrateUpTo?: string } = {},
): Promise<{ store: Store; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = options.sqliteOnDisk ? mkdtempSync(join(tmpdir(), 'payrail-store-')) : null;
    const store = await openStore({ dataDir: dir ?? ':memory:' });
    await migrate(store, options.migrateUpTo);
    return {
      store,
      drop: async () => {
        await store.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `payrail_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url! });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const store = await openStore({ databaseUrl: url!, pgSchema: schema, poolSize: options.poolSize ?? 5 });
  await migrate(store, options.migrateUpTo);
  return {
    store,
    drop: async () => {
      await store.close();
      const cleanup = new pg.Client({ connectionString: url! });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

/** The first PostgreSQL URL that answers, or null. */
export async function reachablePostgres(candidates: (string | undefined)[]): Promise<string | null> {
  for (const url of candidates.filter(Boolean) as string[]) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return url;
    } catch {
      // try the next one
    } finally {
      await client.end().catch(() => {});
    }
  }
  return null;
}
