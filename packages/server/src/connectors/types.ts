/**
 * Connectors are stateless translators between a payment and one bank interface (design §4.1):
 * they get a snapshot of the payment and a context, and return an outcome. They never touch the
 * database; the opaque `data` they return is stored by the core and handed back next time.
 */
import type { ExecutionDateType, ExecutionFrequency } from '../domain/payment-request.ts';
import type { AccountScheme } from '../domain/accounts.ts';

export type ProvidingPayerAccount = 'not_used' | 'optional' | 'mandatory';

/** Powens' PaymentSettings (spec §10.2). */
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

/** What a connector sees of a payment. */
export interface ConnectorPayment {
  id: number;
  state: string;
  action: string | null;
  execution_date_type: ExecutionDateType;
  currency: string;
  instructions: { amount_minor: number; currency: string; label: string; execution_date: string | null; reference_id: string }[];
  payer: { scheme_name: string; identification: string } | null;
  data: Record<string, unknown> | null;
}

export interface ConnectorContext {
  now: number;
  /** Absolute base URL of this Payrail (e.g. `https://pay.example.com`), for bank pages it serves. */
  baseUrl: string;
  /** Length of one scenario step of the test connector, in ms (first open day; instant is 1/60 of it). */
  testStepMs: number;
  /** Signs a value for a URL the payer will carry (HMAC, keyed per installation). */
  sign(value: string): string;
}

export type ConnectorOutcome =
  | { kind: 'redirect'; validate_uri: string; data: Record<string, unknown> }
  | { kind: 'decoupled'; description: string; data: Record<string, unknown> }
  | { kind: 'fields'; fields: PaymentField[]; description?: string | null; data: Record<string, unknown> }
  | { kind: 'psuValidation'; data: Record<string, unknown> }
  | {
      kind: 'state';
      /** The payment's state; when `instructions` is given the core derives it from them instead. */
      state: 'pending' | 'done' | 'accepted' | 'rejected';
      /** Per-instruction states, by position (bulk payments). */
      instructions?: ('pending' | 'done' | 'accepted' | 'rejected')[];
      error_code?: string | null;
      error_description?: string | null;
      bank_status?: string | null;
      data: Record<string, unknown>;
    };

export interface StartInput {
  fields: Record<string, string>;
  validate_mechanism: string;
}

export interface Connector {
  descriptor: ConnectorDescriptor;
  /** Starts the payment at the bank after the payer chose this connector. */
  start(payment: ConnectorPayment, input: StartInput, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** The payer came back from the bank's page (`redirect`), with what the bank put in the URL or form. */
  bankReturn(payment: ConnectorPayment, params: Record<string, string>, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** The payer (or webview) asks whether a decoupled approval happened. */
  resume(payment: ConnectorPayment, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** Values for the fields asked during `additionalInformationNeeded`. */
  submitFields(payment: ConnectorPayment, fields: Record<string, string>, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** The payer's answer to `psuValidation`. */
  psuValidate(payment: ConnectorPayment, agreed: boolean, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** Reads the bank's status of a validated payment (status sync); null when nothing changed. */
  status(payment: ConnectorPayment, ctx: ConnectorContext): Promise<ConnectorOutcome | null>;
  /** How long to wait before asking the bank again about this payment. */
  pollIntervalMs(payment: ConnectorPayment, ctx: ConnectorContext): number;
}
