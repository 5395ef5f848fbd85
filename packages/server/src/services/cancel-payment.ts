/**
 * Cancelling a payment on the client's behalf: `POST /payments/{id}` with `cancel: true`, `payrail payments
 * cancel` and `payrail trigger cancelled` all go through here, so a pending payment reaches its bank the same way.
 */
import type { PaymentRow } from '../store/schema.ts';
import { type ActionEnvironment, cancelPayment, connectorOf } from './payment-actions.ts';
import { checkCancel } from './payment-checks.ts';
import type { PaymentRecord } from './payments.ts';

/** created or validating → rejected (CancelledByClient); pending → through the bank when it can; otherwise notSupported. */
export async function cancelPaymentByClient(
  env: ActionEnvironment,
  record: PaymentRecord,
  redirect: { client_redirect_uri: string; client_state?: string | null },
): Promise<PaymentRow> {
  const connector = record.payment.connector_uuid ? await connectorOf(env, record.payment).catch(() => null) : null;
  const path = checkCancel(
    record.payment,
    connector,
    record.instructions.map((i) => i.execution_date_type),
  );
  return cancelPayment(env, record, path, { client_redirect_uri: redirect.client_redirect_uri, client_state: redirect.client_state });
}
