/** The outcomes of a cancellation Payrail asked the bank for (`Connector.cancel`), the same for every standard. */
import type { ConnectorOutcome } from './types.ts';

/**
 * What a client's cancellation ends with, whichever answer of the bank reports it first: the
 * cancellation's own answer, a status read, or the payer's cancellation the core makes the client's
 * while one is in flight (services/payment-reducer.ts).
 */
export const CANCELLED_BY_CLIENT = {
  error_code: 'CancelledByClient',
  error_description: "The payment was cancelled at the bank at the client's request.",
} as const;

/** The bank's word that the payment is cancelled (`CANC`), at the client's request. */
export function cancelledByClient(data: Record<string, unknown>): ConnectorOutcome {
  return { kind: 'state', state: 'rejected', ...CANCELLED_BY_CLIENT, bank_status: 'CANC', data };
}

/** The bank refused the cancellation (its error in `description`): the payment stays as it is. */
export function cancellationRefused(description: string, data: Record<string, unknown>): ConnectorOutcome {
  return { kind: 'refused', error_code: 'notSupported', error_description: `The bank refused the cancellation: ${description}`, data };
}
