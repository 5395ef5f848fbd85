/**
 * Group commit on SQLite (store/sqlite/group-commit.ts, GroupCommitDriver): transactions that run together
 * share one COMMIT, and none of them, nor any read or write outside a transaction, answers before
 * what it did or saw is durable. Checked against a second connection on the same file, which sees
 * only what SQLite committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteDialect } from '../src/store/sqlite/dialect.ts';
import { GroupCommitAdapter, GroupCommitDriver } from '../src/store/sqlite/group-commit.ts';
import { statementCache } from '../src/store/sqlite/statements.ts';
import { openSqlite } from '../src/store/sqlite/open.ts';

/** A one-table schema of the test's own. */
type Db = Kysely<any>;

describe('SQLite group commit', () => {
  let dir: string;
  let file: string;
  let db: Db;
  let driver: GroupCommitDriver;
  let observer: DatabaseSync;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-group-'));
    file = join(dir, 'group.sqlite');
    const sqlite = openSqlite(file);
    const created = createSqliteDialect(sqlite, file);
    driver = created.driver;
    db = new Kysely({ dialect: created.dialect });
    await sql`create table t (id integer primary key, v text not null unique, pad text)`.execute(db);
    observer = new DatabaseSync(file, { readOnly: true });
  });
  afterEach(async () => {
    observer.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What another process would find in the file right now. */
  const durable = (v: string) => observer.prepare('select count(*) as n from t where v = ?').get(v)!.n === 1;
  const insert = (target: Db, v: string, pad: string | null = null) => target.insertInto('t').values({ v, pad }).execute();
  /** A transaction that inserts `v` and then returns: `inserted` once its row is written (its commit not yet awaited). */
  const inserting = (v: string) => {
    let inserted!: () => void;
    const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
    const done = db.transaction().execute(async (trx) => {
      await insert(trx, v);
      inserted();
    });
    return { inserted: insertedYet, done };
  };

  it('transactions running together share one COMMIT, and each resolves only once its row is durable', async () => {
    const before = { ...driver.stats };
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db
          .transaction()
          .execute(async (trx) => {
            await insert(trx, `tx${i}`);
            await insert(trx, `tx${i}b`);
          })
          .then(() => durable(`tx${i}`) && durable(`tx${i}b`)),
      ),
    );
    expect(seen).toEqual(Array(20).fill(true));
    expect(driver.stats.members - before.members).toBe(20);
    expect(driver.stats.commits - before.commits).toBeLessThanOrEqual(2);
  });

  it('a transaction that fails is rolled back alone; the others of its group commit', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        db.transaction().execute(async (trx) => {
          await insert(trx, `keep${i}`);
          if (i === 5) throw new Error('refused');
          // A constraint violation inside a transaction that the transaction survives.
          await insert(trx, `keep${i}`).catch(() => undefined);
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
    expect((outcomes[5] as PromiseRejectedResult).reason.message).toBe('refused');
    for (let i = 0; i < 10; i++) expect(durable(`keep${i}`)).toBe(i !== 5);
  });

  it('reads and writes outside a transaction answer only once what they saw or wrote is durable', async () => {
    const open = inserting('pending');
    await open.inserted;
    // The transaction's row is in the open group, not yet committed.
    const rows = await db.selectFrom('t').select('v').where('v', '=', 'pending').execute();
    expect(rows).toEqual([{ v: 'pending' }]);
    expect(durable('pending')).toBe(true);
    await open.done;

    const before = { ...driver.stats };
    const writes = await Promise.all(Array.from({ length: 10 }, (_, i) => insert(db, `w${i}`).then(() => durable(`w${i}`))));
    expect(writes).toEqual(Array(10).fill(true));
    expect(driver.stats.commits - before.commits).toBeLessThanOrEqual(2);
  });

  it('a file database syncs its WAL off the event loop, once per group, before any member answers', async () => {
    expect((await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]!.synchronous).toBe(1); // NORMAL
    const before = { ...driver.stats };
    await Promise.all(Array.from({ length: 10 }, (_, i) => db.transaction().execute((trx) => insert(trx, `synced${i}`))));
    expect(driver.stats.syncs - before.syncs).toBeGreaterThanOrEqual(1);
    expect(driver.stats.syncs - before.syncs).toBeLessThanOrEqual(driver.stats.commits - before.commits);

    // The order, with a sync the test holds: a member answers only after a sync begun after its commit.
    const gated = openSqlite(join(dir, 'gated.sqlite'));
    gated.exec('PRAGMA synchronous = NORMAL');
    let hold = false;
    const held: (() => void)[] = [];
    const gatedDriver = new GroupCommitDriver(gated, statementCache(gated), () =>
      hold ? new Promise<void>((resolve) => held.push(resolve)) : Promise.resolve(),
    );
    const other: Db = new Kysely({
      dialect: {
        createDriver: () => gatedDriver,
        createQueryCompiler: () => new SqliteQueryCompiler(),
        createAdapter: () => new GroupCommitAdapter(),
        createIntrospector: (k) => new SqliteIntrospector(k),
      },
    });
    await sql`create table t (id integer primary key, v text not null unique, pad text)`.execute(other);
    hold = true;
    const settled = new Set<string>();
    const track = (name: string, p: Promise<unknown>) => p.then(() => settled.add(name));
    const first = track(
      'first',
      other.transaction().execute((trx) => insert(trx, 'first')),
    );
    const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
    await tick();
    expect(held).toHaveLength(1); // committed, its sync running
    expect(gated.prepare("select count(*) as n from t where v = 'first'").get()!.n).toBe(1);
    const read = track('read', other.selectFrom('t').selectAll().execute());
    const second = track(
      'second',
      other.transaction().execute((trx) => insert(trx, 'second')),
    );
    await tick();
    // The event loop went on (the second transaction committed), but nothing answered.
    expect(gated.prepare("select count(*) as n from t where v = 'second'").get()!.n).toBe(1);
    expect([...settled]).toEqual([]);
    expect(held).toHaveLength(1); // the second commit's sync waits for the first to end, then covers it
    held.shift()!();
    await first;
    await read;
    await tick();
    expect([...settled].sort()).toEqual(['first', 'read']);
    expect(held).toHaveLength(1);
    held.shift()!();
    await second;
    hold = false;
    await other.destroy();
  });

  it("a failure that may report another member's row is answered only once that row is durable", async () => {
    const a = inserting('taken');
    await a.inserted;
    // B joins A's group, reads A's row and refuses: a conflict answered while A's row is not durable would report a row a crash could undo.
    const b = await db
      .transaction()
      .execute(async (trx) => {
        if ((await trx.selectFrom('t').select('v').where('v', '=', 'taken').execute()).length) throw new Error('conflict');
      })
      .catch((error: Error) => ({ message: error.message, durableAtAnswer: durable('taken') }));
    expect(b).toEqual({ message: 'conflict', durableAtAnswer: true });
    await a.done;

    const c = inserting('taken2');
    await c.inserted;
    // A write outside a transaction refused by a unique key another member of the open group holds.
    const refused = await insert(db, 'taken2').catch((error: Error) => ({ message: error.message, durableAtAnswer: durable('taken2') }));
    expect(refused).toMatchObject({ message: expect.stringMatching(/unique/i), durableAtAnswer: true });
    await c.done;
  });

  it('a refused write outside a transaction leaves no transaction open on the file', async () => {
    await insert(db, 'once');
    await expect(insert(db, 'once')).rejects.toThrow(/unique/i);
    // Another process can write at once (busy_timeout 0): the failed write's group was closed.
    const other = new DatabaseSync(file, { timeout: 0 });
    try {
      other.exec('begin immediate');
      other.exec('rollback');
    } finally {
      other.close();
    }
  });

  it('a statement a transaction sends after its commit began is refused, never run on its own', async () => {
    let late: Promise<string> = Promise.resolve('not sent');
    await db.transaction().execute(async (trx) => {
      await insert(trx, 'main');
      // Sent without being awaited: it arrives after the transaction's RELEASE, while its commit waits for the group.
      late = (async () => {
        for (let i = 0; i < 6; i++) await null;
        await insert(trx, 'late');
        return 'ran';
      })().catch((error: Error) => `refused: ${error.message}`);
    });
    expect(await late).toMatch(/^refused/);
    expect(durable('main')).toBe(true);
    expect(durable('late')).toBe(false);
  });

  it('a statement that ends the SQLite transaction fails every member of its group, and no later one', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        db.transaction().execute(async (trx) => {
          await insert(trx, `g${i}`);
          if (i === 3) {
            await sql`rollback`.execute(trx);
            await insert(trx, 'after-rollback'); // must not run outside a transaction
          }
        }),
      ),
    );
    // 0–2 were released into the group that the ROLLBACK ended; 4 and 5 form the next one.
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    for (let i = 0; i < 6; i++) expect(durable(`g${i}`)).toBe(i > 3);
    expect(durable('after-rollback')).toBe(false);
    await insert(db, 'later');
    expect(durable('later')).toBe(true);
  });

  it('on a full disk each member either committed or failed with nothing written, and the store goes on', async () => {
    const pages = Number((await sql<{ page_count: number }>`pragma page_count`.execute(db)).rows[0]!.page_count);
    await sql.raw(`pragma max_page_count = ${pages + 8}`).execute(db);
    const pad = 'x'.repeat(3000);
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => db.transaction().execute(async (trx) => insert(trx, `full${i}`, pad))));
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((o) => /full/i.test(String((o as PromiseRejectedResult).reason)))).toBe(true);
    expect(failed.length).toBeLessThan(outcomes.length);
    for (const [i, o] of outcomes.entries()) expect(durable(`full${i}`)).toBe(o.status === 'fulfilled');
    await sql.raw('pragma max_page_count = 1073741823').execute(db);
    await db.transaction().execute(async (trx) => insert(trx, 'after-full', pad));
    expect(durable('after-full')).toBe(true);
  });

  it('VACUUM INTO and closing the database commit the open group first', async () => {
    const open = inserting('in-backup');
    await open.inserted;
    const copy = join(dir, 'copy.sqlite');
    await sql`vacuum into ${copy}`.execute(db);
    await open.done;
    const backup = new DatabaseSync(copy, { readOnly: true });
    expect(backup.prepare("select count(*) as n from t where v = 'in-backup'").get()!.n).toBe(1);
    backup.close();

    const last = inserting('at-close');
    await last.inserted;
    await db.destroy();
    await last.done;
    expect(durable('at-close')).toBe(true);
    await expect(insert(db, 'after-close')).rejects.toThrow();
    db = new Kysely({ dialect: createSqliteDialect(openSqlite(file), file).dialect }); // for afterEach
  });
});
