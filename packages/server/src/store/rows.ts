/**
 * The one reader of JSON columns. A JSON column is text typed `Json<T>` in the schema (store/schema.ts)
 * with the value it holds; `readJson` parses it and gives back that `T`, so no caller casts what it
 * parsed. Parsing stays where a value is used (a view parses the columns it shows, once), so a read
 * pays for no column it does not look at.
 */
import type { Json } from './schema.ts';

export function readJson<T>(text: Json<T>): T;
export function readJson<T>(text: Json<T> | null): T | null;
export function readJson<T>(text: Json<T> | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** A value as the JSON text of a column that holds it. */
export function toJson<T>(value: T): Json<T> {
  return JSON.stringify(value) as Json<T>;
}

/** The names a column map marks with one of `marks`, in the map's order. */
type Marked<M, V> = { [K in keyof M]: M[K] extends V ? K : never }[keyof M] & string;

/**
 * The columns a map marks (`true`, or one of the given marks). A column map names every column of
 * its table (`satisfies Record<keyof Row, …>`), so a column added to the table is a compile error
 * until each list says whether it takes it; the list is derived from the map, never written twice.
 */
export function marked<M extends Record<string, unknown>, V = true>(map: M, ...marks: V[]): Marked<M, V>[] {
  const wanted: unknown[] = marks.length === 0 ? [true] : marks;
  return Object.keys(map).filter((column) => wanted.includes(map[column])) as Marked<M, V>[];
}
