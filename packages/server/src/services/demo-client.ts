/**
 * The demo client: created only when asked (`serve --demo`) or on the embedded database's first
 * start, at most once per database even when several processes start together: the marker row
 * and the client are written in one transaction, and the marker's primary key lets one win.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { createClient, type CreatedClient } from './clients.ts';

export const DEMO_REDIRECT_URIS = ['https://merchant.example/payment/return', 'http://localhost:8080/payment/return', 'http://127.0.0.1:8080/payment/return'];
const MARKER = 'demo-client';

/** Creates the demo client if none was ever created (and, unless `evenIfClients`, no client exists). Null otherwise. */
export async function ensureDemoClient(db: Kysely<Database>, now: number, options: { evenIfClients: boolean }): Promise<CreatedClient | null> {
  const marked = await db.selectFrom('installation_secrets').select('value').where('name', '=', MARKER).executeTakeFirst();
  if (marked) return null;
  try {
    return await db.transaction().execute(async (trx) => {
      if (!options.evenIfClients) {
        const any = await trx.selectFrom('clients').select('id').limit(1).executeTakeFirst();
        if (any) return null;
      }
      // A concurrent start inserting the same marker fails here (or waits, then fails): one demo client only.
      await trx
        .insertInto('installation_secrets')
        .values({ name: MARKER, value: String(now) })
        .execute();
      return createClient(trx, { name: 'Demo client', redirectUris: DEMO_REDIRECT_URIS, now });
    });
  } catch (error) {
    if (await db.selectFrom('installation_secrets').select('value').where('name', '=', MARKER).executeTakeFirst()) return null;
    throw error;
  }
}

/** What a first start prints once, on stdout (never through the logger). */
export function demoBanner(demo: CreatedClient): string {
  return (
    `Created a demo client. Keep the secret: it is shown only once.\n` +
    `  client_id:     ${demo.client_id}\n  client_secret: ${demo.client_secret}\n  redirect_uris: ${demo.redirect_uris.join(' ')}\n` +
    `${JSON.stringify({ client_id: demo.client_id, client_secret: demo.client_secret, redirect_uris: demo.redirect_uris })}\n`
  );
}
