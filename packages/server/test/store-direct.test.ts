/**
 * Precompiled queries outside a transaction run straight on the driver (store/precompiled.ts):
 * on SQLite only while no transaction is open on the one connection, on PostgreSQL as named
 * prepared statements. These tests pin what must not change: a read never sees uncommitted rows,
 * results are the same as Kysely's, and a statement whose table changed under it recovers.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SHAPES, precompile, preparedName } from '../src/store/precompiled.ts';
import { paymentRepository } from '../src/store/repositories/payments.ts';
import { postgresPayments } from '../src/store/repositories/payments-postgres.ts';
import { sqlitePayments } from '../src/store/repositories/payments-sqlite.ts';
import type { Store } from '../src/store/db.ts';
import { databases } from './support/helpers.ts';
import { openIsolatedStore } from './support/stores.ts';

const countLimits = precompile((db, $) =>
  db
    .selectFrom('rate_limits')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key', 'like', $('prefix')),
);
const insertLimit = precompile((db, $) => db.insertInto('rate_limits').values({ key: $('key'), count: 1, reset_at: $('resetAt') }));
const selectLimits = precompile((db, $) => db.selectFrom('rate_limits').selectAll().where('key', '=', $('key')));
// One shape per number of keys, as a list's `in (…)` filter has.
const countAmong = precompile(
  (db, $, count: number) =>
    db
      .selectFrom('rate_limits')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(
        'key',
        'in',
        Array.from({ length: count }, (_, i) => $(`k${i}`)),
      ),
  (values: Record<string, unknown>) => Object.keys(values).length,
);

for (const { dialect, url } of databases()) {
  describe(`direct runs of precompiled queries [${dialect}]`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ store, drop } = await openIsolatedStore(dialect, url, { sqliteOnDisk: true, poolSize: 1 }));
    });
    afterAll(async () => drop());

    it("the store chose its database's payment statements when it opened, and a transaction uses them too", async () => {
      const chosen = dialect === 'postgres' ? postgresPayments : sqlitePayments;
      expect(paymentRepository(store.db)).toBe(chosen);
      await store.db.transaction().execute(async (trx) => {
        expect(paymentRepository(trx)).toBe(chosen);
      });
    });

    it('reads and writes outside a transaction give what Kysely gives', async () => {
      const inserted = await insertLimit.execute(store.db, { key: 'direct:a', resetAt: 1 });
      expect(inserted.numAffectedRows).toBe(1n);
      const [viaDirect] = (await selectLimits.execute(store.db, { key: 'direct:a' })).rows;
      const viaKysely = await store.db.selectFrom('rate_limits').selectAll().where('key', '=', 'direct:a').executeTakeFirstOrThrow();
      expect(viaDirect).toEqual(viaKysely);
      expect(Number((await countLimits.execute(store.db, { prefix: 'direct:%' })).rows[0]!.n)).toBe(1);
    });

    it('a read made while another transaction is open never sees its uncommitted rows', async () => {
      let readDone = false;
      let seenInside = -1;
      let read: Promise<number> | undefined;
      await store.db.transaction().execute(async (trx) => {
        await insertLimit.execute(trx, { key: 'direct:uncommitted', resetAt: 1 });
        // Another request reads while this transaction is open (and yields, as a request's would).
        read = countLimits.execute(store.db, { prefix: 'direct:uncommitted' }).then((r) => {
          readDone = true;
          return Number(r.rows[0]!.n);
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        seenInside = readDone ? await read : -1;
      });
      const seen = await read!;
      // SQLite: the read waited for the connection, so it ran after the commit and sees the row.
      // PostgreSQL: it ran on its own connection (or waited for the pool's one) under read committed.
      if (seenInside !== -1) expect(seenInside).toBe(0);
      expect([0, 1]).toContain(seen);
      if (dialect === 'sqlite') {
        expect(seenInside).toBe(-1);
        expect(seen).toBe(1);
      }
    });

    it('a failing transaction leaves nothing behind for direct reads', async () => {
      await expect(
        store.db.transaction().execute(async (trx) => {
          await insertLimit.execute(trx, { key: 'direct:rolled-back', resetAt: 1 });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(Number((await countLimits.execute(store.db, { prefix: 'direct:rolled-back' })).rows[0]!.n)).toBe(0);
    });

    it('keeps at most MAX_SHAPES shapes of one query; the others are compiled for their call and still answer right', async () => {
      await insertLimit.execute(store.db, { key: 'shape:k0', resetAt: 1 });
      const among = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, `shape:k${i}`]));
      const sqlOf = (count: number) => countAmong.execute(store.db, among(count)).then((r) => Number(r.rows[0]!.n));
      for (let count = 1; count <= MAX_SHAPES + 5; count++) expect(await sqlOf(count)).toBe(1);
      const inList = (count: number) => Array.from({ length: count }, (_, i) => (dialect === 'postgres' ? `$${i + 1}` : '?')).join(', ');
      const text = (count: number) => `select count(*) as "n" from "rate_limits" where "key" in (${inList(count)})`;
      // Kept shapes have a prepared statement name; those past the cap do not (PostgreSQL would keep one per connection).
      expect(preparedName(text(1))).toMatch(/^payrail_\d+$/);
      expect(preparedName(text(MAX_SHAPES))).toMatch(/^payrail_\d+$/);
      expect(preparedName(text(MAX_SHAPES + 1))).toBeUndefined();
      // A shape past the cap answers right again (compiled again, not from a stale cache entry).
      await insertLimit.execute(store.db, { key: 'shape:k1', resetAt: 1 });
      expect(await sqlOf(MAX_SHAPES + 3)).toBe(2);
    });

    if (dialect === 'sqlite') {
      it('makes rows with every column name as written, a `__proto__` column included', async () => {
        const { rows } = await sql<Record<string, unknown>>`select 1 as "we""ird\\name", 'x' as "a b", null as "n", 2 as "__proto__"`.execute(store.db);
        // A `__proto__` column is an own property (node:sqlite's row object), not the row's prototype.
        expect(Object.hasOwn(rows[0]!, '__proto__')).toBe(true);
        expect(Object.entries(rows[0]!)).toEqual([
          ['we"ird\\name', 1],
          ['a b', 'x'],
          ['n', null],
          ['__proto__', 2],
        ]);
        const [row] = (await sql<Record<string, unknown>>`select 1 as "we""ird\\name", 'x' as "a b"`.execute(store.db)).rows;
        expect(Object.entries(row!)).toEqual([
          ['we"ird\\name', 1],
          ['a b', 'x'],
        ]);
      });
    }

    if (dialect === 'postgres') {
      it('sends precompiled queries as named prepared statements', async () => {
        await selectLimits.execute(store.db, { key: 'direct:a' });
        const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(store.db);
        expect(rows.map((r) => r.name).some((n) => /^payrail_\d+$/.test(n))).toBe(true);
      });

      it('recovers when a table changes under a prepared statement (another process migrated it)', async () => {
        expect((await selectLimits.execute(store.db, { key: 'direct:a' })).rows).toHaveLength(1);
        await sql`alter table rate_limits add column added_later integer`.execute(store.db);
        // The one pooled connection holds the statement planned for the old shape: it fails at most once…
        await selectLimits.execute(store.db, { key: 'direct:a' }).catch((error: { code?: string }) => expect(error.code).toBe('0A000'));
        // …then is prepared again, and sees the new column, every time after.
        const [row] = (await selectLimits.execute(store.db, { key: 'direct:a' })).rows;
        expect(row).toMatchObject({ key: 'direct:a', added_later: null });
        expect((await selectLimits.execute(store.db, { key: 'direct:a' })).rows[0]).toMatchObject({ added_later: null });
      });
    }
  });
}
