/** Payment states (spec §5.1). */
export const PAYMENT_STATES = ['created', 'validating', 'pending', 'accepted', 'done', 'rejected', 'expired', 'partial'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export const FINAL_STATES: ReadonlySet<PaymentState> = new Set(['accepted', 'done', 'rejected', 'expired', 'partial']);

export function isFinal(state: PaymentState): boolean {
  return FINAL_STATES.has(state);
}
