/**
 * The installation's state changes, in order, read from `payment_events` (written in the same
 * transaction as each change): what `payrail listen` streams. A cursor (the last event id seen)
 * makes the feed resumable and never skips a committed event.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { paymentView } from './payment-view.ts';

export interface FeedEvent {
  id: number;
  payment_id: number;
  domain_id: number;
  from_state: string | null;
  to_state: string | null;
  created_at: number;
  /** The payment as a webhook carries it, its `state` the event's new state. */
  body: string;
}

export async function lastEventId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('payment_events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

export async function stateChangesAfter(db: Kysely<Database>, afterId: number, options: { domainId?: number; limit?: number } = {}): Promise<FeedEvent[]> {
  let q = db
    .selectFrom('payment_events as e')
    .innerJoin('payments as p', 'p.id', 'e.payment_id')
    .select(['e.id', 'e.payment_id', 'p.domain_id', 'e.from_state', 'e.to_state', 'e.created_at'])
    .where('e.id', '>', afterId)
    .where('e.type', '=', 'state_changed')
    .orderBy('e.id')
    .limit(options.limit ?? 100);
  if (options.domainId !== undefined) q = q.where('p.domain_id', '=', options.domainId);
  const events = await q.execute();
  const ids = [...new Set(events.map((e) => e.payment_id))];
  if (ids.length === 0) return [];
  const payments = await db.selectFrom('payments').selectAll().where('id', 'in', ids).execute();
  const instructions = await db.selectFrom('payment_instructions').selectAll().where('payment_id', 'in', ids).orderBy('position').execute();
  return events.map((event) => {
    const payment = payments.find((p) => p.id === event.payment_id)!;
    const view = paymentView(
      { ...payment, state: event.to_state ?? payment.state },
      instructions.filter((i) => i.payment_id === payment.id),
      false,
    );
    return {
      ...event,
      id: Number(event.id),
      payment_id: Number(event.payment_id),
      domain_id: Number(event.domain_id),
      created_at: Number(event.created_at),
      body: JSON.stringify(view),
    };
  });
}
