/**
 * Kysely's SQLite dialect over Node's built-in `node:sqlite` (no native build): Kysely expects a
 * better-sqlite3-like API, which the group-commit driver (group-commit.ts) provides over one
 * `DatabaseSync` and its cached prepared statements (statements.ts); precompiled reads outside a
 * transaction skip Kysely's executor (the direct runner below).
 */
import type { DatabaseSync } from 'node:sqlite';
import { type Dialect, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import type { DirectRunner } from '../precompiled.ts';
import { GroupCommitAdapter, GroupCommitDriver } from './group-commit.ts';
import { walSync } from './open.ts';
import { execute, statementCache } from './statements.ts';

/**
 * `file`: the database's file; given (not `:memory:`), commits are made durable off the event loop:
 * `synchronous = NORMAL` (a COMMIT writes the WAL without syncing it) and the driver syncs the WAL file
 * on libuv's thread pool before any member of the group hears of its commit (walSync, group-commit.ts).
 */
export function createSqliteDialect(db: DatabaseSync, file?: string): { dialect: Dialect; direct: DirectRunner; driver: GroupCommitDriver } {
  const prepared = statementCache(db);
  const offThread = file !== undefined && file !== ':memory:';
  if (offThread) db.exec('PRAGMA synchronous = NORMAL');
  const driver = new GroupCommitDriver(db, prepared, offThread ? walSync(file) : null);
  const dialect: Dialect = {
    createDriver: () => driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createAdapter: () => new GroupCommitAdapter(),
    createIntrospector: (kysely) => new SqliteIntrospector(kysely),
  };
  /**
   * A precompiled read on the database (not in a transaction) runs here, without Kysely's executor:
   * the one connection is synchronous, so a read run while no transaction is open on it is exactly
   * what Kysely would run, minus its connection bookkeeping (about a tenth of a GET's CPU); it answers
   * once the commits it may have seen are synced, as the driver's reads do. While a
   * group is open (between its BEGIN and COMMIT), and for every write (which joins a group), the
   * driver's path is taken, which waits for the lock and for the group to be durable.
   */
  const direct: DirectRunner = (sql, parameters) => {
    if (db.isTransaction) return null;
    try {
      const entry = prepared(sql);
      if (entry.kind !== 'read') return null;
      // What it read may have been committed by a group whose sync is still running: answered after it.
      return Promise.resolve(driver.durable(execute(entry, parameters)));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return { dialect, direct, driver };
}
