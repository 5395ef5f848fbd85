/**
 * Queries compiled once and run many times. A hot path's query is written with the query builder
 * as usual (so it stays type-checked against the schema and right for each dialect), but built and
 * compiled only on its first call for a given database; later calls bind their values to the cached
 * SQL text, which the SQLite dialect maps to one prepared statement and PostgreSQL receives as is.
 * Building and compiling a query costs more CPU than running a simple one on SQLite.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult, type Transaction } from 'kysely';
import type { Database } from './schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Runs a compiled query straight on the store's driver, outside Kysely's executor, or answers null
 * when it cannot right now (SQLite: a transaction is open on the one connection; the caller then takes
 * Kysely's path, which waits for it). Registered per database by the store (store/db.ts,
 * store/postgres.ts); transactions always take Kysely's path.
 */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => Promise<QueryResult<unknown>> | null;
const directRunners = new WeakMap<object, DirectRunner>();

export function setDirectRunner(db: Kysely<Database>, run: DirectRunner): void {
  directRunners.set(db, run);
}

/** PostgreSQL: precompiled queries are named prepared statements (parsed and planned once per connection). */
const statementNames = new Map<string, string>();

/** The prepared statement name of a precompiled query's SQL text, or undefined for any other query. */
export function preparedName(sql: string): string | undefined {
  return statementNames.get(sql);
}

/** A stand-in for one parameter while the query is compiled; found again in the compiled parameters by identity. */
class Slot {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

export interface Precompiled<P, R> {
  /** Runs the query with these values, on a database or inside a transaction. */
  execute(db: Db, values: P): Promise<QueryResult<R>>;
}

/** Stand-ins for values: `$('id')` for one, `$.row(columns, suffix)` for a row of columns named `column + suffix`. */
// Slots stand in for values of any column type inside Kysely's typed builders.
export interface Slots {
  // biome-ignore lint/suspicious/noExplicitAny: a slot is accepted wherever a value of any type is.
  (name: string): any;
  // biome-ignore lint/suspicious/noExplicitAny: as above, one per column.
  row<C extends string>(columns: readonly C[], suffix?: string): Record<C, any>;
}

const slots: Slots = Object.assign((name: string) => new Slot(name), {
  row: <C extends string>(columns: readonly C[], suffix = '') => Object.fromEntries(columns.map((c) => [c, new Slot(c + suffix)])) as Record<C, Slot>,
});

/**
 * Shapes kept per query and database. Beyond it a new shape is compiled for its one call and not kept
 * (nor prepared by name on PostgreSQL), so that callers choosing shapes (a list's filters) cannot
 * grow the caches without bound.
 */
export const MAX_SHAPES = 256;

/**
 * `build` receives the database, the slot maker, the shape and the first call's values: each value
 * that changes from call to call must be a slot (in `.values()`, on the right of `where`, in `set`,
 * in `limit`), named after its key in the values given to `execute`; other values are constants of
 * the query. What the query's text depends on (a row count, which filters are set) is the shape, and
 * each shape is compiled once; `build` may read the values only for what the shape determines.
 */
export function precompile<P extends Record<string, unknown>, R, S extends string | number | undefined = undefined>(
  build: (db: Kysely<Database>, $: Slots, shape: S, values: P) => Compilable<R>,
  shapeOf?: (values: P) => S,
): Precompiled<P, R> {
  // Per dialect adapter (one per database; a transaction shares its database's), then per shape.
  const cache = new WeakMap<object, Map<S, { sql: string; parameters: readonly unknown[] }>>();
  return {
    execute(db, values) {
      const key = db.getExecutor().adapter;
      let byShape = cache.get(key);
      if (!byShape) {
        byShape = new Map();
        cache.set(key, byShape);
      }
      const shape = shapeOf?.(values) as S;
      let compiled = byShape.get(shape);
      if (!compiled) {
        const query = build(db as Kysely<Database>, slots, shape, values).compile();
        compiled = { sql: query.sql, parameters: query.parameters };
        if (byShape.size < MAX_SHAPES) {
          byShape.set(shape, compiled);
          if (!statementNames.has(query.sql)) statementNames.set(query.sql, `payrail_${statementNames.size + 1}`);
        }
      }
      // Constants written into the query stay as they were compiled; slots take this call's values.
      const parameters = compiled.parameters.map((p) => {
        if (!(p instanceof Slot)) return p;
        const value = values[p.name];
        if (value === undefined) throw new Error(`precompiled query: no value for ${p.name}`);
        return value;
      });
      const direct = directRunners.get(db)?.(compiled.sql, parameters);
      if (direct) return direct as Promise<QueryResult<R>>;
      return db.executeQuery(CompiledQuery.raw(compiled.sql, parameters)) as Promise<QueryResult<R>>;
    },
  };
}
