/**
 * Kysely's SQLite dialect over Node's built-in `node:sqlite` (no native build).
 * Kysely expects a better-sqlite3-like API; this adapts DatabaseSync to it and caches prepared statements.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { DirectRunner } from './precompiled.ts';

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

/** Prepared statements by SQL text, each prepared once (the cache is bounded). */
function statementCache(db: DatabaseSync) {
  const cache = new Map<string, { statement: StatementSync; reader: boolean }>();
  return (sql: string) => {
    let entry = cache.get(sql);
    if (!entry) {
      const statement = db.prepare(sql);
      entry = { statement, reader: statement.columns().length > 0 };
      if (cache.size > 500) cache.clear();
      cache.set(sql, entry);
    }
    return entry;
  };
}

export function createSqliteDialect(db: DatabaseSync): { dialect: SqliteDialect; direct: DirectRunner } {
  const prepared = statementCache(db);
  const adapter: SqliteDatabase = {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      const { statement, reader } = prepared(sql);
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
  /**
   * A precompiled query on the database (not in a transaction) runs here, without Kysely's executor:
   * the one connection is synchronous, so a statement run while no transaction is open on it is
   * exactly what Kysely would run, minus its connection bookkeeping (about a tenth of a GET's CPU).
   * While a transaction is open (between its BEGIN and COMMIT, across awaits), Kysely's path is taken,
   * which waits for the connection: a read never sees another request's uncommitted rows.
   */
  const direct: DirectRunner = (sql, parameters) => {
    if (db.isTransaction) return null;
    try {
      const { statement, reader } = prepared(sql);
      if (reader) return Promise.resolve({ rows: statement.all(...toParams(parameters)) });
      const { changes, lastInsertRowid } = statement.run(...toParams(parameters));
      return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) });
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return { dialect: new SqliteDialect({ database: adapter }), direct };
}
