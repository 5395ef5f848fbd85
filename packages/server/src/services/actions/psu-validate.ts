/** The payer's agreement or refusal of action `psuValidation`. */
import type { PaymentRow } from '../../store/schema.ts';
import { requireAction } from '../payment-checks.ts';
import { applyAttempt } from './apply.ts';
import { type ActionEnvironment, atBank, connectorOf, connectorPayment, loadTarget } from './context.ts';

export async function psuValidate(env: ActionEnvironment, domainId: number, paymentId: number, agreed: boolean): Promise<PaymentRow> {
  const { record, attempt } = await loadTarget(env.db, domainId, paymentId);
  requireAction(record.payment, 'psuValidation');
  const connector = await connectorOf(env, record.payment);
  const snapshot = connectorPayment(record, attempt);
  const attempted = await atBank(env, connector, snapshot, attempt, (ctx) => connector.psuValidate(snapshot, agreed, ctx));
  return applyAttempt(env, record.payment, attempt, attempted, 'psu');
}
