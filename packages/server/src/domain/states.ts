/** Payment states (docs/reference/powens-pay-api.md §5.1). */
export const PAYMENT_STATES = ['created', 'validating', 'pending', 'accepted', 'done', 'rejected', 'expired', 'partial'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export function isPaymentState(value: string): value is PaymentState {
  return (PAYMENT_STATES as readonly string[]).includes(value);
}

export const FINAL_STATES: ReadonlySet<PaymentState> = new Set(['accepted', 'done', 'rejected', 'expired', 'partial']);

export function isFinal(state: PaymentState): boolean {
  return FINAL_STATES.has(state);
}

/** `state_detail` values: Powens' `cancelling` and the ones Payrail sets. */
export const STATE_DETAIL = {
  /** An initiation is being sent to the bank (the payment is claimed: nobody else may send it). */
  initiating: 'initiating',
  /** The bank's answer to the initiation was lost (timeout, reset, 5xx): nothing is re-sent. */
  initiationUnknown: 'initiation_unknown',
  /** The payer must approve a cancellation at the bank. */
  cancelling: 'cancelling',
} as const;
export type StateDetail = (typeof STATE_DETAIL)[keyof typeof STATE_DETAIL];
