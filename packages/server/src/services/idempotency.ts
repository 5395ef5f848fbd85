/**
 * Idempotency keys on POST: the first response for a (client, key) is stored and replayed for the
 * same request; the same key with another request is refused (422), and a concurrent retry while
 * the first is still running gets 409. Keys live 24 hours.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { precompile } from '../store/precompiled.ts';
import { type DoneKey, insertDoneKey } from '../store/repositories/idempotency-keys.ts';
import type { Clock } from '../domain/clock.ts';
import { ApiError, invalid } from '../domain/errors.ts';
import type { Database } from '../store/schema.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A 'running' key older than this was left by a request that died before committing: it may be retaken. */
export const IDEMPOTENCY_STALE_MS = 60 * 1000;
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

export type Claim = { kind: 'new' } | { kind: 'replay'; status: number; body: string };

export function requestHash(method: string, url: string, rawBody: string): string {
  return createHash('sha256').update(`${method} ${url}\n${rawBody}`).digest('hex');
}

export function checkIdempotencyKey(key: string): string {
  if (!KEY_RE.test(key)) throw invalid('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
  return key;
}

export async function claimIdempotencyKey(db: Kysely<Database>, clock: Clock, clientRef: number, key: string, hash: string): Promise<Claim> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = clock.now();
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({
        client_ref: clientRef,
        key,
        request_hash: hash,
        status: 'running',
        response_status: null,
        response_body: null,
        created_at: now,
        expires_at: now + IDEMPOTENCY_TTL_MS,
      })
      .onConflict((oc) => oc.columns(['client_ref', 'key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { kind: 'new' };

    const row = await db.selectFrom('idempotency_keys').selectAll().where('client_ref', '=', clientRef).where('key', '=', key).executeTakeFirst();
    if (!row) continue; // deleted meanwhile: try again
    if (row.expires_at <= now) {
      await db.deleteFrom('idempotency_keys').where('client_ref', '=', clientRef).where('key', '=', key).where('expires_at', '<=', now).execute();
      continue;
    }
    if (row.request_hash !== hash) throw new ApiError('idempotencyKeyReused', undefined, { field: 'Idempotency-Key' });
    if (row.status === 'done' && row.response_status !== null && row.response_body !== null) {
      return { kind: 'replay', status: row.response_status, body: row.response_body };
    }
    if (row.created_at <= now - IDEMPOTENCY_STALE_MS) {
      const retaken = await db
        .updateTable('idempotency_keys')
        .set({ created_at: now })
        .where('client_ref', '=', clientRef)
        .where('key', '=', key)
        .where('status', '=', 'running')
        .where('created_at', '=', row.created_at)
        .executeTakeFirst();
      if (Number(retaken.numUpdatedRows) === 1) return { kind: 'new' };
    }
    throw new ApiError('idempotencyKeyInUse', undefined, { field: 'Idempotency-Key' });
  }
  throw new ApiError('idempotencyKeyInUse', undefined, { field: 'Idempotency-Key' });
}

const findKey = precompile((db, $) => db.selectFrom('idempotency_keys').selectAll().where('client_ref', '=', $('clientRef')).where('key', '=', $('key')));
/** A stored answer (store/repositories/idempotency-keys.ts), kept IDEMPOTENCY_TTL_MS from now. */
export function doneKeyValues(now: number, clientRef: number, key: string, hash: string, status: number, body: string): DoneKey {
  return { clientRef, key, hash, status, body, now, expiresAt: now + IDEMPOTENCY_TTL_MS };
}

/**
 * The one-transaction form used by payment creation: no row is written before the work. Looks the
 * key up: `new` when no live answer is stored (an expired key, or a 'running' claim abandoned by a
 * dead request, is removed), `replay` with the stored answer, 422 for another request under the key,
 * 409 while a request that claimed it (claimIdempotencyKey) is still running. The answer is then
 * stored by recordIdempotentResponse in the transaction of the work, so a concurrent request with the
 * same key that commits first makes that transaction fail and roll back (see payments.ts).
 */
export async function lookupIdempotencyKey(db: Kysely<Database>, clock: Clock, clientRef: number, key: string, hash: string): Promise<Claim> {
  const now = clock.now();
  const row = (await findKey.execute(db, { clientRef, key })).rows[0];
  if (!row) return { kind: 'new' };
  if (row.expires_at <= now) {
    await db.deleteFrom('idempotency_keys').where('client_ref', '=', clientRef).where('key', '=', key).where('expires_at', '<=', now).execute();
    return { kind: 'new' };
  }
  if (row.request_hash !== hash) throw new ApiError('idempotencyKeyReused', undefined, { field: 'Idempotency-Key' });
  if (row.status === 'done' && row.response_status !== null && row.response_body !== null) {
    return { kind: 'replay', status: row.response_status, body: row.response_body };
  }
  if (row.created_at <= now - IDEMPOTENCY_STALE_MS) {
    await db
      .deleteFrom('idempotency_keys')
      .where('client_ref', '=', clientRef)
      .where('key', '=', key)
      .where('status', '=', 'running')
      .where('created_at', '=', row.created_at)
      .execute();
    return { kind: 'new' };
  }
  throw new ApiError('idempotencyKeyInUse', undefined, { field: 'Idempotency-Key' });
}

/**
 * Stores the answer under the key unless one is stored already (then returns false and stores
 * nothing). Inside the work's transaction, so that both commit together; on PostgreSQL a concurrent
 * insert of the same key waits for the other transaction and then finds the key taken.
 */
export async function recordIdempotentResponse(
  db: Kysely<Database> | Transaction<Database>,
  clock: Clock,
  clientRef: number,
  key: string,
  hash: string,
  status: number,
  body: string,
): Promise<boolean> {
  const now = clock.now();
  return insertDoneKey(db, doneKeyValues(now, clientRef, key, hash, status, body));
}

/** Stores the response; called inside the transaction that made the change, so both commit together. */
export async function completeIdempotencyKey(
  db: Kysely<Database> | Transaction<Database>,
  clientRef: number,
  key: string,
  status: number,
  body: string,
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status: 'done', response_status: status, response_body: body })
    .where('client_ref', '=', clientRef)
    .where('key', '=', key)
    .execute();
}

/** Forgets a key whose request failed on our side (5xx), so that a retry runs again. */
export async function releaseIdempotencyKey(db: Kysely<Database>, clientRef: number, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('client_ref', '=', clientRef).where('key', '=', key).where('status', '=', 'running').execute();
}
