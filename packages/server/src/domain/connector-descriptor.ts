/**
 * A connector as the Powens API describes it (docs/reference/powens-pay-api.md §10): its identity, its PaymentSettings and the
 * fields the payer gives. The domain checks payments against these; connectors declare them (the
 * connector kit re-exports these types).
 */
import type { AccountScheme } from './accounts.ts';
import type { ExecutionDateType, ExecutionFrequency } from './execution.ts';

export type ProvidingPayerAccount = 'not_used' | 'optional' | 'mandatory';

/** Powens' PaymentSettings (docs/reference/powens-pay-api.md §10.2). */
export interface PaymentSettings {
  available_validate_mechanisms: string[];
  beneficiary_types: AccountScheme[];
  execution_date_types: ExecutionDateType[];
  execution_frequencies: ExecutionFrequency[];
  maximum_number_of_instructions: number;
  providing_payer_account: ProvidingPayerAccount;
  partial_status_tracking: ExecutionDateType[];
  is_app_to_app_used: { android: boolean | null; ios: boolean | null };
  bank_provides_payer_account: boolean | null;
  bank_provides_payer_label: boolean | null;
  transfer_date_types_where_trusted_beneficiary_required: ExecutionDateType[];
  cancellation_available: boolean;
  /** Per execution type, decimal strings in the payment's currency unit. */
  minimum_amount: Partial<Record<ExecutionDateType, string>> | null;
  maximum_amount: Partial<Record<ExecutionDateType, string>> | null;
  minimum_date_delta_days: number;
  maximum_date_delta_days: number | null;
  currencies: string[];
  bulk_execution_date_types: ExecutionDateType[];
  bulk_providing_payer_account: ProvidingPayerAccount;
  trusted_beneficiaries_required_for_bulk: boolean;
}

/** A field the payer gives (static connector fields, or asked during additionalInformationNeeded). */
export interface PaymentField {
  name: string;
  type: 'text' | 'list' | 'password' | 'date';
  label: string;
  required: boolean;
  regex: string | null;
  values?: { label: string; value: string }[];
  default?: string | null;
  auth_mechanisms?: string[];
}

export interface ConnectorDescriptor {
  id: number;
  uuid: string;
  name: string;
  slug: string;
  hidden: boolean;
  beta: boolean;
  color: string;
  countries: readonly string[];
  products: readonly string[];
  capabilities: readonly string[];
  payment_settings: PaymentSettings;
  payment_fields: PaymentField[];
}
