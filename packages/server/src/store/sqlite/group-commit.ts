/** The group-commit driver of Kysely's SQLite dialect (docs/performance.md, change 17). */
import type { DatabaseSync } from 'node:sqlite';
import { type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, SqliteAdapter } from 'kysely';
import { execute, type Prepared, type Row } from './statements.ts';

/**
 * One SQLite transaction that several of Payrail's transactions (and writes outside one) share, made
 * durable by one COMMIT (one fsync). Each member learns of its outcome through `durable`.
 */
class Group {
  readonly durable: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.durable.catch(() => undefined); // a group nobody waits for (only reads) must not be an unhandled rejection
  }
}

/** A connection as Kysely sees it: one per acquisition, holding the group of its transaction while one is open. */
class GroupConnection implements DatabaseConnection {
  group: Group | null = null;
  /** Its transaction was released or rolled back and waits for its group: no statement may run in it now. */
  closing = false;
  readonly #driver: GroupCommitDriver;
  constructor(driver: GroupCommitDriver) {
    this.#driver = driver;
  }
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.#driver.run(this, query.sql, query.parameters) as Promise<QueryResult<R>>;
  }
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(query);
    for (const row of rows) yield { rows: [row] };
  }
}

const SAVEPOINT = 'payrail_transaction';

/**
 * Group commit on the one `node:sqlite` connection (docs/performance.md, change 17). `node:sqlite`
 * is synchronous: a COMMIT with `synchronous = FULL` blocks the process for its fsync, once per
 * transaction (a file database runs with `synchronous = NORMAL` instead and the driver syncs the WAL
 * on libuv's thread pool: change 25, `#sync` below). Here the transactions that run while a group is
 * open share one SQLite transaction:
 *
 * - a transaction takes the connection's lock, joins the open group (or opens one with BEGIN
 *   IMMEDIATE), and runs inside its own SAVEPOINT; on success it is RELEASEd into the group, on
 *   failure rolled back to its savepoint, which leaves the other members as they were; either way the
 *   lock passes on at once;
 * - the group is committed once the event loop has run what was ready (setImmediate), by one COMMIT;
 * - a transaction's commit resolves only when its group's COMMIT (and, off the thread, the WAL's
 *   sync begun after it) has returned, so an answer never leaves before what it reports is durable
 *   (a crash before the COMMIT loses the whole group, and none of its members has answered);
 * - a statement outside a transaction runs under the lock too: a row write joins the group (or opens
 *   one) and a read runs inside the open group, and both resolve only once that group is durable, so
 *   nothing not yet durable is ever reported; any other statement (VACUUM INTO, DDL) commits the
 *   open group first and runs alone;
 * - a failure (a transaction rolled back, a statement refused) is answered only once the open group
 *   is durable or gone too: it may report what it read of the other members' rows (a conflict);
 * - a statement a transaction sends after its commit or rollback began is refused, never run alone;
 * - if SQLite rolls back the whole transaction itself (disk full, I/O error), or a member's RELEASE or
 *   ROLLBACK TO fails, every member of the group fails with that error; none of them had answered.
 *
 * Kysely's own lock for single-connection dialects is replaced by this one (the adapter says it
 * supports several connections), which a transaction releases at its RELEASE instead of after its
 * commit.
 */
export class GroupCommitDriver implements Driver {
  readonly #db: DatabaseSync;
  readonly #prepared: (sql: string) => Prepared;
  #group: Group | null = null;
  #locked = false;
  readonly #waiting: (() => void)[] = [];
  #flushScheduled = false;
  /** COMMITs and the transactions and writes they carried (tests, docs/performance.md). */
  readonly stats = { commits: 0, members: 0, syncs: 0 };
  /**
   * Makes what SQLite committed durable (the WAL file's fdatasync on libuv's thread pool), when the
   * database runs with `synchronous = NORMAL` (a COMMIT writes the WAL without syncing it): the event
   * loop goes on while the disk syncs, and no member hears of its commit before a sync begun after it
   * has ended. Null: `synchronous = FULL`, each COMMIT syncs in the thread (in-memory databases).
   */
  readonly #sync: (() => Promise<void>) | null;
  /** The sync running now, and the one queued behind it for the commits made meanwhile. */
  #syncing: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  /** Ends once everything committed so far is durable: what a read outside a transaction waits for. */
  #covering: Promise<void> = Promise.resolve();

  constructor(db: DatabaseSync, prepared: (sql: string) => Prepared, sync: (() => Promise<void>) | null = null) {
    this.#db = db;
    this.#prepared = prepared;
    this.#sync = sync;
  }

  /** A promise that ends once everything committed before this call is durable. */
  #syncAfterCommit(): Promise<void> {
    if (!this.#sync) return Promise.resolve();
    if (!this.#syncing) {
      this.#covering = this.#startSync();
    } else if (!this.#queued) {
      // One sync for every commit made while the running one started too early to cover them.
      this.#queued = this.#syncing.then(noop, noop).then(() => {
        this.#queued = null;
        return this.#startSync();
      });
      this.#covering = this.#queued;
    }
    return this.#covering;
  }

  #startSync(): Promise<void> {
    const sync = this.#sync!().then(() => {
      this.stats.syncs++;
    });
    this.#syncing = sync;
    const done = () => {
      if (this.#syncing === sync) this.#syncing = null;
    };
    sync.then(done, done);
    return sync;
  }

  /** What a statement run outside a group may report once it is durable: a read waits for the syncs of what it may have seen. */
  durable<T>(value: T): Promise<T> | T {
    if (!this.#sync || (!this.#syncing && !this.#queued)) return value;
    return this.#covering.then(() => value);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new GroupConnection(this);
  }

  async releaseConnection(): Promise<void> {}

  async beginTransaction(connection: GroupConnection): Promise<void> {
    await this.#lock();
    try {
      const group = this.#join();
      try {
        this.#db.exec(`savepoint ${SAVEPOINT}`);
      } catch (error) {
        this.#abortGroup(error);
        throw error;
      }
      connection.group = group;
    } catch (error) {
      this.#failed(error);
      this.#unlock();
      throw error;
    }
  }

  async commitTransaction(connection: GroupConnection): Promise<void> {
    await this.#endTransaction(connection, true);
  }

  async rollbackTransaction(connection: GroupConnection): Promise<void> {
    // No group: the commit was attempted (its group failed, or it did), nothing is left to undo.
    if (connection.group) await this.#endTransaction(connection, false);
  }

  /**
   * Ends the connection's transaction within its group: RELEASEd into it (commit) or rolled back to its
   * savepoint. The lock passes on at once; the outcome is known once the group is durable, or gone.
   */
  async #endTransaction(connection: GroupConnection, commit: boolean): Promise<void> {
    const group = connection.group;
    if (!group) throw new Error('no transaction open on this connection');
    connection.group = null;
    connection.closing = true;
    try {
      try {
        if (group !== this.#group) {
          // SQLite already rolled the group back: a commit has failed, a rollback has nothing left to undo.
          if (commit) throw groupLost();
        } else if (commit) {
          this.#db.exec(`release ${SAVEPOINT}`);
          this.stats.members++;
        } else {
          this.#db.exec(`rollback to ${SAVEPOINT}`);
          this.#db.exec(`release ${SAVEPOINT}`);
        }
      } catch (error) {
        // Whatever SQLite kept of this member cannot be told apart from the others': none of them commits.
        this.#abortGroup(error);
        throw error;
      } finally {
        this.#unlock();
        this.#scheduleFlush();
      }
      // A rollback (a failure) may report what it read of the other members' rows (a conflict): it is
      // answered only once those are durable, or gone with their group.
      await (commit ? group.durable : group.durable.catch(() => undefined));
    } finally {
      connection.closing = false;
    }
  }

  async savepoint(connection: GroupConnection, name: string): Promise<void> {
    await this.run(connection, `savepoint ${quoteName(name)}`, []);
  }

  async rollbackToSavepoint(connection: GroupConnection, name: string): Promise<void> {
    await this.run(connection, `rollback to ${quoteName(name)}`, []);
  }

  async releaseSavepoint(connection: GroupConnection, name: string): Promise<void> {
    await this.run(connection, `release ${quoteName(name)}`, []);
  }

  /** Commits what is pending, then closes the database (what comes later fails: the database is not open). */
  async destroy(): Promise<void> {
    await this.#lock();
    try {
      this.#commitGroup();
      await this.#covering.catch(noop);
    } finally {
      this.#db.close();
      this.#unlock();
    }
  }

  /** One statement: inside its transaction (which holds the lock), or alone under the lock (see the class). */
  async run(connection: GroupConnection, sql: string, parameters: ReadonlyArray<unknown>): Promise<QueryResult<Row>> {
    // A statement sent after its transaction's commit or rollback began (not awaited) must not run alone.
    if (connection.closing) throw new Error('the transaction is already committing or rolling back: no statement may run in it');
    const entry = this.#prepared(sql);
    if (connection.group) {
      if (connection.group !== this.#group) throw groupLost();
      let result: QueryResult<Row>;
      try {
        result = execute(entry, parameters);
      } catch (error) {
        this.#failed(error);
        throw error;
      }
      // A statement that ended the SQLite transaction itself (a raw ROLLBACK) took the whole group with it.
      if (!this.#db.isTransaction) {
        const error = groupLost();
        this.#failed(error);
        throw error;
      }
      return result;
    }
    await this.#lock();
    let group: Group | null = null;
    let result: QueryResult<Row> | undefined;
    let failure: { error: unknown } | null = null;
    // Outside a group, what the statement saw or did is durable once the syncs of the commits before it are done.
    let synced: Promise<void> | null = null;
    try {
      if (entry.kind === 'other') this.#commitGroup();
      else if (entry.kind === 'write') this.#join();
      group = this.#group;
      try {
        result = execute(entry, parameters);
      } finally {
        // A statement alone (DDL, VACUUM INTO) may have committed by itself: it is synced too.
        if (!group) synced = entry.kind === 'other' ? this.#syncAfterCommit() : this.#sync && (this.#syncing || this.#queued) ? this.#covering : null;
      }
      if (group && entry.kind === 'write') this.stats.members++;
    } catch (error) {
      this.#failed(error);
      failure = { error };
    } finally {
      this.#unlock();
      this.#scheduleFlush();
    }
    if (failure) {
      // A failure may report what the group holds (a unique key another member wrote): answered once
      // that is durable, or gone with its group.
      await group?.durable.catch(() => undefined);
      await synced?.catch(() => undefined);
      throw failure.error;
    }
    await group?.durable;
    await synced;
    return result as QueryResult<Row>;
  }

  /** The lock on the connection: at once when it is free, else in turn. */
  #lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Hands the lock to the next in line, or frees it. */
  #unlock(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#locked = false;
  }

  /** The open group, opened if there is none (the caller holds the lock). */
  #join(): Group {
    if (!this.#group) {
      // A transaction left open by a COMMIT and a ROLLBACK that both failed holds nothing anyone waits for.
      if (this.#db.isTransaction) this.#db.exec('rollback');
      this.#db.exec('begin immediate');
      this.#group = new Group();
    }
    return this.#group;
  }

  /** After a failed statement: if SQLite rolled back the whole transaction, the group and all its members failed. */
  #failed(error: unknown): void {
    const group = this.#group;
    if (group && !this.#db.isTransaction) {
      this.#group = null;
      group.reject(error);
    }
  }

  /** Ends the open group without committing it (the caller holds the lock): every member fails with this error. */
  #abortGroup(error: unknown): void {
    const group = this.#group;
    if (!group) return;
    this.#group = null;
    if (this.#db.isTransaction) {
      try {
        this.#db.exec('rollback');
      } catch {
        // left open: #join rolls it back before the next group
      }
    }
    group.reject(error);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || !this.#group) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#lock().then(() => {
        try {
          this.#commitGroup();
        } finally {
          this.#unlock();
        }
      });
    });
  }

  /** COMMITs the open group, if any (the caller holds the lock); its members learn the outcome. */
  #commitGroup(): void {
    const group = this.#group;
    if (!group) return;
    this.#group = null;
    try {
      this.#db.exec('commit');
      this.stats.commits++;
      if (this.#sync) this.#syncAfterCommit().then(group.resolve, group.reject);
      else group.resolve();
    } catch (error) {
      this.#group = group;
      this.#abortGroup(error);
    }
  }
}

function noop(): void {}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function groupLost(): Error {
  return new Error('SQLite rolled back the transaction (see the error of the statement that failed in it)');
}

/** The adapter of Kysely's SQLite dialect, without Kysely's single-connection lock (GroupCommitDriver has its own). */
export class GroupCommitAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}
