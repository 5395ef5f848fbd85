/**
 * Terms of service payers accept before paying (Powens `GET /terms`, `GET`/`POST /payments/{id}/terms`).
 * The highest terms id is the current version; an installation without terms gets a first version.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { invalid } from '../domain/errors.ts';
import type { Database } from '../store/schema.ts';

export interface Terms {
  id: number;
  version: number;
  language: string;
  content: string;
  url: string | null;
  createdAt: number;
}

const FIRST_TERMS = {
  version: 1,
  language: 'en',
  content:
    'By continuing, you ask your bank to make this payment to the merchant. Payrail transmits the payment order to your bank and keeps its record for the merchant; it never holds the funds.',
  url: null,
};

export async function currentTerms(db: Kysely<Database>, clock: Clock): Promise<Terms> {
  let row = await db.selectFrom('terms').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (!row) {
    await db
      .insertInto('terms')
      .values({ ...FIRST_TERMS, created_at: clock.now() })
      .execute();
    row = await db.selectFrom('terms').selectAll().orderBy('id', 'asc').limit(1).executeTakeFirstOrThrow();
  }
  return { id: Number(row.id), version: Number(row.version), language: row.language, content: row.content, url: row.url, createdAt: Number(row.created_at) };
}

/** Whether the payer must still accept the current terms, and when they accepted them. */
export async function paymentTerms(db: Kysely<Database>, clock: Clock, paymentId: number): Promise<{ terms: Terms; acceptedAt: number | null }> {
  const terms = await currentTerms(db, clock);
  const row = await db
    .selectFrom('payment_terms')
    .select('accepted_at')
    .where('payment_id', '=', paymentId)
    .where('terms_id', '=', terms.id)
    .executeTakeFirst();
  return { terms, acceptedAt: row ? Number(row.accepted_at) : null };
}

/** Records acceptance of the current terms; accepting again keeps the first timestamp. */
export async function acceptTerms(db: Kysely<Database>, clock: Clock, paymentId: number, termsId: number): Promise<number> {
  const terms = await currentTerms(db, clock);
  if (termsId !== terms.id) throw invalid('id_terms', `must be the current terms id ${terms.id} (GET /2.0/terms)`);
  await db
    .insertInto('payment_terms')
    .values({ payment_id: paymentId, terms_id: terms.id, accepted_at: clock.now() })
    .onConflict((oc) => oc.columns(['payment_id', 'terms_id']).doNothing())
    .execute();
  return (await paymentTerms(db, clock, paymentId)).acceptedAt!;
}
