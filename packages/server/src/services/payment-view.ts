/** The Payment resource exactly as Powens returns it (docs/reference/powens-pay-api.md §4.12), built from stored rows. */
import type { Account } from '../domain/accounts.ts';
import { formatDateTime } from '../domain/dates.ts';
import { identityView } from '../domain/identity.ts';
import { amountJson, currencyJson } from '../domain/money.ts';
import type { PaymentViewRow } from '../store/repositories/payments.ts';
import type { InstructionRow } from '../store/schema.ts';
import { readJson } from '../store/rows.ts';

function accountView(account: Account | null, id: number): Record<string, unknown> | null {
  if (!account) return null;
  return {
    id,
    scheme_name: account.scheme_name,
    identification: account.identification,
    label: account.label,
    issuer: account.issuer,
    bic: account.issuer,
    id_account: null,
    disabled_date: null,
    merchant_scheme_name: null,
    merchant_identification: null,
    // Payrail extension (docs/compatibility.md): only when the merchant gave one.
    ...(account.postal_address ? { postal_address: account.postal_address } : {}),
  };
}

export function instructionView(row: InstructionRow, showSensitive: boolean): Record<string, unknown> {
  return {
    id: row.id,
    reference_id: row.reference_id,
    amount: amountJson(row.amount_minor, row.currency),
    currency: currencyJson(row.currency),
    label: row.label,
    execution_date_type: row.execution_date_type,
    execution_date: row.execution_date,
    exec_date: null,
    start_date: row.start_date,
    end_date: row.end_date,
    frequency: row.frequency,
    beneficiary: accountView(readJson(row.beneficiary), row.id),
    beneficiary_identity: identityView(readJson(row.beneficiary_identity), showSensitive),
    state: row.state,
  };
}

/** The instructions by position: as read (the queries order them), else sorted. */
function inPositionOrder(instructions: readonly InstructionRow[]): readonly InstructionRow[] {
  for (let i = 1; i < instructions.length; i++) {
    if (instructions[i - 1]!.position > instructions[i]!.position) return [...instructions].sort((a, b) => a.position - b.position);
  }
  return instructions;
}

export function paymentView(payment: PaymentViewRow, instructions: readonly InstructionRow[], showSensitive: boolean): Record<string, unknown> {
  return {
    id: payment.id,
    state: payment.state,
    state_detail: payment.state_detail,
    action: payment.action,
    error_code: payment.error_code,
    error_description: payment.error_description,
    fields: payment.fields === null ? [] : readJson(payment.fields),
    validate_uri: payment.validate_uri,
    connector_uuid: payment.connector_uuid,
    id_connector: payment.id_connector,
    id_connector_source: payment.id_connector_source,
    validate_mechanism: payment.validate_mechanism,
    register_date: formatDateTime(payment.register_date),
    validate_date: payment.validate_date === null ? null : formatDateTime(payment.validate_date),
    bank_payment_id: payment.bank_payment_id,
    website: payment.website,
    country: payment.country,
    client_redirect_uri: payment.client_redirect_uri,
    client_state: payment.client_state,
    payer: accountView(readJson(payment.payer), payment.id),
    payer_identity: identityView(readJson(payment.payer_identity), showSensitive),
    operator_identity: identityView(readJson(payment.operator_identity), showSensitive),
    instructions: inPositionOrder(instructions).map((i) => instructionView(i, showSensitive)),
  };
}
