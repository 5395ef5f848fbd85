/**
 * Kysely's SQLite dialect over Node's built-in `node:sqlite` (no native build).
 * Kysely expects a better-sqlite3-like API; this adapts DatabaseSync to it and caches prepared statements.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

type Param = null | number | bigint | string | NodeJS.ArrayBufferView;

function toParams(parameters: ReadonlyArray<unknown>): Param[] {
  return parameters.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : (p as Param)));
}

/**
 * The data folder is the owner's alone (0700) and so are the database files (0600): SQLite gives its
 * -wal and -shm files the mode of the database file, which is created here before SQLite opens it.
 * Files left by older versions with wider modes are narrowed.
 */
function restrictFiles(file: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) if (existsSync(path)) chmodSync(path, 0o600);
}

export function openSqlite(file: string): DatabaseSync {
  if (file !== ':memory:') restrictFiles(file);
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
