/** The payer came back from the bank page of a `redirect` action (a validation or, with state_detail cancelling, a cancellation). */
import { ApiError } from '../../domain/errors.ts';
import type { PaymentRow } from '../../store/schema.ts';
import { DETAIL, requireAction } from '../payment-checks.ts';
import { applyAttempt } from './apply.ts';
import { type ActionEnvironment, atBank, connectorOf, connectorPayment, loadTarget } from './context.ts';

export async function bankReturn(env: ActionEnvironment, paymentId: number, params: Record<string, string>): Promise<PaymentRow> {
  const payment = await env.db.selectFrom('payments').select('domain_id').where('id', '=', paymentId).executeTakeFirst();
  if (!payment) throw new ApiError('notFound', `payment ${paymentId} does not exist`);
  const { record, attempt } = await loadTarget(env.db, payment.domain_id, paymentId);
  const cancelling = record.payment.state === 'pending' && record.payment.state_detail === DETAIL.cancelling;
  if (!cancelling) requireAction(record.payment, 'redirect');
  const connector = await connectorOf(env, record.payment);
  const snapshot = connectorPayment(record, attempt);
  const attempted = await atBank(env, connector, snapshot, attempt, (ctx) => connector.bankReturn(snapshot, params, ctx));
  return applyAttempt(env, record.payment, attempt, attempted, 'return');
}
