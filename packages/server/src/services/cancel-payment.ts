/** Cancelling a payment on the client's behalf (`POST /payments/{id}` with `cancel: true`, `payrail payments cancel`). */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import type { Database, PaymentRow } from '../store/schema.ts';
import { changePayment } from './payment-changes.ts';

/** created or validating → rejected (CancelledByClient); pending → notSupported (Powens); final → invalidState. */
export async function cancelPaymentByClient(db: Kysely<Database>, clock: Clock, payment: PaymentRow): Promise<PaymentRow> {
  if (payment.state === 'pending') throw new ApiError('notSupported', 'Bad request, please check your request parameters.', { field: 'cancel' });
  if (payment.state !== 'created' && payment.state !== 'validating') throw new ApiError('invalidState', `the payment is ${payment.state} and cannot be cancelled`);
  return changePayment(db, clock, payment, {
    state: 'rejected',
    patch: { action: null, validate_uri: null, fields: null, error_code: 'CancelledByClient', error_description: 'The payment was cancelled through the API.' },
    detail: { by: 'client' },
  });
}
