/**
 * Cancellation, the one path: by the payer in the webview (created or validating → rejected,
 * CancelledByUser) and by the client (docs/reference/powens-pay-api.md §12) through `POST /payments/{id}` with `cancel: true`,
 * `payrail payments cancel` and `payrail trigger cancelled`. A client's cancellation of a created
 * or validating payment is rejected here; a pending one is cancelled at the bank through its
 * connector (done, or `cancelling` while the payer approves at the bank); the bank's refusal is
 * Powens' `notSupported`.
 */
import { ApiError } from '../../domain/errors.ts';
import type { PaymentRow, PaymentUpdate } from '../../store/schema.ts';
import { currentAttempt } from '../attempts.ts';
import { changePayment } from '../payment-changes.ts';
import { checkCancel } from '../payment-checks.ts';
import { getPayment, type PaymentRecord } from '../payments.ts';
import { applyAttempt } from './apply.ts';
import { type ActionEnvironment, atBank, connectorOf, connectorPayment } from './context.ts';

const CANCELLED = { action: null, validate_uri: null, fields: null, state_detail: null } as const;

/** The payer cancelled inside the webview. */
export async function cancelByPayer(env: ActionEnvironment, domainId: number, paymentId: number): Promise<PaymentRow> {
  const { payment } = await getPayment(env.db, domainId, paymentId);
  if (payment.state !== 'created' && payment.state !== 'validating') {
    throw new ApiError('invalidState', `the payment is ${payment.state}; the payer can no longer cancel it here`);
  }
  return changePayment(env, payment, {
    state: 'rejected',
    patch: { ...CANCELLED, error_code: 'CancelledByUser', error_description: 'The payer cancelled the payment.' },
    detail: { by: 'payer' },
  });
}

/** created or validating → rejected (CancelledByClient); pending → through the bank when it can; otherwise notSupported. */
export async function cancelPaymentByClient(
  env: ActionEnvironment,
  record: PaymentRecord,
  redirect: { client_redirect_uri: string; client_state?: string | null },
): Promise<PaymentRow> {
  const { payment } = record;
  const connector = payment.connector_uuid ? await connectorOf(env, payment).catch(() => null) : null;
  const path = checkCancel(
    payment,
    connector,
    record.instructions.map((i) => i.execution_date_type),
  );
  if (path === 'local' || !connector) {
    return changePayment(env, payment, {
      state: 'rejected',
      patch: { ...CANCELLED, error_code: 'CancelledByClient', error_description: 'The payment was cancelled through the API.' },
      detail: { by: 'client' },
    });
  }
  const attempt = await currentAttempt(env.db, payment);
  const snapshot = connectorPayment(record, attempt);
  const attempted = await atBank(env, connector, snapshot, attempt, (ctx) => connector.cancel(snapshot, ctx));
  // The payer, if asked to approve at the bank, comes back to the cancellation's redirect URI.
  const extra: PaymentUpdate =
    attempted.outcome?.kind === 'cancelling'
      ? { client_redirect_uri: redirect.client_redirect_uri, ...(redirect.client_state !== undefined ? { client_state: redirect.client_state } : {}) }
      : {};
  // An unknown answer is asked again by status sync; the DELETE is idempotent at the bank, so the client may repeat it.
  return applyAttempt(env, payment, attempt, attempted, 'cancel', extra);
}
