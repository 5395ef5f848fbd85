/**
 * The recovery pass (docs/operations.md, "After a crash"): a claim on a payment (its initiation
 * being sent, payment-changes.ts `claimInitiation`) left by a process that died always ends.
 *
 * - Whose claim: the attempt's `claimed_by`, the process's id (instances.ts). A process is dead
 *   once its row is past `alive_until`; on the embedded database, at the start of `serve`, every
 *   other process is (one process owns the file). Claims made before claims had an owner count as
 *   dead once older than STALE_CLAIM_MS.
 * - Nothing sent (no `bank_calls` row for the attempt; the test bank never has one): the claim is
 *   released at once, the payment as it was before it (`releaseDeadClaim`).
 * - A call recorded: it may have reached the bank, so the initiation is `unknown` and follows the
 *   unknown rules (docs/banks.md): status sync asks the bank where it can, a redirect bank's payer
 *   may start a fresh attempt, and otherwise expiry gives the final answer. The change goes through
 *   the writer and is announced by webhook; the unanswered calls are recorded `unknown` with it.
 *
 * A process wrongly taken for dead (stalled past its lease) cannot send after its claim ended: its
 * next call is refused by the recorder's fence (attempts.ts), and its answer by the version guard.
 */
import { sql } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { VersionConflict } from '../domain/errors.ts';
import { readPaymentRow } from '../store/repositories/payments.ts';
import { readJson } from '../store/rows.ts';
import { applyOutcome } from './actions/apply.ts';
import type { ActionEnvironment } from './actions/context.ts';
import { forgetDeadProcesses, liveProcesses } from './instances.ts';
import { DETAIL, STALE_CLAIM_MS } from './payment-checks.ts';
import { releaseDeadClaim } from './payment-changes.ts';

export interface RecoveryOptions {
  /** This process: its own claims are alive. */
  self: string | null;
  /** The wall clock the processes' leases are kept on (instances.ts), never a sandbox clock. */
  processClock: Clock;
  /** The only process on an embedded database, starting: every other process is dead. */
  everyOtherDead?: boolean;
  /** Claims looked at per pass. */
  limit?: number;
}

export interface RecoveryResult {
  released: number;
  unknown: number;
}

/** Why a recovered initiation is unknown (recorded on the event and the calls). */
export const DEAD_CLAIM_REASON = 'the process sending the initiation stopped before the bank answered';

/** Process rows are kept this long after their lease ended (for the operator's eye), then removed. */
const FORGET_AFTER_MS = 24 * 3600 * 1000;

/** Finds the claims of dead processes and ends each (released, or unknown); returns how many of each. */
export async function recoverClaims(env: ActionEnvironment, options: RecoveryOptions): Promise<RecoveryResult> {
  const { db } = env;
  const now = options.processClock.now();
  if (options.everyOtherDead)
    await db
      .deleteFrom('processes')
      .where('id', '!=', options.self ?? '')
      .execute();
  const candidates = await db
    .selectFrom('payment_attempts as a')
    .innerJoin('payments as p', (j) => j.onRef('p.current_attempt_id', '=', 'a.id'))
    .select(['a.id as attempt_id', 'p.id as payment_id', 'p.domain_id'])
    // Literal, so that PostgreSQL uses the partial index on pending attempts.
    .where(sql<boolean>`a.outcome = 'pending'`)
    .where('p.state_detail', '=', DETAIL.initiating)
    .where((eb) =>
      eb.or([
        eb.and([eb('a.claimed_by', 'is not', null), eb('a.claimed_by', '!=', options.self ?? ''), eb('a.claimed_by', 'not in', liveProcesses(db, now))]),
        options.everyOtherDead
          ? eb('a.claimed_by', 'is', null)
          : eb.and([eb('a.claimed_by', 'is', null), eb('a.created_at', '<', env.clock.now() - STALE_CLAIM_MS)]),
      ]),
    )
    .orderBy('a.id')
    .limit(options.limit ?? 100)
    .execute();
  const result: RecoveryResult = { released: 0, unknown: 0 };
  for (const c of candidates) {
    try {
      const ended = await endClaim(env, Number(c.domain_id), Number(c.payment_id), Number(c.attempt_id));
      if (ended) result[ended]++;
    } catch (error) {
      // Another process ended it first, or the payment moved on: nothing left to do.
      if (!(error instanceof VersionConflict)) throw error;
    }
  }
  if (result.released + result.unknown > 0) env.log?.('warn', 'ended the claims of a process that stopped', { ...result });
  await forgetDeadProcesses(db, now, FORGET_AFTER_MS);
  return result;
}

async function endClaim(env: ActionEnvironment, domainId: number, paymentId: number, attemptId: number): Promise<'released' | 'unknown' | null> {
  const payment = await readPaymentRow(env.db, domainId, paymentId);
  if (!payment) return null;
  const verdict = await releaseDeadClaim(env.db, env.clock, payment, attemptId);
  if (verdict === 'released') return 'released';
  if (verdict === 'gone') return null;
  const attempt = await env.db.selectFrom('payment_attempts').selectAll().where('id', '=', attemptId).executeTakeFirstOrThrow();
  await applyOutcome(
    env,
    payment,
    attempt,
    { kind: 'unknown', reason: DEAD_CLAIM_REASON, data: readJson(attempt.connector_data) ?? {} },
    {
      operation: 'initiate',
      source: 'background',
      also: async (trx) => {
        await trx
          .updateTable('bank_calls')
          .set({ outcome: 'unknown', error: DEAD_CLAIM_REASON })
          .where('attempt_id', '=', attemptId)
          .where('outcome', '=', 'pending')
          .execute();
      },
    },
  );
  return 'unknown';
}
