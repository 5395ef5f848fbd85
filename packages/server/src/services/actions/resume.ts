/** The payer says they approved in their bank's app (action `decoupled`): ask the bank now. */
import type { PaymentRow } from '../../store/schema.ts';
import { requireAction } from '../payment-checks.ts';
import { applyAttempt } from './apply.ts';
import { type ActionEnvironment, atBank, connectorOf, connectorPayment, loadTarget } from './context.ts';

export async function resumePayment(env: ActionEnvironment, domainId: number, paymentId: number): Promise<PaymentRow> {
  const { record, attempt } = await loadTarget(env.db, domainId, paymentId);
  requireAction(record.payment, 'decoupled');
  const connector = await connectorOf(env, record.payment);
  const snapshot = connectorPayment(record, attempt);
  const attempted = await atBank(env, connector, snapshot, attempt, (ctx) => connector.resume(snapshot, ctx));
  const outcome = attempted.outcome!;
  if (outcome.kind === 'decoupled' && outcome.description === record.payment.error_description && attempted.calls.length === 0) return record.payment; // still waiting: nothing changed
  return applyAttempt(env, record.payment, attempt, attempted, 'resume');
}
