/**
 * The state reducer: what a connector's answer does to a payment. Pure — (payment, attempt,
 * outcome, context) → reduction — with no clock, no database and no connector: the caller reads
 * the domain's settings, turns the sync plan into a time (the connector's poll interval) and hands
 * the change to the writer (payment-changes.ts). Unit-tested alone (test/payment-reducer.test.ts).
 */
import { CANCELLED_BY_CLIENT } from '../connectors/kit/cancellation.ts';
import type { ConnectorOutcome } from '../connectors/kit/types.ts';
import { paymentStateOf, trackedOutcome } from '../domain/state-machine.ts';
import type { PaymentState } from '../domain/states.ts';
import type { AttemptRow, AttemptUpdate, PaymentRow } from '../store/schema.ts';
import { DETAIL } from './payment-checks.ts';
import type { PaymentChange } from './payment-changes.ts';

/** Which protocol step an outcome answers: it decides what `unknown` and `refused` mean. */
export type Operation = 'initiate' | 'return' | 'resume' | 'fields' | 'psu' | 'status' | 'cancel' | 'confirm';

export interface OutcomeContext {
  operation: Operation;
  source: 'interactive' | 'background';
  /** The domain's `payment.auto_confirmation` is off: a validated payment waits for the client's confirm (docs/reference/powens-pay-api.md §13). */
  manualConfirmation: boolean;
  /** The connector's partial_status_tracking: execution date types the bank gives no status for past acceptance. */
  partialStatusTracking: readonly string[];
  /**
   * The client's cancellation of this attempt was sent (a `cancel` bank call recorded before it
   * left, not refused): a rejection the connector puts down to the payer (CancelledByUser, e.g. a
   * bank's CANC read by status sync before the cancellation's own answer was written) is the client's.
   */
  clientCancelled?: boolean;
}

/**
 * When status sync asks the bank next: `none` (final, or waiting for someone else), `poll` (on
 * the connector's schedule), `soon` (after an unknown answer: at most a few seconds), `keep`
 * (leave the schedule as it is).
 */
type StateOutcome = Extract<ConnectorOutcome, { kind: 'state' }>;

export type SyncPlan = 'none' | 'poll' | 'soon' | 'keep';

export type Reduction =
  /** The payment changes (state, action, fields…); the attempt's new facts go with it. */
  | { kind: 'change'; change: Omit<PaymentChange, 'attempt' | 'also'>; attempt: AttemptUpdate; sync: SyncPlan }
  /** The payment stays as it is; only the attempt is updated. `refused`: the bank refused what the client asked (notSupported). */
  | { kind: 'record'; attempt: AttemptUpdate; sync: SyncPlan; refused?: true };

export const UNKNOWN_INITIATION_TEXT =
  'Your bank did not confirm that it received this payment. Nothing will be sent again without you; its status is being checked.';

/** The manual confirmation reads this from the attempt's data: what the bank said when the payer validated. */
export interface PendingConfirmation {
  state: StateOutcome['state'];
  instructions: NonNullable<StateOutcome['instructions']> | null;
  bank_status: string | null;
}

/** Whether an answer ends the payment as the payer's cancellation: the one a client's cancellation in flight makes its own. */
export function isPayerCancellation(outcome: ConnectorOutcome): boolean {
  return (outcome.kind === 'state' || outcome.kind === 'refused') && outcome.error_code === 'CancelledByUser';
}

export function reduceOutcome(payment: PaymentRow, attempt: AttemptRow | null, answer: ConnectorOutcome, ctx: OutcomeContext): Reduction {
  const outcome = ctx.clientCancelled && isPayerCancellation(answer) ? { ...answer, ...CANCELLED_BY_CLIENT } : answer;
  const data = JSON.stringify(outcome.data);
  const final = outcome.kind === 'state' && outcome.state !== 'pending';
  const sync: SyncPlan = final ? 'none' : 'poll';
  const cleared = { validate_uri: null, fields: null, error_code: null, error_description: null, state_detail: null };
  const bankRef = outcome.bank_reference ? { bank_payment_id: outcome.bank_reference } : {};
  const facts: AttemptUpdate = {
    ...bankRef,
    connector_data: data,
    ...(outcome.consent !== undefined ? { consent_sealed: outcome.consent } : {}),
    // The bank's raw status while the payer is still at the bank (e.g. a Verification of Payee code).
    ...(outcome.bank_status !== undefined ? { bank_status: outcome.bank_status } : {}),
  };
  if (ctx.operation === 'initiate') facts.outcome = outcome.kind === 'unknown' ? 'unknown' : outcome.kind === 'refused' ? 'refused' : 'ok';
  const change = (c: Reduction & { kind: 'change' }) => ({ ...c, change: { ...c.change, patch: { ...bankRef, ...c.change.patch } } });
  const previousStatus = attempt?.bank_status ?? null;
  switch (outcome.kind) {
    case 'redirect':
      return change({
        kind: 'change',
        change: { state: 'validating', patch: { ...cleared, action: 'redirect', validate_uri: outcome.validate_uri } },
        attempt: facts,
        sync,
      });
    case 'decoupled':
      return change({
        kind: 'change',
        change: { state: 'validating', patch: { ...cleared, action: 'decoupled', error_description: outcome.description } },
        attempt: facts,
        sync,
      });
    case 'fields':
      return change({
        kind: 'change',
        change: {
          state: 'validating',
          patch: { ...cleared, action: 'additionalInformationNeeded', fields: JSON.stringify(outcome.fields), error_description: outcome.description ?? null },
        },
        attempt: facts,
        sync,
      });
    case 'psuValidation':
      return change({ kind: 'change', change: { state: 'validating', patch: { ...cleared, action: 'psuValidation' } }, attempt: facts, sync });
    case 'cancelling':
      // Powens: the payment stays pending, state_detail cancelling, validate_uri for the payer.
      return change({
        kind: 'change',
        change: {
          patch: { ...cleared, action: 'redirect', state_detail: DETAIL.cancelling, validate_uri: outcome.validate_uri },
          detail: { cancellation: 'needs the payer' },
        },
        attempt: facts,
        sync,
      });
    case 'unknown':
      if (ctx.operation === 'initiate') {
        // Never re-sent: the payment waits, the payer is told plainly, status sync asks what it can.
        return change({
          kind: 'change',
          change: {
            state: 'validating',
            patch: { ...cleared, action: null, state_detail: DETAIL.initiationUnknown, error_description: UNKNOWN_INITIATION_TEXT },
            detail: { attempt: 'unknown', reason: outcome.reason },
            source: ctx.source,
          },
          attempt: facts,
          sync,
        });
      }
      return { kind: 'record', attempt: { connector_data: data, sync_locked_until: null }, sync: 'soon' };
    case 'refused':
      if (ctx.operation === 'status') return { kind: 'record', attempt: { sync_locked_until: null }, sync: 'poll' };
      if (ctx.operation === 'cancel') return { kind: 'record', attempt: {}, sync: 'keep', refused: true };
      return change({
        kind: 'change',
        change: {
          state: 'rejected',
          patch: { ...cleared, action: null, error_code: outcome.error_code, error_description: outcome.error_description },
          detail: { bank_status: outcome.bank_status ?? null, refused: outcome.error_code },
          source: ctx.source,
        },
        attempt: { ...facts, bank_status: outcome.bank_status ?? previousStatus },
        sync: 'none',
      });
    case 'state': {
      const tracking = ctx.partialStatusTracking;
      const instructionStates = outcome.instructions?.map((s) => trackedOutcome(s, tracking, payment.execution_date_type));
      const state: PaymentState = outcome.partial
        ? 'partial'
        : instructionStates
          ? paymentStateOf(instructionStates)
          : trackedOutcome(outcome.state, tracking, payment.execution_date_type);
      const bankStatus = outcome.bank_status !== undefined ? outcome.bank_status : previousStatus;
      // Manual confirmation (docs/reference/powens-pay-api.md §13): a payment the payer validated waits for the client's confirm.
      if (
        ctx.source === 'interactive' &&
        ctx.manualConfirmation &&
        state !== 'rejected' &&
        state !== 'partial' &&
        (payment.state === 'created' || payment.state === 'validating') &&
        !outcome.data.no_confirmation
      ) {
        const pending: PendingConfirmation = { state: outcome.state, instructions: outcome.instructions ?? null, bank_status: outcome.bank_status ?? null };
        return change({
          kind: 'change',
          change: { state: 'validating', patch: { ...cleared, action: 'confirm' } },
          attempt: { ...facts, bank_status: bankStatus, connector_data: JSON.stringify({ ...outcome.data, confirm_outcome: pending }) },
          sync: 'none',
        });
      }
      return change({
        kind: 'change',
        change: {
          state,
          // After validation every instruction carries its state, even when the bank answers for the whole payment.
          ...(instructionStates ? { instructionStates } : { allInstructionsState: state }),
          patch: {
            ...cleared,
            action: null,
            error_code: state === 'partial' ? null : (outcome.error_code ?? null),
            error_description: outcome.error_description ?? null,
          },
          detail: outcome.bank_status ? { bank_status: outcome.bank_status } : undefined,
          source: ctx.source,
        },
        attempt: { ...facts, bank_status: bankStatus },
        sync,
      });
    }
  }
}

/** Whether the answer may need the domain's confirmation setting (read by the caller only then). */
export function needsConfirmationSetting(outcome: ConnectorOutcome, source: 'interactive' | 'background'): boolean {
  return outcome.kind === 'state' && source === 'interactive';
}
