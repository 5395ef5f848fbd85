/** Opens the store: embedded SQLite by default, PostgreSQL when a database URL is given. */
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import type { Client as PgClient } from 'pg';
import type { Database } from './schema.ts';
import { createSqliteDialect, openSqlite } from './sqlite-dialect.ts';
import { migrateToLatest } from './migrations.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** A human description of where the data lives, without credentials. */
  location: string;
  close(): Promise<void>;
  /**
   * PostgreSQL only: calls `onNotify` for each NOTIFY on `channel`, on a dedicated connection that
   * reconnects after a failure. Returns the function that stops listening.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}

export interface StoreOptions {
  dataDir?: string;
  databaseUrl?: string | null;
  /** PostgreSQL schema to use (tests isolate themselves in one). */
  pgSchema?: string;
  poolSize?: number;
}

// pg is loaded only for a PostgreSQL store: an embedded-database server never pays for it (memory, start-up).
async function loadPg() {
  const pg = (await import('pg')).default;
  // int8 (bigint) columns hold ids, epoch milliseconds and minor units: all within JS's safe integer range.
  pg.types.setTypeParser(20, (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} is out of the safe integer range`);
    return n;
  });
  return pg;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql (unparseable URL)';
  }
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    const pg = await loadPg();
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
    });
    // A broken idle connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const connection = { connectionString: options.databaseUrl, ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}) };
    return {
      db, dialect: 'postgres', location: redactUrl(options.databaseUrl), close: () => db.destroy(),
      async listen(channel, onNotify) {
        if (!/^[a-z_]+$/.test(channel)) throw new Error('bad channel name');
        let client: PgClient | null = null;
        let stopped = false;
        const connect = async (): Promise<void> => {
          if (stopped) return;
          const c = new pg.Client(connection);
          c.on('notification', () => onNotify());
          c.on('error', () => {
            c.end().catch(() => {});
            if (!stopped) setTimeout(() => void connect().catch(() => {}), 1000);
          });
          await c.connect();
          await c.query(`listen ${channel}`);
          client = c;
        };
        await connect();
        return async () => {
          stopped = true;
          await client?.end().catch(() => {});
        };
      },
    };
  }
  const file = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir ?? '.payrail', 'payrail.sqlite');
  const sqlite = openSqlite(file);
  const db = new Kysely<Database>({ dialect: createSqliteDialect(sqlite) });
  return { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
}

export async function migrate(store: Store): Promise<string[]> {
  return migrateToLatest(store.db, store.dialect);
}
