/** The stored answer of an idempotency key, written by a precompiled insert (alone, or inside a payment creation). */
import type { Kysely, Transaction } from 'kysely';
import { precompile, type Slots } from '../precompiled.ts';
import type { Database } from '../schema.ts';

/** The values of a stored answer (doneKeyRow's slots). */
export type DoneKey = {
  clientRef: number;
  key: string;
  hash: string;
  status: number;
  body: string;
  now: number;
  expiresAt: number;
};

/** The row of a stored answer, as slots of a precompiled insert; its values are a DoneKey. */
export function doneKeyRow($: Slots) {
  return {
    client_ref: $('clientRef'),
    key: $('key'),
    request_hash: $('hash'),
    status: 'done' as const,
    response_status: $('status'),
    response_body: $('body'),
    created_at: $('now'),
    expires_at: $('expiresAt'),
  };
}

const insertDone = precompile((db, $) =>
  db
    .insertInto('idempotency_keys')
    .values(doneKeyRow($))
    .onConflict((oc) => oc.columns(['client_ref', 'key']).doNothing()),
);

/** Stores the answer unless one is stored under the key already (then false, nothing stored). */
export async function insertDoneKey(db: Kysely<Database> | Transaction<Database>, done: DoneKey): Promise<boolean> {
  const result = await insertDone.execute(db, done);
  return Number(result.numAffectedRows ?? 0) === 1;
}
