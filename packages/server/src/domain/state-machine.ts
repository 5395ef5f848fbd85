/** Payment state machine (docs/reference/powens-pay-api.md §5.2): the one table of allowed transitions. Final states never change. */
import { ForbiddenStateChange } from './errors.ts';
import { FINAL_STATES, type PaymentState } from './states.ts';

export const TRANSITIONS: Readonly<Record<PaymentState, readonly PaymentState[]>> = {
  created: ['validating', 'rejected', 'expired'],
  validating: ['pending', 'done', 'accepted', 'partial', 'rejected', 'expired'],
  pending: ['done', 'accepted', 'partial', 'rejected', 'expired'],
  accepted: [],
  done: [],
  rejected: [],
  expired: [],
  partial: [],
};

export function canTransition(from: PaymentState, to: PaymentState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: PaymentState, to: PaymentState): void {
  if (!canTransition(from, to)) {
    throw new ForbiddenStateChange(from, to, `a ${from} payment cannot become ${to}${FINAL_STATES.has(from) ? ' (final states never change)' : ''}`);
  }
}

/** Actions a payment in `validating` may expose (docs/reference/powens-pay-api.md §5.3). */
export const PAYMENT_ACTIONS = ['redirect', 'decoupled', 'additionalInformationNeeded', 'psuValidation', 'confirm'] as const;
export type PaymentAction = (typeof PAYMENT_ACTIONS)[number];

export type InstructionState = 'pending' | 'done' | 'accepted' | 'rejected';

/**
 * A bulk payment's state from its instructions' (docs/reference/powens-pay-api.md §11): pending while any is pending; partial
 * when some were rejected and others went through; otherwise their common outcome (done and
 * accepted together: accepted, the weaker one).
 */
export function paymentStateOf(states: readonly InstructionState[]): PaymentState {
  if (states.length === 0) throw new Error('a payment has instructions');
  if (states.includes('pending')) return 'pending';
  const rejected = states.filter((s) => s === 'rejected').length;
  if (rejected === states.length) return 'rejected';
  if (rejected > 0) return 'partial';
  return states.every((s) => s === 'done') ? 'done' : 'accepted';
}

/** Connectors listing a payment type in partial_status_tracking stop tracking at accepted, not done. */
export function trackedOutcome(state: InstructionState, partialStatusTracking: readonly string[], executionDateType: string): InstructionState {
  return state === 'done' && partialStatusTracking.includes(executionDateType) ? 'accepted' : state;
}
