/** Payment state machine (spec §5.2): the one table of allowed transitions. Final states never change. */
import { ApiError } from './errors.ts';
import { FINAL_STATES, type PaymentState } from './states.ts';

export const TRANSITIONS: Readonly<Record<PaymentState, readonly PaymentState[]>> = {
  created: ['validating', 'rejected', 'expired'],
  validating: ['pending', 'done', 'accepted', 'rejected', 'expired'],
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
    throw new ApiError('invalidState', `a ${from} payment cannot become ${to}${FINAL_STATES.has(from) ? ' (final states never change)' : ''}`);
  }
}

/** Actions a payment in `validating` may expose (spec §5.3). */
export const PAYMENT_ACTIONS = ['redirect', 'decoupled', 'additionalInformationNeeded', 'psuValidation', 'confirm'] as const;
export type PaymentAction = (typeof PAYMENT_ACTIONS)[number];
