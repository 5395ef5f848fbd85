/**
 * The payer's answers to action `additionalInformationNeeded` (the fields the connector asked for).
 * `psuHttp`: the payer's browser request when the answers come from Payrail's webview (never stored).
 */
import { missing } from '../../domain/errors.ts';
import type { PsuHttp } from '../../connectors/kit/types.ts';
import type { PaymentRow } from '../../store/schema.ts';
import { checkFieldValue, requireAction, stringFields } from '../payment-checks.ts';
import { applyAttempt } from './apply.ts';
import { type ActionEnvironment, atBank, connectorOf, connectorPayment, loadTarget } from './context.ts';
import { readJson } from '../../store/rows.ts';

export async function submitFields(
  env: ActionEnvironment,
  domainId: number,
  paymentId: number,
  values: Record<string, unknown>,
  psuHttp: PsuHttp | null = null,
): Promise<PaymentRow> {
  const { record, attempt } = await loadTarget(env.db, domainId, paymentId);
  requireAction(record.payment, 'additionalInformationNeeded');
  const asked = readJson(record.payment.fields) ?? [];
  const fields = stringFields(values, 'fields');
  for (const field of asked) {
    const value = fields[field.name];
    if (value === undefined || (field.required && value.trim() === '')) {
      if (field.required) throw missing(`fields.${field.name}`);
      continue;
    }
    checkFieldValue(field, value, 'fields');
  }
  const connector = await connectorOf(env, record.payment);
  const snapshot = { ...connectorPayment(record, attempt), psu_http: psuHttp };
  const attempted = await atBank(env, connector, snapshot, attempt, (ctx) => connector.submitFields(snapshot, fields, ctx));
  return applyAttempt(env, record.payment, attempt, attempted, 'fields');
}
