/**
 * The payment writer: the only module that changes a payment's row after creation (a test scans
 * the sources for others). Every change is checked against the state machine, guarded by the
 * payment's version (a concurrent change fails with VersionConflict, never doubles), and written
 * with its event rows, its outbox rows and the facts of its attempt at the bank in one transaction.
 * What the change should be is decided elsewhere (payment-reducer.ts, the actions).
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { VersionConflict } from '../domain/errors.ts';
import { assertTransition } from '../domain/state-machine.ts';
import { isFinal, type PaymentState } from '../domain/states.ts';
import { isPostgres } from '../store/db.ts';
import type { AttemptRow, AttemptUpdate, Database, PaymentRow, PaymentUpdate } from '../store/schema.ts';
import { enqueueStateChange } from '../webhooks/endpoints.ts';
import { cachedConfig } from './config.ts';
import type { WorkNotifier } from './work-notifier.ts';
import { openAttempt, updateAttempt } from './attempts.ts';
import { DETAIL } from './payment-checks.ts';

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
  /** One state for every instruction (a bank that answers for the whole payment). */
  allInstructionsState?: PaymentState;
  /** The attempt's new facts (its data, bank status, sync schedule), written with the change. */
  attempt?: { id: number; patch: AttemptUpdate };
  /** More writes that must commit with the change (the bank calls' outcomes). */
  also?: (trx: Transaction<Database>) => Promise<void>;
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
  const from = payment.state;
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
  let attempt = change.attempt;
  // A final payment is synced no more: its attempt's schedule is cleared with the change.
  if (!attempt && change.state && isFinal(change.state) && payment.current_attempt_id !== null)
    attempt = { id: payment.current_attempt_id, patch: { next_sync_at: null } };
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
      if (!updated) throw new VersionConflict(payment.id);
      if (attempt) await updateAttempt(trx, attempt.id, attempt.patch);
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

/**
 * Claims the payment for one initiation and opens its new attempt, in one transaction: a guarded
 * update (same version) marks it `initiating` and points it at the attempt; the attempt it
 * followed before (an unknown one) keeps its facts, marked superseded and no longer synced. Of two processes that
 * read the same version, one claims it and the other gets VersionConflict, so the bank never
 * receives the same initiation twice from Payrail. `claimed_by`: the process sending it
 * (instances.ts); if that process dies, the recovery pass ends the claim (releaseDeadClaim).
 */
export async function claimInitiation(
  db: Kysely<Database>,
  clock: Clock,
  payment: PaymentRow,
  at: { connector_uuid: string; bank_id: number | null; claimed_by?: string | null },
): Promise<{ payment: PaymentRow; attempt: AttemptRow }> {
  const now = clock.now();
  return db.transaction().execute(async (trx) => {
    // The guarded update first: it locks the row, so a second claimant fails here, before opening an attempt.
    const won = await trx
      .updateTable('payments')
      .set({ state_detail: DETAIL.initiating, updated_at: now, version: payment.version + 1 })
      .where('id', '=', payment.id)
      .where('version', '=', payment.version)
      .executeTakeFirst();
    if (Number(won.numUpdatedRows) === 0) throw new VersionConflict(payment.id);
    const attempt = await openAttempt(trx, payment.id, { ...at, now });
    const claimed = await trx
      .updateTable('payments')
      .set({ current_attempt_id: attempt.id })
      .where('id', '=', payment.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (payment.current_attempt_id !== null)
      await updateAttempt(trx, payment.current_attempt_id, { superseded_at: now, next_sync_at: null, sync_locked_until: null });
    return { payment: claimed, attempt };
  });
}

/** What the payment goes back to when a claim is released: the state detail and the attempt it had before. */
interface Restore {
  state_detail: PaymentRow['state_detail'];
  current_attempt_id: number | null;
}

/** Releases a claim in `trx`: the payment as it was (if still at `claimedVersion`), the claim's attempt removed, the previous one current again and asked about at `now`. */
async function releaseClaim(
  trx: Transaction<Database>,
  paymentId: number,
  claimedVersion: number,
  attemptId: number,
  restore: Restore,
  now: number,
): Promise<boolean> {
  const released = await trx
    .updateTable('payments')
    .set({ state_detail: restore.state_detail, version: claimedVersion + 1, current_attempt_id: restore.current_attempt_id })
    .where('id', '=', paymentId)
    .where('version', '=', claimedVersion)
    .executeTakeFirst();
  if (Number(released.numUpdatedRows) === 0) return false;
  await trx.deleteFrom('payment_attempts').where('id', '=', attemptId).execute();
  // Current again, and asked about at once (its schedule was cleared by the claim).
  if (restore.current_attempt_id !== null) await updateAttempt(trx, restore.current_attempt_id, { superseded_at: null, next_sync_at: now });
  return true;
}

/** Nothing reached the bank: the claim is released and the attempt it opened removed, the previous one current again. */
export async function releaseInitiation(db: Kysely<Database>, before: PaymentRow, claimed: PaymentRow, attempt: AttemptRow): Promise<void> {
  await db.transaction().execute((trx) => releaseClaim(trx, before.id, claimed.version, attempt.id, before, claimed.updated_at));
}

/**
 * Ends the claim of a process found dead (claim-recovery.ts decides that), its attempt's row locked
 * so that a process taken for dead cannot record a bank call meanwhile (attemptRecorder's fence):
 * - no bank call recorded: nothing can have reached the bank; the claim is released, the payment as
 *   before it (`released`);
 * - a call recorded: it may have reached the bank (`sent`); the caller records the initiation as
 *   unknown through changePayment;
 * - the claim ended meanwhile, or the payment moved on (`gone`).
 */
export async function releaseDeadClaim(db: Kysely<Database>, clock: Clock, payment: PaymentRow, attemptId: number): Promise<'released' | 'sent' | 'gone'> {
  return db.transaction().execute(async (trx) => {
    let locked = trx
      .selectFrom('payment_attempts')
      .select(['id', 'number'])
      .where('id', '=', attemptId)
      .where('payment_id', '=', payment.id)
      .where('outcome', '=', 'pending');
    if (isPostgres(db)) locked = locked.forUpdate();
    const attempt = await locked.executeTakeFirst();
    if (!attempt || payment.current_attempt_id !== attemptId || payment.state_detail !== DETAIL.initiating) return 'gone';
    const call = await trx.selectFrom('bank_calls').select('id').where('attempt_id', '=', attemptId).limit(1).executeTakeFirst();
    if (call) return 'sent';
    // The attempt before this claim (attempts are numbered in order; a released one is removed):
    // an unknown initiation the payer was starting afresh, or a claim that lapsed before.
    const previous = await trx
      .selectFrom('payment_attempts')
      .select(['id', 'outcome'])
      .where('payment_id', '=', payment.id)
      .where('number', '<', attempt.number)
      .orderBy('number', 'desc')
      .limit(1)
      .executeTakeFirst();
    const restore: Restore = previous
      ? { state_detail: previous.outcome === 'pending' ? DETAIL.initiating : DETAIL.initiationUnknown, current_attempt_id: previous.id }
      : { state_detail: null, current_attempt_id: null };
    return (await releaseClaim(trx, payment.id, payment.version, attemptId, restore, clock.now())) ? 'released' : 'gone';
  });
}
