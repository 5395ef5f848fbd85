/** The client's answer to action `confirm` (docs/reference/powens-pay-api.md §13): the outcome the bank gave when the payer validated, or confirmationRefused. */
import type { PaymentRow } from '../../store/schema.ts';
import { changePayment } from '../payment-changes.ts';
import { requireAction } from '../payment-checks.ts';
import type { PendingConfirmation } from '../payment-reducer.ts';
import { applyOutcome } from './apply.ts';
import { type ActionEnvironment, loadTarget } from './context.ts';
import { readJson } from '../../store/rows.ts';

export async function confirmPayment(env: ActionEnvironment, domainId: number, paymentId: number, confirmed: boolean): Promise<PaymentRow> {
  const { record, attempt } = await loadTarget(env.db, domainId, paymentId);
  requireAction(record.payment, 'confirm');
  const data = attempt?.connector_data ? readJson(attempt.connector_data) : {};
  if (!confirmed) {
    return changePayment(env, record.payment, {
      state: 'rejected',
      patch: { action: null, error_code: 'confirmationRefused', error_description: 'The client refused the payment.' },
    });
  }
  const pending = (data.confirm_outcome ?? { state: 'pending', instructions: null, bank_status: null }) as PendingConfirmation;
  const { confirm_outcome: _, ...rest } = data;
  return applyOutcome(
    env,
    record.payment,
    attempt,
    {
      kind: 'state',
      state: pending.state,
      bank_status: pending.bank_status,
      data: { ...rest, no_confirmation: true },
      ...(pending.instructions ? { instructions: pending.instructions } : {}),
    },
    { operation: 'confirm' },
  );
}
