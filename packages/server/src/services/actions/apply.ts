/**
 * APPLY, the bank boundary's last step (docs/banks.md, "The boundary"): the reducer decides what a connector's answer
 * does, this turns its sync plan into a time and hands the change to the writer, with the bank
 * calls' outcomes recorded in the same transaction.
 */
import type { CallRecord } from '../../connectors/kit/http.ts';
import type { ConnectorOutcome } from '../../connectors/kit/types.ts';
import { ApiError, VersionConflict } from '../../domain/errors.ts';
import { isFinal } from '../../domain/states.ts';
import type { Transaction } from 'kysely';
import type { AttemptRow, AttemptUpdate, Database, InstructionRow, PaymentRow, PaymentUpdate } from '../../store/schema.ts';
import { type Attempted, recordAttempt, settleCalls } from '../attempts.ts';
import { readPaymentRow } from '../../store/repositories/payments.ts';
import { cachedConfig } from '../config.ts';
import { changePayment, instructionsAfter } from '../payment-changes.ts';
import { isPayerCancellation, needsConfirmationSetting, type Operation, reduceOutcome, type SyncPlan } from '../payment-reducer.ts';
import { type ActionEnvironment, connectorContext, connectorPayment } from './context.ts';

/** After an unknown status or cancellation answer, ask the bank again soon. */
const UNKNOWN_RETRY_MS = 5_000;

export interface ApplyOptions {
  source?: 'interactive' | 'background';
  operation?: Operation;
  calls?: readonly CallRecord[];
  /** More of the payment's columns to write with a change (the payer's choices at validation). */
  payment?: PaymentUpdate;
  /** More of the attempt's columns to write with a change (status sync's health). */
  attempt?: AttemptUpdate;
  /** More writes that must commit with a change (the recovery pass's calls it found unanswered). */
  also?: (trx: Transaction<Database>) => Promise<void>;
  /** The payment's instructions, read with this version of it (changePayment's one-statement path on PostgreSQL). */
  instructions?: readonly InstructionRow[];
}

/** Turns a connector outcome into the payment's new state, action and fields, and the attempt's new facts. */
export async function applyOutcome(
  env: ActionEnvironment,
  payment: PaymentRow,
  attempt: AttemptRow | null,
  outcome: ConnectorOutcome,
  options: ApplyOptions = {},
): Promise<PaymentRow> {
  return (await applyOutcomeRecord(env, payment, attempt, outcome, options)).payment;
}

/** The payment as an outcome left it, with its instructions when the caller gave them (`options.instructions`), their states as the change wrote them. */
export interface Applied {
  payment: PaymentRow;
  instructions?: readonly InstructionRow[];
}

async function applyOutcomeRecord(
  env: ActionEnvironment,
  payment: PaymentRow,
  attempt: AttemptRow | null,
  outcome: ConnectorOutcome,
  options: ApplyOptions,
): Promise<Applied> {
  const source = options.source ?? 'interactive';
  const operation = options.operation ?? 'return';
  const calls = options.calls ?? [];
  const uuid = options.payment?.connector_uuid ?? payment.connector_uuid;
  const connector = uuid ? await env.connectors.byUuid(uuid, { any: true }) : undefined;
  const manualConfirmation = needsConfirmationSetting(outcome, source) && (await cachedConfig(env.db, payment.domain_id))['payment.auto_confirmation'] === '0';
  const clientCancelled = isPayerCancellation(outcome) && (operation === 'cancel' || (await clientCancelSent(env.db, attempt)));
  const reduction = reduceOutcome(payment, attempt, outcome, {
    operation,
    source,
    manualConfirmation,
    clientCancelled,
    partialStatusTracking: connector?.descriptor.payment_settings.partial_status_tracking ?? [],
  });
  const interval = () =>
    connector ? connector.pollIntervalMs({ ...connectorPayment({ payment, instructions: [] }, attempt), data: outcome.data }, connectorContext(env)) : 60_000;
  const schedule = (plan: SyncPlan): AttemptUpdate =>
    plan === 'keep' ? {} : { next_sync_at: plan === 'none' ? null : env.clock.now() + (plan === 'soon' ? Math.min(interval(), UNKNOWN_RETRY_MS) : interval()) };
  if (reduction.kind === 'record') {
    await recordAttempt(env.db, attempt?.id ?? null, { ...reduction.attempt, ...schedule(reduction.sync) }, calls, outcome);
    if (reduction.refused) throw new ApiError('notSupported', 'Bad request, please check your request parameters.');
    return { payment, ...(options.instructions ? { instructions: options.instructions } : {}) };
  }
  const attemptPatch: AttemptUpdate = { ...options.attempt, ...reduction.attempt, ...schedule(reduction.sync) };
  const updated = await changePayment(env, payment, {
    ...reduction.change,
    patch: { ...options.payment, ...reduction.change.patch },
    ...(attempt ? { attempt: { id: attempt.id, patch: attemptPatch } } : {}),
    settle: { calls, outcome },
    ...(options.instructions ? { instructions: options.instructions } : {}),
    ...(options.also ? { also: options.also } : {}),
  });
  return { payment: updated, ...(options.instructions ? { instructions: instructionsAfter(options.instructions, reduction.change) } : {}) };
}

/**
 * Whether the client's cancellation of this attempt went to the bank: its `cancel` call's row is
 * written before the call leaves (attempts.ts callBank), so an answer read after the bank acted on
 * it — status sync's CANC, written before the cancellation's own answer — finds it, whatever the
 * order of the two writes. A cancellation the bank refused does not count.
 */
async function clientCancelSent(db: ActionEnvironment['db'], attempt: AttemptRow | null): Promise<boolean> {
  if (!attempt) return false;
  const call = await db
    .selectFrom('bank_calls')
    .select('id')
    .where('attempt_id', '=', attempt.id)
    .where('operation', '=', 'cancel')
    .where('outcome', '!=', 'refused')
    .limit(1)
    .executeTakeFirst();
  return call !== undefined;
}

/** How many times a bank's answer is applied again to a payment that changed meanwhile. */
const REAPPLY_LIMIT = 3;

/**
 * Applies what an operation at the bank answered. The bank has answered, so a concurrent change of
 * the payment (status sync reading the same news, the payer, another process) must not lose that
 * answer: on a version conflict it is applied again to the payment as it is now, while the payment
 * still follows the same attempt. A payment that became final meanwhile is answered as it stands
 * (the bank's news reached it first), except a cancellation of a payment that did not end rejected.
 * An initiation never comes here twice: its claim (payment-changes.ts) already decided who sends it.
 * Whatever happens, the calls' outcomes are recorded.
 */
export async function applyAttempt(
  env: ActionEnvironment,
  payment: PaymentRow,
  attempt: AttemptRow | null,
  attempted: Attempted,
  operation: Operation,
  paymentPatch: PaymentUpdate = {},
): Promise<PaymentRow> {
  return (await applyAttemptRecord(env, payment, attempt, attempted, operation, paymentPatch)).payment;
}

/**
 * applyAttempt, with `instructions` (read with `payment`): the answer also carries them as the
 * change left them, so that the caller can answer without reading the payment again.
 */
export async function applyAttemptRecord(
  env: ActionEnvironment,
  payment: PaymentRow,
  attempt: AttemptRow | null,
  attempted: Attempted,
  operation: Operation,
  paymentPatch: PaymentUpdate = {},
  instructions?: readonly InstructionRow[],
): Promise<Applied> {
  const outcome = attempted.outcome!;
  let current = payment;
  for (let applied = 1; ; applied++) {
    try {
      // The instructions were read with `payment`: not with a version read since.
      const read = current === payment && instructions ? { instructions } : {};
      return await applyOutcomeRecord(env, current, attempt, outcome, { operation, calls: attempted.calls, payment: paymentPatch, ...read });
    } catch (error) {
      if (error instanceof VersionConflict && operation !== 'initiate' && applied < REAPPLY_LIMIT) {
        const fresh = await readPaymentRow(env.db, payment.domain_id, payment.id);
        if (fresh && fresh.current_attempt_id === (attempt?.id ?? null)) {
          if (!isFinal(fresh.state)) {
            current = fresh;
            continue;
          }
          if (operation !== 'cancel' || fresh.state === 'rejected') {
            await settleCalls(env.db, attempted.calls, outcome).catch(() => undefined);
            return { payment: fresh };
          }
        }
      }
      if (!(error instanceof ApiError && error.code === 'notSupported')) await settleCalls(env.db, attempted.calls, outcome).catch(() => undefined);
      throw error;
    }
  }
}
