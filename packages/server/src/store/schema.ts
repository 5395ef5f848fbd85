/**
 * Table types. Timestamps are epoch milliseconds (UTC); amounts are integer minor units; JSON is
 * text, typed `Json<T>` with the value it holds (read with `readJson`, store/rows.ts). Enumerations
 * are unions, derived from the domain's constants where the domain has them.
 */
import type { Generated, Insertable, Selectable } from 'kysely';
import type { Account } from '../domain/accounts.ts';
import type { Identity } from '../domain/identity.ts';
import type { ExecutionDateType, ExecutionFrequency } from '../domain/payment-request.ts';
import type { PaymentAction } from '../domain/state-machine.ts';
import type { PaymentState, StateDetail } from '../domain/states.ts';
import type { BankProfile, PaymentField } from '../connectors/kit/types.ts';
import type { JWK } from 'jose';

declare const json: unique symbol;
/**
 * A JSON text column holding a `T`. Any string may be written (the brand is optional); a read
 * parses it with `readJson` (store/rows.ts), which gives back a `T` without a cast.
 */
export type Json<T> = string & { readonly [json]?: T };

/** A bank's SCA approach (`banks.sca_approach`). */
export type ScaApproach = 'redirect' | 'decoupled';
/** What became of a bank call (`bank_calls.outcome`) or of an attempt's initiation (`payment_attempts.outcome`): `pending` until it ends. */
export type AttemptOutcome = 'pending' | 'ok' | 'refused' | 'unknown';
/** A payment event's kind (`payment_events.type`). */
export type PaymentEventType = 'created' | 'state_changed' | 'updated';
/** An idempotency key's progress (`idempotency_keys.status`). */
export type IdempotencyStatus = 'running' | 'done';
/** A webhook delivery's progress (`webhook_deliveries.status`). */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(value);
}
/** A failure alert's fate (`webhook_alerts.status`): sent, recorded (no SMTP configured) or failed. */
export type AlertStatus = 'sent' | 'recorded' | 'failed';
/** What a webhook authentication provider's settings show again (never a secret): an OAuth token URL, client id and grant. */
export interface WebhookAuthConfig {
  url?: string;
  client_id?: string;
  grant_type?: string;
}
/** An operator token's use (`operator_tokens.kind`). */
export type OperatorTokenKind = 'session' | 'link';

export interface DomainsTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

export interface ClientsTable {
  id: Generated<number>;
  domain_id: number;
  client_id: string;
  secret_hash: string;
  name: string;
  redirect_uris: Json<string[]>;
  created_at: number;
}

export interface TokensTable {
  id: Generated<number>;
  token_hash: string;
  client_ref: number;
  domain_id: number;
  scopes: string; // space-separated
  payment_id: number | null; // set for payment-scoped tokens
  expires_at: number;
  created_at: number;
}

export interface PaymentsTable {
  id: Generated<number>;
  domain_id: number;
  client_ref: number;
  state: PaymentState;
  state_detail: StateDetail | null;
  action: PaymentAction | null;
  error_code: string | null;
  error_description: string | null;
  connector_uuid: string | null;
  id_connector: number | null;
  id_connector_source: number | null;
  validate_mechanism: string | null;
  validate_uri: string | null;
  bank_payment_id: string | null;
  website: string | null;
  client_redirect_uri: string;
  client_state: string | null;
  payer: Json<Account> | null;
  payer_identification: string | null;
  payer_identity: Json<Identity> | null;
  operator_identity: Json<Identity> | null;
  execution_date_type: ExecutionDateType;
  currency: string;
  total_minor: number;
  instruction_count: number;
  country: string;
  register_date: number;
  validate_date: number | null;
  updated_at: number;
  version: Generated<number>;
  webview_url: string | null;
  fields: Json<PaymentField[]> | null;
  psu_ip_address: Generated<string | null>;
  /** The attempt at the bank the payment follows now (payment_attempts.id); null before the first initiation. */
  current_attempt_id: Generated<number | null>;
}

export interface BanksTable {
  id: Generated<number>;
  uuid: string;
  name: string;
  standard: string;
  base_url: string;
  country: string | null;
  bic: string | null;
  sca_approach: ScaApproach;
  profile: Json<BankProfile>;
  client_cert: string | null; // PEM (public)
  client_key_sealed: string | null; // sealSecret(PEM)
  ca_cert: string | null; // PEM (public)
  signing_key_sealed: string | null; // sealSecret(PEM)
  signing_cert: string | null; // PEM (public)
  oauth_client_secret_sealed: string | null; // sealSecret(the bank's OAuth client secret)
  created_at: number;
  removed_at: number | null;
}

/**
 * One initiation of a payment at a bank (services/attempts.ts): what the bank knows of it and when
 * to ask it again. A fresh initiation opens a new row; an old one is never overwritten.
 */
export interface PaymentAttemptsTable {
  id: Generated<number>;
  payment_id: number;
  /** 1, 2, … within the payment. */
  number: number;
  connector_uuid: string;
  /** The configured bank (banks.id); null for the built-in test bank. */
  bank_id: number | null;
  /** The bank's id of this initiation. */
  bank_payment_id: string | null;
  /** The connector's opaque JSON (consent ids, SCA links…), not secret. */
  connector_data: Json<Record<string, unknown>> | null;
  /** Secret consent data (a payer's token…), sealSecret(JSON); read only through openConsent. */
  consent_sealed: string | null;
  /** The bank's own last status code. */
  bank_status: string | null;
  /** How the initiation ended: pending (being sent) | ok | refused | unknown. */
  outcome: AttemptOutcome;
  next_sync_at: number | null;
  sync_locked_until: number | null;
  /** Status sync failures in a row; SYNC_FAILED_AFTER or more is the `failed` sync state. */
  sync_failures: Generated<number>;
  sync_error: string | null;
  created_at: number;
  /** When a newer attempt replaced it (null while it is the payment's current one). */
  superseded_at: number | null;
  /**
   * The process sending the initiation (processes.id) while it is `pending`; a claim whose process is
   * no longer alive is ended by the recovery pass (services/claim-recovery.ts). Null on claims made
   * by a version before it, or by an app that did not register its process (tests).
   */
  claimed_by: Generated<string | null>;
}

/** A running `payrail serve` process (services/instances.ts): alive while `alive_until` is in the future, renewed by the process itself. */
export interface ProcessesTable {
  id: string;
  started_at: number;
  alive_until: number;
}

/** One call to a bank, written before the call leaves (its id is the X-Request-ID). */
export interface BankCallsTable {
  id: string;
  payment_id: number;
  /** The attempt the call belongs to; null for a call made outside one (tests of the transport). */
  attempt_id: number | null;
  bank_id: number | null;
  operation: string;
  started_at: number;
  finished_at: number | null;
  outcome: AttemptOutcome;
  http_status: number | null;
  bank_reference: string | null;
  raw_status: string | null;
  error: string | null;
}

export interface BankExchangesTable {
  id: Generated<number>;
  payment_id: number | null;
  /** The bank call (bank_calls.id, = request_id). */
  call_id: string | null;
  bank_id: number | null;
  method: string;
  path: string;
  status: number | null;
  duration_ms: number;
  request_id: string;
  request_body: string | null; // redacted JSON
  response_body: string | null; // redacted JSON
  error: string | null;
  created_at: number;
}

export interface InstructionsTable {
  id: Generated<number>;
  payment_id: number;
  position: number;
  reference_id: string;
  amount_minor: number;
  currency: string;
  label: string;
  execution_date_type: ExecutionDateType;
  execution_date: string | null;
  beneficiary: Json<Account>;
  beneficiary_identification: string;
  beneficiary_identity: Json<Identity> | null;
  start_date: string | null;
  end_date: string | null;
  frequency: ExecutionFrequency | null;
  /** Its own outcome, or the payment's state when the bank answered for the whole payment (`partial` too). */
  state: PaymentState | null;
}

export interface PaymentEventsTable {
  id: Generated<number>;
  payment_id: number;
  type: PaymentEventType;
  from_state: PaymentState | null;
  to_state: PaymentState | null;
  data: Json<Record<string, unknown>> | null;
  created_at: number;
}

export interface IdempotencyKeysTable {
  client_ref: number;
  key: string;
  request_hash: string;
  status: IdempotencyStatus;
  response_status: number | null;
  response_body: string | null;
  created_at: number;
  expires_at: number;
}

export interface InstallationSecretsTable {
  name: string;
  value: string;
}

export interface DomainConfigTable {
  domain_id: number;
  key: string;
  value: string;
}

export interface WebhookEndpointsTable {
  id: Generated<number>;
  domain_id: number;
  url: string;
  event: string;
  secret: string;
  enabled: number;
  created_at: number;
  /** The authentication provider that signs or authorizes deliveries (null: the endpoint's own HMAC key). */
  auth_id: number | null;
}

export interface WebhookAuthProvidersTable {
  id: Generated<number>;
  domain_id: number;
  name: string;
  type: string;
  config: Json<WebhookAuthConfig>;
  secret: string;
  created_at: number;
}

export interface WebhookAlertsTable {
  id: Generated<number>;
  domain_id: number;
  endpoint_id: number;
  recipient: string;
  status: AlertStatus;
  error: string | null;
  created_at: number;
}

export interface WebhookDataTable {
  id: Generated<number>;
  domain_id: number;
  payment_id: number;
  event: string;
  /** The webhook's body: the payment as the API shows it. */
  body: Json<{ state?: PaymentState } & Record<string, unknown>>;
  created_at: number;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  data_id: number;
  endpoint_id: number;
  payment_id: number;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  locked_until: number | null;
  delivered_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempted_at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** One executed occurrence of a standing order (migration 0014_compat). */
export interface PaymentOccurrencesTable {
  id: Generated<number>;
  payment_id: number;
  sequence: number;
  /** The date the schedule names (start_date + n × frequency), YYYY-MM-DD. */
  due_date: string;
  /** The business day it executed on (TARGET2 / England and Wales calendars). */
  execution_date: string;
  state: string;
  executed_at: number;
}

/** Abuse-limit counters (auth/token, webview forms), shared by every process on the database. */
export interface RateLimitsTable {
  key: string;
  count: number;
  reset_at: number;
}

/** The `state` a payer's webview entry URL carried, returned on the redirect back to the merchant. */
export interface WebviewStatesTable {
  payment_id: number;
  state: string;
}

export interface OperatorsTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  created_at: number;
}

export interface OperatorTokensTable {
  token_hash: string;
  operator_id: number;
  kind: OperatorTokenKind;
  expires_at: number;
  created_at: number;
}

export interface JoseKeysTable {
  id: Generated<number>;
  kind: 'sign' | 'encrypt';
  public_pem: string;
  public_jwk: Json<JWK>; // public
  private_sealed: string; // sealSecret(PKCS#8 PEM)
  created_at: number;
  deprecated_at: number | null;
}

export interface TermsTable {
  id: Generated<number>;
  version: number;
  language: string;
  content: string;
  url: string | null;
  created_at: number;
}

export interface PaymentTermsTable {
  payment_id: number;
  terms_id: number;
  accepted_at: number;
}

export interface Database {
  jose_keys: JoseKeysTable;
  terms: TermsTable;
  payment_terms: PaymentTermsTable;
  payment_occurrences: PaymentOccurrencesTable;
  rate_limits: RateLimitsTable;
  webview_states: WebviewStatesTable;
  operators: OperatorsTable;
  operator_tokens: OperatorTokensTable;
  banks: BanksTable;
  payment_attempts: PaymentAttemptsTable;
  bank_calls: BankCallsTable;
  processes: ProcessesTable;
  bank_exchanges: BankExchangesTable;
  domain_config: DomainConfigTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_auth_providers: WebhookAuthProvidersTable;
  webhook_alerts: WebhookAlertsTable;
  webhook_data: WebhookDataTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  installation_secrets: InstallationSecretsTable;
  domains: DomainsTable;
  clients: ClientsTable;
  tokens: TokensTable;
  payments: PaymentsTable;
  payment_instructions: InstructionsTable;
  payment_events: PaymentEventsTable;
  idempotency_keys: IdempotencyKeysTable;
}

export type PaymentRow = Selectable<PaymentsTable>;
export type PaymentUpdate = Partial<Omit<Selectable<PaymentsTable>, 'id' | 'domain_id' | 'client_ref' | 'version'>>;
export type InstructionRow = Selectable<InstructionsTable>;
export type NewPaymentRow = Insertable<PaymentsTable>;
export type ClientRow = Selectable<ClientsTable>;
export type BankRow = Selectable<BanksTable>;
export type AttemptRow = Selectable<PaymentAttemptsTable>;
export type AttemptUpdate = Partial<Omit<AttemptRow, 'id' | 'payment_id' | 'number' | 'created_at'>>;
export type CallRow = Selectable<BankCallsTable>;
