/**
 * Kysely's SQLite dialect over Node's built-in `node:sqlite` (no native build).
 * Kysely expects a better-sqlite3-like API; this adapts DatabaseSync to it and caches prepared statements.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

type Param = null | number | bigint | string | NodeJS.ArrayBufferView;

function toParams(parameters: ReadonlyArray<unknown>): Param[] {
  return parameters.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : (p as Param)));
}

export function openSqlite(file: string): DatabaseSync {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  return db;
}

export function createSqliteDialect(db: DatabaseSync): SqliteDialect {
  const cache = new Map<string, { statement: StatementSync; reader: boolean }>();
  const adapter: SqliteDatabase = {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      let entry = cache.get(sql);
      if (!entry) {
        const statement = db.prepare(sql);
        entry = { statement, reader: statement.columns().length > 0 };
        if (cache.size > 500) cache.clear();
        cache.set(sql, entry);
      }
      const { statement, reader } = entry;
      return {
        reader,
        all: (parameters) => statement.all(...toParams(parameters)),
        run: (parameters) => {
          const result = statement.run(...toParams(parameters));
          return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
        },
        iterate: (parameters) => statement.iterate(...toParams(parameters)) as IterableIterator<unknown>,
      };
    },
  };
  return new SqliteDialect({ database: adapter });
}
