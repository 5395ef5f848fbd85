/**
 * Prepared statements on the one `node:sqlite` connection: each SQL text prepared once, its rows read
 * as arrays into an object literal generated for the statement (docs/performance.md, change 15), and
 * what kind of statement it is (for the group commit).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { QueryResult } from 'kysely';

type Param = null | number | bigint | string | NodeJS.ArrayBufferView;

function toParams(parameters: ReadonlyArray<unknown>): Param[] {
  return parameters.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : (p as Param)));
}

export type Row = Record<string, unknown>;

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

/** What a statement does, for the group commit: reads and row writes join a group; anything else runs alone. */
export type Kind = 'read' | 'write' | 'other';

function kindOf(sql: string): Kind {
  const word = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase();
  if (word === 'select') return 'read';
  return word === 'insert' || word === 'update' || word === 'delete' || word === 'replace' ? 'write' : 'other';
}

export interface Prepared {
  statement: StatementSync;
  reader: boolean;
  kind: Kind;
  all(parameters: ReadonlyArray<unknown>): Row[];
}

/** Prepared statements by SQL text, each prepared once (the cache is bounded). */
export function statementCache(db: DatabaseSync) {
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
        kind: kindOf(sql),
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

export function execute(entry: Prepared, parameters: ReadonlyArray<unknown>): QueryResult<Row> {
  if (entry.reader) return { rows: entry.all(parameters) };
  const { changes, lastInsertRowid } = entry.statement.run(...toParams(parameters));
  return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
}
