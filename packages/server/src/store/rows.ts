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
