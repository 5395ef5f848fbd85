/**
 * The only code that changes a payment after creation. Every change is checked against the state
 * machine, guarded by the payment's version (a concurrent change makes it fail, never doubles it),
 * and written with its event rows in one transaction.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import { assertTransition } from '../domain/state-machine.ts';
import type { PaymentState } from '../domain/states.ts';
import { isPostgres } from '../store/db.ts';
import type { Database, PaymentRow, PaymentUpdate } from '../store/schema.ts';
import { enqueueStateChange } from '../webhooks/endpoints.ts';
import { cachedConfig } from './config.ts';
import type { WorkNotifier } from './work-notifier.ts';

export interface PaymentChange {
  /** Target state; intermediate states the machine requires (created → validating → done) are passed through. */
  state?: PaymentState;
  patch: PaymentUpdate;
  /** Recorded on the event rows (reason, connector outcome…). */
  detail?: Record<string, unknown>;
  /**
   * `background`: found by status sync or expiry, not in answer to the payer or the client.
   * In legacy webhook mode only those changes are announced.
   */
  source?: 'interactive' | 'background';
  /** New per-instruction states, by position, written in the same transaction. */
  instructionStates?: readonly PaymentState[];
  /** More writes that must commit with the change (the bank attempts' outcomes). */
  also?: (trx: Transaction<Database>) => Promise<void>;
  /** One state for every instruction (a bank that answers for the whole payment). */
  allInstructionsState?: PaymentState;
}

/** created → done is not a transition; the payment goes through validating first. */
function path(from: PaymentState, to: PaymentState): PaymentState[] {
  if (from === to) return [];
  if (from === 'created' && to !== 'validating' && to !== 'rejected' && to !== 'expired') return ['validating', to];
  return [to];
}

/** What changePayment needs: the database, the time, and whom to wake when a change queues work. */
export interface ChangeEnvironment {
  db: Kysely<Database>;
  clock: Clock;
  notifier: WorkNotifier;
}

export async function changePayment(env: ChangeEnvironment, payment: PaymentRow, change: PaymentChange): Promise<PaymentRow> {
  const { db, clock } = env;
  const now = clock.now();
  const from = payment.state as PaymentState;
  const steps = change.state ? path(from, change.state) : [];
  let current = from;
  for (const step of steps) {
    assertTransition(current, step);
    current = step;
  }
  const patch: PaymentUpdate = { ...change.patch, updated_at: now };
  if (change.state) patch.state = change.state;
  if (from === 'validating' || steps.includes('validating')) {
    if (change.state && ['pending', 'done', 'accepted'].includes(change.state) && payment.validate_date === null) patch.validate_date = now;
  }
  // Read before the transaction: on SQLite the transaction holds the only connection.
  const systematic = steps.length > 0 && (await cachedConfig(db, payment.domain_id))['payment.state_updated_webhook.systematic'] === '1';
  return db
    .transaction()
    .execute(async (trx) => {
      const updated = await trx
        .updateTable('payments')
        .set({ ...patch, version: payment.version + 1 })
        .where('id', '=', payment.id)
        .where('version', '=', payment.version)
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw new ApiError('invalidState', 'the payment changed meanwhile; read it again and retry');
      if (change.allInstructionsState) {
        await trx.updateTable('payment_instructions').set({ state: change.allInstructionsState }).where('payment_id', '=', payment.id).execute();
      }
      for (const [position, state] of (change.instructionStates ?? []).entries()) {
        await trx.updateTable('payment_instructions').set({ state }).where('payment_id', '=', payment.id).where('position', '=', position).execute();
      }
      if (change.also) await change.also(trx);
      const detail = change.detail ? JSON.stringify(change.detail) : null;
      let previous = from;
      for (const step of steps) {
        await trx
          .insertInto('payment_events')
          .values({ payment_id: payment.id, type: 'state_changed', from_state: previous, to_state: step, data: detail, created_at: now })
          .execute();
        previous = step;
      }
      if (steps.length === 0) {
        await trx
          .insertInto('payment_events')
          .values({ payment_id: payment.id, type: 'updated', from_state: from, to_state: from, data: detail, created_at: now })
          .execute();
      } else {
        // The announcement is written with the change: a crash can lose neither.
        if (systematic || change.source === 'background') {
          // On PostgreSQL, NOTIFY in the transaction wakes every process's job loop when it commits.
          if ((await enqueueStateChange(trx, updated, now)) > 0 && isPostgres(db)) await sql`notify payrail_jobs`.execute(trx);
        }
      }
      return updated;
    })
    .then((updated) => {
      env.notifier.workQueued();
      return updated;
    });
}
