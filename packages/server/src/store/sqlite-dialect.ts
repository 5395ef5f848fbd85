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

type Row = Record<string, unknown>;

/**
 * Rows as objects of one shape per statement. node:sqlite builds each row object property by property,
 * which gives V8 a slow dictionary object per row (about 8 µs for a payment's 40 columns, and slower
 * to read in the views); read as arrays and copied into one object literal per statement, a row is a
 * fast object and costs about half (docs/performance.md). The literal is generated from the
 * statement's own column names, each quoted by JSON.stringify; a statement whose columns include
 * `__proto__` (which a literal would take as the prototype) keeps node:sqlite's objects.
 */
function rowMaker(statement: StatementSync, names: readonly string[]): ((values: unknown[]) => Row) | null {
  if (names.length === 0 || names.includes('__proto__')) return null;
  statement.setReturnArrays(true);
  return new Function('v', `return { ${names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ')} };`) as (values: unknown[]) => Row;
}

interface Prepared {
  statement: StatementSync;
  reader: boolean;
  all(parameters: ReadonlyArray<unknown>): Row[];
}

/** Prepared statements by SQL text, each prepared once (the cache is bounded). */
function statementCache(db: DatabaseSync) {
  const cache = new Map<string, Prepared>();
  return (sql: string): Prepared => {
    let entry = cache.get(sql);
    if (!entry) {
      const statement = db.prepare(sql);
      const names = statement.columns().map((column) => column.name);
      const toRow = rowMaker(statement, names);
      entry = {
        statement,
        reader: names.length > 0,
        all: toRow
          ? (parameters) => (statement.all(...toParams(parameters)) as unknown as unknown[][]).map(toRow)
          : (parameters) => statement.all(...toParams(parameters)) as Row[],
      };
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
      const entry = prepared(sql);
      const { statement, reader } = entry;
      return {
        reader,
        all: (parameters) => entry.all(parameters),
        run: (parameters) => {
          const result = statement.run(...toParams(parameters));
          return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
        },
        // Kysely streams only on request (never on a hot path): the rows, as `all` makes them.
        iterate: (parameters) => entry.all(parameters)[Symbol.iterator](),
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
      const entry = prepared(sql);
      const { statement, reader } = entry;
      if (reader) return Promise.resolve({ rows: entry.all(parameters) });
      const { changes, lastInsertRowid } = statement.run(...toParams(parameters));
      return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) });
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return { dialect: new SqliteDialect({ database: adapter }), direct };
}
