/**
 * What the hosted webview reads and writes in the store (the webview itself holds no SQL): the
 * client's registered redirect URIs, the payment's own redirect URI, and the entry URL's `state`.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { readJson } from '../store/rows.ts';

export async function clientRedirectUris(db: Kysely<Database>, where: { clientId: string } | { clientRef: number }): Promise<string[]> {
  const query = db.selectFrom('clients').select('redirect_uris');
  const row = await ('clientId' in where ? query.where('client_id', '=', where.clientId) : query.where('id', '=', where.clientRef)).executeTakeFirst();
  return row ? readJson(row.redirect_uris) : [];
}

/** The payment's `client_redirect_uri`, when the payment belongs to this client; null otherwise. */
export async function paymentRedirectUri(db: Kysely<Database>, paymentId: number, clientId: string): Promise<string | null> {
  const row = await db
    .selectFrom('payments')
    .innerJoin('clients', 'clients.id', 'payments.client_ref')
    .select('payments.client_redirect_uri')
    .where('payments.id', '=', paymentId)
    .where('clients.client_id', '=', clientId)
    .executeTakeFirst();
  return row?.client_redirect_uri ?? null;
}

/**
 * The entry URL's `state` (up to 2,000 characters, any Unicode) is stored per payment instead of
 * riding in the flow's signed context: there it made every URL and form field several kilobytes
 * long, past what the forms accepted. The latest entry's state wins; an entry without one clears it.
 */
export async function saveWebviewState(db: Kysely<Database>, paymentId: number, state: string | null): Promise<void> {
  if (state === null || state === '') {
    await db.deleteFrom('webview_states').where('payment_id', '=', paymentId).execute();
    return;
  }
  await db
    .insertInto('webview_states')
    .values({ payment_id: paymentId, state })
    .onConflict((oc) => oc.column('payment_id').doUpdateSet({ state }))
    .execute();
}

export async function webviewState(db: Kysely<Database>, paymentId: number): Promise<string | null> {
  const row = await db.selectFrom('webview_states').select('state').where('payment_id', '=', paymentId).executeTakeFirst();
  return row?.state ?? null;
}
