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
import { precompile } from '../store/precompiled.ts';
import type { AttemptRow, AttemptUpdate, Database, InstructionRow, PaymentRow, PaymentUpdate } from '../store/schema.ts';
import type { CallRecord } from '../connectors/kit/http.ts';
import type { ConnectorOutcome } from '../connectors/kit/types.ts';
import { enqueueStateChange, stateChangeBody } from '../webhooks/endpoints.ts';
import { cachedConfig } from './config.ts';
import type { WorkNotifier } from './work-notifier.ts';
import { CALL_COLUMNS, callSettlements, EXCHANGE_COLUMNS, settleCalls, updateAttempt } from './attempts.ts';
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
  /** The bank calls that led to the change: their outcomes and exchange-log rows commit with it (attempts.ts callSettlements). */
  settle?: { calls: readonly CallRecord[]; outcome: ConnectorOutcome | null };
  /** More writes that must commit with the change. */
  also?: (trx: Transaction<Database>) => Promise<void>;
  /**
   * The payment's instructions as read with `payment` (same version). Given, PostgreSQL writes the
   * change in one statement, its webhook's body made from them (changeOnPostgres).
   */
  instructions?: readonly InstructionRow[];
}

/** The payment's instructions (as read with the payment) with the states a change gives them. */
export function instructionsAfter(instructions: readonly InstructionRow[], change: PaymentChange): readonly InstructionRow[] {
  if (!change.instructionStates && change.allInstructionsState === undefined) return instructions;
  return instructions.map((row) => {
    const state = change.instructionStates?.[row.position] ?? change.allInstructionsState;
    return state ? { ...row, state } : row;
  });
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
  const announce = steps.length > 0 && (systematic || change.source === 'background');
  // The job loops are woken when the change queued work for now: webhooks, or a sync due at once (a
  // sync due later is found by their polling, without a query per change in the middle of a burst).
  const nextSync = attempt?.patch.next_sync_at;
  const syncDue = nextSync !== undefined && nextSync !== null && nextSync <= now;
  if (isPostgres(db) && !change.also && (!announce || change.instructions)) {
    const { updated, queued } = await changeOnPostgres(db, payment, change, { patch, attempt, steps, announce, now });
    if (queued > 0 || syncDue) env.notifier.workQueued();
    return updated;
  }
  let queued = 0;
  return db
    .transaction()
    .execute(async (trx) => {
      const set = definedColumns(patch);
      const values: Record<string, unknown> = { id: payment.id, version: payment.version, next: payment.version + 1 };
      for (const c of set) values[`${c}_p`] = patch[c];
      const updated = (await updatePaymentGuarded.execute(trx, { ...values, set })).rows[0];
      if (!updated) throw new VersionConflict(payment.id);
      if (attempt) await updateAttempt(trx, attempt.id, attempt.patch);
      if (change.allInstructionsState) {
        await trx.updateTable('payment_instructions').set({ state: change.allInstructionsState }).where('payment_id', '=', payment.id).execute();
      }
      for (const [position, state] of (change.instructionStates ?? []).entries()) {
        await trx.updateTable('payment_instructions').set({ state }).where('payment_id', '=', payment.id).where('position', '=', position).execute();
      }
      if (change.settle) await settleCalls(trx, change.settle.calls, change.settle.outcome);
      if (change.also) await change.also(trx);
      const detail = change.detail ? JSON.stringify(change.detail) : null;
      let previous = from;
      for (const step of steps) {
        await insertEvent.execute(trx, { payment_id: payment.id, type: 'state_changed', from_state: previous, to_state: step, data: detail, created_at: now });
        previous = step;
      }
      if (steps.length === 0) {
        await insertEvent.execute(trx, { payment_id: payment.id, type: 'updated', from_state: from, to_state: from, data: detail, created_at: now });
      } else {
        // The announcement is written with the change: a crash can lose neither.
        if (announce) {
          // On PostgreSQL, NOTIFY in the transaction wakes every process's job loop when it commits.
          queued = await enqueueStateChange(trx, updated, now);
          if (queued > 0 && isPostgres(db)) await sql`notify payrail_jobs`.execute(trx);
        }
      }
      return updated;
    })
    .then((updated) => {
      if (queued > 0 || syncDue) env.notifier.workQueued();
      return updated;
    });
}

const EVENT_COLUMNS = ['payment_id', 'type', 'from_state', 'to_state', 'data', 'created_at'] as const;

/** The columns of an update that are set (an undefined value sets nothing), `version` apart: the guard sets it. */
function definedColumns<T extends object>(patch: T): (keyof T & string)[] {
  return (Object.keys(patch) as (keyof T & string)[]).filter((k) => patch[k] !== undefined && k !== 'version');
}

// The transaction path's statements (SQLite, and PostgreSQL changes with extra writes), compiled once per
// shape: building them with the query builder on every change cost more CPU than running them on SQLite.
const updatePaymentGuarded = precompile(
  (db, $, _shape: string, values: { set: (keyof PaymentUpdate & string)[] }) =>
    db
      .updateTable('payments')
      .set({ ...$.row(values.set, '_p'), version: $('next') })
      .where('id', '=', $('id'))
      .where('version', '=', $('version'))
      .returningAll(),
  (values) => values.set.join(','),
);
const insertEvent = precompile((db, $) => db.insertInto('payment_events').values($.row(EVENT_COLUMNS)));

/** What the statement's text depends on: which columns are set, how many calls, events and instruction updates. */
interface ChangeShape {
  patch: string[];
  attempt: string[];
  allInstructions: boolean;
  instructions: number;
  calls: number;
  events: number;
  announce: boolean;
}

const changeStatement = precompile(
  (db, $, _key: string, values: { shape: ChangeShape }) => {
    const { shape } = values;
    const sets = (columns: readonly string[], prefix: string) => sql.join(columns.map((c) => sql`${sql.ref(c)} = ${$(prefix + c)}`));
    const list = (columns: readonly string[], prefix: string) => sql.join(columns.map((c) => $(prefix + c)));
    const names = (columns: readonly string[]) => sql.join(columns.map((c) => sql.ref(c)));
    const won = sql`exists (select 1 from u)`;
    const parts = [
      sql`u as (update payments set ${sets(shape.patch, 'p_')}, version = ${$('next')} where id = ${$('id')} and version = ${$('version')} returning *)`,
    ];
    if (shape.attempt.length > 0) parts.push(sql`a as (update payment_attempts set ${sets(shape.attempt, 'a_')} where id = ${$('attempt_id')} and ${won})`);
    if (shape.allInstructions) parts.push(sql`ia as (update payment_instructions set state = ${$('all_state')} where payment_id = ${$('id')} and ${won})`);
    for (let i = 0; i < shape.instructions; i++)
      parts.push(
        sql`${sql.raw(`i${i}`)} as (update payment_instructions set state = ${$(`i${i}_state`)} where payment_id = ${$('id')} and position = ${$(`i${i}_position`)} and ${won})`,
      );
    for (let i = 0; i < shape.calls; i++) {
      parts.push(sql`${sql.raw(`c${i}`)} as (update bank_calls set ${sets(CALL_COLUMNS, `c${i}_`)} where id = ${$(`c${i}_id`)} and ${won})`);
      // Each exchange row after the one before it (reading its RETURNING): the sub-statements of a WITH run in no set
      // order, and the exchange log lists a payment's exchanges by id, so the calls keep the order they were made in.
      const after = i === 0 ? sql`u` : sql`u, ${sql.raw(`x${i - 1}`)}`;
      parts.push(
        sql`${sql.raw(`x${i}`)} as (insert into bank_exchanges (${names(EXCHANGE_COLUMNS)}) select ${list(EXCHANGE_COLUMNS, `x${i}_`)} from ${after} returning 1)`,
      );
    }
    for (let i = 0; i < shape.events; i++)
      parts.push(
        sql`${sql.raw(`e${i}`)} as (insert into payment_events (${names(EVENT_COLUMNS)}) select ${list(EVENT_COLUMNS, `e${i}_`)} from ${i === 0 ? sql`u` : sql`u, ${sql.raw(`e${i - 1}`)}`} returning 1)`,
      );
    let select = sql`select u.* from u`;
    if (shape.announce) {
      const endpoint = sql`enabled = 1 and event = 'PAYMENT_STATE_UPDATED'`;
      parts.push(
        sql`wd as (insert into webhook_data (domain_id, payment_id, event, body, created_at)
          select ${$('domain_id')}, ${$('id')}, 'PAYMENT_STATE_UPDATED', ${$('body')}, ${$('now')} from u
          where exists (select 1 from webhook_endpoints where domain_id = ${$('domain_id')} and ${endpoint}) returning id)`,
        sql`wq as (insert into webhook_deliveries (data_id, endpoint_id, payment_id, status, attempts, next_attempt_at, created_at)
          select wd.id, e.id, ${$('id')}, 'pending', 0, ${$('now')}, ${$('now')} from wd cross join webhook_endpoints e
          where e.domain_id = ${$('domain_id')} and e.${endpoint} returning endpoint_id)`,
        // Wakes every process's job loop when the statement commits (as NOTIFY in a transaction does).
        sql`n as (select pg_notify('payrail_jobs', '') from (select 1 from wq limit 1) as queued)`,
      );
      select = sql`select u.*, (select count(*) from wq) as payrail_queued, (select count(*) from n) as payrail_notified from u`;
    }
    const query = sql<PaymentRow & { payrail_queued?: number; payrail_notified?: number }>`with ${sql.join(parts)} ${select}`;
    return { compile: () => query.compile(db) };
  },
  (values) => JSON.stringify(values.shape),
);

/**
 * changePayment on PostgreSQL in one statement (one round trip and one commit instead of a
 * transaction's BEGIN, five to ten statements and COMMIT): the guarded update of the payment, and
 * as data-modifying CTEs that write only if it won (a statement is one transaction: all or
 * nothing), the attempt's facts, the instructions' states, the calls' outcomes and exchange-log
 * rows, the event rows, and the announcement (its body made from the instructions the caller read
 * with the payment, one delivery per enabled endpoint, NOTIFY when any).
 */
async function changeOnPostgres(
  db: Kysely<Database>,
  payment: PaymentRow,
  change: PaymentChange,
  plan: { patch: PaymentUpdate; attempt: PaymentChange['attempt']; steps: PaymentState[]; announce: boolean; now: number },
): Promise<{ updated: PaymentRow; queued: number }> {
  const { now } = plan;
  const values: Record<string, unknown> = { id: payment.id, version: payment.version, next: payment.version + 1, now, domain_id: payment.domain_id };
  const patch = definedColumns(plan.patch);
  for (const c of patch) values[`p_${c}`] = plan.patch[c as keyof PaymentUpdate];
  const attemptPatch = plan.attempt ? definedColumns(plan.attempt.patch) : [];
  if (plan.attempt) {
    values.attempt_id = plan.attempt.id;
    for (const c of attemptPatch) values[`a_${c}`] = plan.attempt.patch[c as keyof AttemptUpdate];
  }
  if (change.allInstructionsState) values.all_state = change.allInstructionsState;
  const positions = [...(change.instructionStates ?? []).entries()];
  for (const [i, [position, state]] of positions.entries()) Object.assign(values, { [`i${i}_state`]: state, [`i${i}_position`]: position });
  const settled = change.settle ? callSettlements(change.settle.calls, change.settle.outcome) : [];
  for (const [i, { callId, call, exchange }] of settled.entries()) {
    values[`c${i}_id`] = callId;
    for (const c of CALL_COLUMNS) values[`c${i}_${c}`] = call[c];
    for (const c of EXCHANGE_COLUMNS) values[`x${i}_${c}`] = exchange[c] ?? null;
  }
  const detail = change.detail ? JSON.stringify(change.detail) : null;
  const events =
    plan.steps.length > 0
      ? plan.steps.map((to, i) => ({ type: 'state_changed', from_state: i === 0 ? payment.state : plan.steps[i - 1], to_state: to }))
      : [{ type: 'updated', from_state: payment.state, to_state: payment.state }];
  for (const [i, event] of events.entries())
    Object.assign(values, { [`e${i}_payment_id`]: payment.id, [`e${i}_data`]: detail, [`e${i}_created_at`]: now, ...prefixed(event, `e${i}_`) });
  if (plan.announce) {
    // The payment as the update writes it (its version guard: nothing else changed it), its instructions with the change's states.
    const after = { ...payment, ...plan.patch, version: payment.version + 1 } as PaymentRow;
    values.body = stateChangeBody(after, instructionsAfter(change.instructions!, change));
  }
  const shape: ChangeShape = {
    patch,
    attempt: attemptPatch,
    allInstructions: change.allInstructionsState !== undefined,
    instructions: positions.length,
    calls: settled.length,
    events: events.length,
    announce: plan.announce,
  };
  const row = (await changeStatement.execute(db, { ...values, shape })).rows[0];
  if (!row) throw new VersionConflict(payment.id);
  const { payrail_queued: queued, payrail_notified: _notified, ...updated } = row;
  return { updated, queued: Number(queued ?? 0) };
}

function prefixed(o: Record<string, unknown>, prefix: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [prefix + k, v]));
}

/**
 * The claim on PostgreSQL in one statement (one round trip and one commit instead of six round trips):
 * the guarded update takes the attempt's id from its sequence and points the payment at it, the
 * attempt is inserted with that id, and the previous attempt is superseded, each only if the guarded
 * update won (a statement is one transaction: all or nothing). Two claimants of one version: the
 * second waits for the first's row lock, finds the version changed and claims nothing.
 */
const claimOnPostgres = precompile((db, $) => {
  const query = sql<PaymentRow & { attempt_json: AttemptRow }>`with won as (
      update payments set state_detail = ${$('detail')}, updated_at = ${$('now')}, version = ${$('next')},
        current_attempt_id = nextval(pg_get_serial_sequence('payment_attempts', 'id'))
      where id = ${$('id')} and version = ${$('version')}
      returning *
    ), attempt as (
      insert into payment_attempts (id, payment_id, number, connector_uuid, bank_id, outcome, created_at, claimed_by)
      select won.current_attempt_id, won.id, coalesce((select max(a.number) from payment_attempts a where a.payment_id = won.id), 0) + 1,
        ${$('connector_uuid')}, ${$('bank_id')}, 'pending', ${$('now')}, ${$('claimed_by')}
      from won
      returning *
    ), superseded as (
      update payment_attempts set superseded_at = ${$('now')}, next_sync_at = null, sync_locked_until = null
      where id = ${$('previous')} and exists (select 1 from won)
    )
    select won.*, row_to_json(attempt.*) as attempt_json from won, attempt`;
  return { compile: () => query.compile(db) };
});

/** The claim on SQLite, in two statements: the next attempt (numbered after the payment's last), then the guarded update pointing at it. */
const openAttemptOnSqlite = precompile((db, $) => {
  const query = sql<AttemptRow>`insert into payment_attempts (payment_id, number, connector_uuid, bank_id, outcome, created_at, claimed_by)
    select ${$('id')}, coalesce(max(number), 0) + 1, ${$('connector_uuid')}, ${$('bank_id')}, 'pending', ${$('now')}, ${$('claimed_by')}
    from payment_attempts where payment_id = ${$('id')}
    returning *`;
  return { compile: () => query.compile(db) };
});
const claimOnSqlite = precompile((db, $) =>
  db
    .updateTable('payments')
    .set({ state_detail: $('detail'), updated_at: $('now'), version: $('next'), current_attempt_id: $('attempt') })
    .where('id', '=', $('id'))
    .where('version', '=', $('version'))
    .returningAll(),
);

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
  const values = {
    id: payment.id,
    version: payment.version,
    next: payment.version + 1,
    detail: DETAIL.initiating,
    now,
    connector_uuid: at.connector_uuid,
    bank_id: at.bank_id,
    claimed_by: at.claimed_by ?? null,
  };
  if (isPostgres(db)) {
    const row = (await claimOnPostgres.execute(db, { ...values, previous: payment.current_attempt_id })).rows[0];
    if (!row) throw new VersionConflict(payment.id);
    const { attempt_json, ...claimed } = row;
    return { payment: claimed, attempt: attempt_json };
  }
  return db.transaction().execute(async (trx) => {
    // SQLite runs one transaction at a time (store/sqlite/group-commit.ts): the attempt is opened
    // first, then the guarded update points the payment at it; if another claim changed the version
    // meanwhile, the update matches nothing and the transaction, the attempt with it, is rolled back.
    const attempt = (await openAttemptOnSqlite.execute(trx, values)).rows[0]!;
    const claimed = (await claimOnSqlite.execute(trx, { ...values, attempt: attempt.id })).rows[0];
    if (!claimed) throw new VersionConflict(payment.id);
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
