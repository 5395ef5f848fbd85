/**
 * The connector contract (ARCHITECTURE.md, "The bank boundary"). A connector MODULE per standard (`test`, `berlin-group`, …)
 * validates a bank's configuration and builds one CONNECTOR per configured bank. Connectors are
 * stateless translators: they get a snapshot of the payment and a context, and return an outcome.
 * They never touch the database nor open sockets: every bank call goes through `ctx.http`, which
 * the core owns (attempt record before the call, deadline, mTLS, signing, exchange log).
 *
 * Stability: helpers build connectors against these types; change them additively only.
 */
import type { ExecutionDateType, ExecutionFrequency } from '../../domain/payment-request.ts';
import type { Clock } from '../../domain/clock.ts';
import type { SignatureScheme } from './signing.ts';
import type { ConnectorDescriptor, PaymentField, PaymentSettings, ProvidingPayerAccount } from '../../domain/connector-descriptor.ts';

// The Powens connector resource is a domain type (the domain checks payments against it).
export type { ConnectorDescriptor, PaymentField, PaymentSettings, ProvidingPayerAccount };

/** The payer's consent flows a connector may use (kit/consent.ts, docs/banks.md "Consent flows"). */
export const CONSENT_FLOWS = ['redirect', 'decoupled', 'embedded', 'oauth2', 'oidc-hybrid'] as const;
export type ConsentFlow = (typeof CONSENT_FLOWS)[number];

/** An account as the payment holds it (beneficiary or payer). */
export interface ConnectorAccount {
  scheme_name: string;
  /** IBAN (no spaces, upper case) or sort code + account number, as validated at creation. */
  identification: string;
  /** Holder's name (`creditorName` for a beneficiary); may be null for a payer. */
  label: string | null;
  bic: string | null;
  /** A beneficiary's postal address, when the merchant gave one (country ISO 3166-1 alpha-2, upper case). */
  postal_address?: { country: string; street_name?: string; building_number?: string; post_code?: string; town_name?: string } | null;
}

export interface ConnectorInstruction {
  amount_minor: number;
  currency: string;
  /** Remittance information. */
  label: string;
  execution_date: string | null;
  /** End-to-end id. */
  reference_id: string;
  beneficiary: ConnectorAccount;
  /** Periodic payments (`YYYY-MM-DD`, Powens frequency names); null otherwise. */
  start_date: string | null;
  end_date: string | null;
  frequency: ExecutionFrequency | null;
}

/** The payer's HTTP request at Payrail's webview (each value as the browser sent it, control characters removed). */
export interface PsuHttp {
  user_agent: string | null;
  accept: string | null;
  accept_charset: string | null;
  accept_encoding: string | null;
  accept_language: string | null;
  http_method: string | null;
  ip_port: string | null;
}

/** What a connector sees of a payment. */
export interface ConnectorPayment {
  id: number;
  state: string;
  action: string | null;
  /** `cancelling` while a cancellation waits for the payer at the bank. */
  state_detail: string | null;
  execution_date_type: ExecutionDateType;
  currency: string;
  instructions: ConnectorInstruction[];
  payer: ConnectorAccount | null;
  /** The payer's IPv4 address as the webview saw it (Berlin Group `PSU-IP-Address`); null when unknown. */
  psu_ip_address: string | null;
  /**
   * The payer's browser request as Payrail's webview received it, for banks that want the `PSU-*`
   * context headers (Berlin Group profile `psu_headers`). Never stored: present only on the calls made
   * while the payer is at Payrail's page (the initiation, the embedded steps).
   */
  psu_http?: PsuHttp | null;
  /** The bank's id of this payment, from its current attempt (initiation). */
  bank_payment_id: string | null;
  /** The opaque data this connector returned last time for the current attempt. */
  data: Record<string, unknown> | null;
  /** The current attempt's sealed consent (`ConnectorOutcome.consent`), opened with `ctx.vault`. */
  consent?: string | null;
}

/**
 * A configured bank's profile: what this bank allows within its standard, and how to talk to it.
 * Modules validate it (`validateConfig`) and may add standard-specific keys.
 */
export interface BankProfile {
  /** Bulk payments (2+ instructions) allowed. */
  bulk?: boolean;
  /** Ask for an explicit `startAuthorisation` rather than an implicit `scaRedirect` (Berlin Group). */
  explicit_authorisation?: boolean;
  /** Whether the payer's account must be known before the initiation. */
  providing_payer_account?: ProvidingPayerAccount;
  /** Status sync: first ask after this many ms, then back off to `poll_max_ms`. */
  poll_initial_ms?: number;
  poll_max_ms?: number;
  /** Send the HTTP signature headers (needs a signing key and certificate). */
  signing?: boolean;
  /** Deadline of one bank call, ms (default 10 s). */
  timeout_ms?: number;
  /** Execution types this bank offers (a subset of what the standard allows). */
  execution_date_types?: ExecutionDateType[];
  /** Deferred payments through `requestedExecutionDate` (an ASPSP extension in Berlin Group). */
  deferred?: boolean;
  /** Cancellation (`DELETE`) offered. */
  cancellation?: boolean;
  currencies?: string[];
  /** The bank's OAuth 2.0 client: its authentication and the token before the first call (client-token.ts). */
  oauth?: BankOAuthProfile;
  [key: string]: unknown;
}

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** A bank profile's `oauth` key, checked (client-token.ts). */
export interface BankOAuthProfile {
  client_id: string;
  client_auth: ClientAuthMethod;
  /** The token endpoint of the pre-step (client credentials); absent: no token before the calls. */
  token_url: string | null;
  /** Scope asked in the pre-step (none when null). */
  scope: string | null;
  /** Other hosts (`host[:port]`) of the bank's authorization server a `scaOAuth` link may name, besides the API's. */
  hosts: string[];
  /** `private_key_jwt`: the signature algorithm and key id (default PS256 for an RSA key, ES256 for an EC key; the certificate's serial). */
  jwt_alg: string | null;
  jwt_kid: string | null;
  /** Renew the token this long before it expires. */
  renew_before_ms: number;
}

/** A row of the `banks` table, with its sealed material opened only inside the core's HTTP client. */
export interface ConfiguredBank {
  id: number;
  /** Stable connector uuid of this bank. */
  uuid: string;
  name: string;
  standard: string;
  /** Everything before `/v1`; API paths are appended to it. No trailing slash. */
  base_url: string;
  country: string | null;
  bic: string | null;
  sca_approach: 'redirect' | 'decoupled';
  profile: BankProfile;
  /** Which certificates are configured (never the material itself). */
  has_client_cert: boolean;
  has_ca: boolean;
  has_signing_key: boolean;
  created_at: number;
}

// ---- the core's outbound HTTP client, handed to connectors ----

export type BankHttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface BankRequest {
  /** What this call does, for the attempt record and the exchange log: `initiate`, `status`, `cancel`, `authorise`… */
  operation: string;
  method: BankHttpMethod;
  /** Relative to the bank's base URL, e.g. `/v1/payments/sepa-credit-transfers`. */
  path: string;
  headers?: Record<string, string>;
  /** JSON-serialised when not a string. */
  body?: unknown;
  /** A form body (`application/x-www-form-urlencoded`), e.g. to a token endpoint; redacted by key in the log. */
  form?: Record<string, string>;
  /**
   * An absolute URL instead of `path`, for an endpoint the bank's configuration names outside its
   * API base (its authorization server's token endpoint, its JWKS); never a URL from a bank's answer.
   */
  url?: string;
  /** Overrides the bank's deadline for this call. */
  timeoutMs?: number;
  /**
   * Authenticate this form request as the bank's OAuth client (profile `oauth`, client-token.ts):
   * the core adds the client secret, the signed client assertion or nothing (mTLS) itself.
   */
  clientAuth?: boolean;
}

export type BankResponse =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: unknown; requestId: string }
  | { kind: 'unknown'; reason: 'timeout' | 'reset' | 'network'; requestId: string };

/**
 * Sends one request to the bank. Before the call it writes an attempt row (outcome `pending`) whose
 * id is the `X-Request-ID`; it applies the deadline, mTLS and signing of the bank, and records an
 * exchange-log row with redacted bodies. It never throws for a network failure: `kind: 'unknown'`.
 */
export interface BankHttp {
  send(request: BankRequest): Promise<BankResponse>;
  /**
   * The bank's signing key, opened from its sealed material, for standards that sign JOSE objects
   * themselves (UK Open Banking: the detached `x-jws-signature`, request objects, client
   * assertions). Absent when the bank has none. Only ever handed to a signing function: never
   * put in an outcome's data, never logged.
   */
  signingKey?: import('node:crypto').KeyObject | null;
}

export interface ConnectorContext {
  /** Epoch ms at the start of this operation (same as `clock.now()` then). */
  now: number;
  clock: Clock;
  /** Absolute base URL of this Payrail (e.g. `https://pay.example.com`), for bank pages it serves. */
  baseUrl: string;
  /** Length of one scenario step of the test connector, in ms (first open day; instant is 1/60 of it). */
  testStepMs: number;
  /** Signs a value for a URL the payer will carry (HMAC, keyed per installation). */
  sign(value: string): string;
  /** The bank boundary. Connectors send every bank call through it. */
  http: BankHttp;
  /**
   * Where the bank sends the payer back (`TPP-Redirect-URI`, `TPP-Nok-Redirect-URI`): Payrail routes
   * carrying an unguessable value bound to this payment. The payer's return proves nothing: read the status.
   */
  returnUrls: { ok: string; nok: string };
  /**
   * Seals what must be kept between two steps of the payer's consent but is a secret (a PKCE
   * verifier, the payer's token): put the sealed text in the outcome's `data`, open it next time.
   * AES-256-GCM under a key derived from the installation secret. Always given by the core;
   * optional only so that contexts built before it existed still type-check.
   */
  vault?: { seal(plaintext: string): string; open(sealed: string): string };
}

export type InstructionState = 'pending' | 'done' | 'accepted' | 'rejected';

/** Fields every outcome may carry for the attempt record. */
interface OutcomeCommon {
  /** The opaque state kept for this payment and handed back next time. */
  data: Record<string, unknown>;
  /** The bank's id of the payment (set once the bank has accepted an initiation). */
  bank_reference?: string | null;
  /**
   * Secret consent data of this attempt (a PKCE verifier, a nonce, the payer's token), sealed with
   * `ctx.vault` (kit/oauth.ts: `sealPending`, `sealToken`): kept in the attempt's `consent_sealed`,
   * never in `data`, never shown. Absent: unchanged; null: cleared.
   */
  consent?: string | null;
  /**
   * The bank's raw status code as its answer gave it (kept as the attempt's `bank_status`), also while
   * the payer is still at the bank (e.g. a Verification of Payee status). Absent: unchanged.
   */
  bank_status?: string | null;
}

/**
 * Three outcomes of a bank call (ARCHITECTURE.md, "The bank boundary"): ok (every kind below but `refused` and `unknown`),
 * `refused` (a clear 4xx: a Powens error code for payer and merchant) and `unknown` (timeout,
 * reset, 5xx: the bank may or may not have acted; never answered by re-sending an initiation).
 */
export type ConnectorOutcome =
  | ({ kind: 'redirect'; validate_uri: string } & OutcomeCommon)
  | ({ kind: 'decoupled'; description: string } & OutcomeCommon)
  | ({ kind: 'fields'; fields: PaymentField[]; description?: string | null } & OutcomeCommon)
  | ({ kind: 'psuValidation' } & OutcomeCommon)
  | ({
      kind: 'state';
      /** The payment's state; when `instructions` is given the core derives it from them instead. */
      state: InstructionState;
      /** Per-instruction states, by position (bulk payments). */
      instructions?: InstructionState[];
      /** The bank says some instructions failed without saying which (Berlin Group PART): the payment is `partial`. */
      partial?: boolean;
      error_code?: string | null;
      error_description?: string | null;
      /** The bank's raw status code, kept beside ours (`bank_status`). */
      bank_status?: string | null;
    } & OutcomeCommon)
  /** Cancellation only: the payer must approve the cancellation at the bank (`state_detail: cancelling`). */
  | ({ kind: 'cancelling'; validate_uri: string; bank_status?: string | null } & OutcomeCommon)
  | ({ kind: 'refused'; error_code: string; error_description: string; bank_status?: string | null } & OutcomeCommon)
  | ({ kind: 'unknown'; reason: string } & OutcomeCommon);

export interface StartInput {
  fields: Record<string, string>;
  validate_mechanism: string;
}

export interface Connector {
  descriptor: ConnectorDescriptor;
  /** The configured bank behind this connector; null for the built-in test bank. */
  bank: ConfiguredBank | null;
  /** The payer's consent flows this connector uses for this bank (kit/consent.ts); redirect when absent. */
  consentFlows?: readonly ConsentFlow[];
  /**
   * A sandbox bank whose endpoints Payrail serves itself (the test bank's authorization server):
   * its calls go through the bank HTTP client to Payrail's own public URL.
   */
  selfHosted?: boolean;
  /** Starts the payment at the bank after the payer chose this connector. */
  start(payment: ConnectorPayment, input: StartInput, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** The payer came back from the bank's page (`redirect`), with what the bank put in the URL or form (`result`: `ok`/`nok` on a return URL). */
  bankReturn(payment: ConnectorPayment, params: Record<string, string>, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** The payer (or webview) asks whether a decoupled approval happened. */
  resume(payment: ConnectorPayment, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** Values for the fields asked during `additionalInformationNeeded`. */
  submitFields(payment: ConnectorPayment, fields: Record<string, string>, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** The payer's answer to `psuValidation`. */
  psuValidate(payment: ConnectorPayment, agreed: boolean, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** Reads the bank's status of a validated payment (status sync); null when nothing changed. */
  status(payment: ConnectorPayment, ctx: ConnectorContext): Promise<ConnectorOutcome | null>;
  /**
   * Cancels a `pending` payment at the bank: `state` rejected (done), `cancelling` (the payer must
   * approve at the bank), `refused` (the bank will not: `notSupported` for the merchant) or `unknown`.
   */
  cancel(payment: ConnectorPayment, ctx: ConnectorContext): Promise<ConnectorOutcome>;
  /** How long to wait before asking the bank again about this payment. */
  pollIntervalMs(payment: ConnectorPayment, ctx: ConnectorContext): number;
}

/** What the core hands a module's factory. */
export interface ConnectorDeps {
  clock: Clock;
}

/** Thrown by `validateConfig` with a message naming the key. */
export class BankConfigError extends Error {}

/** One standard. */
export interface ConnectorModule {
  standard: 'test' | 'berlin-group' | (string & {});
  /** Human description of the profile keys this module reads (docs, `bank add --help`). */
  profileKeys: Record<string, string>;
  /** Checks a raw profile (from the CLI or the declarative file) and returns it with defaults; throws BankConfigError. */
  validateConfig(raw: unknown, bank: { sca_approach: 'redirect' | 'decoupled' }): BankProfile;
  /** What the standard allows at most; a bank's settings are this intersected with its profile (`bankDescriptor`). */
  settings: PaymentSettings;
  /**
   * Whether a signing key must come with its certificate (Berlin Group sends the certificate with
   * each signature: `required`, the default) or may come alone (UK Open Banking names its key by
   * `kid` in the bank's directory: `optional`).
   */
  signingCertificate?: 'required' | 'optional';
  /** How this standard signs a bank's requests (kit/signing.ts); Berlin Group's when absent. */
  signatureScheme?(bank: ConfiguredBank): SignatureScheme;
  /**
   * A path the bank's base URL must not end with, because the connector appends it (Berlin Group:
   * `/v1`); none when absent (a STET base URL is the whole API root, `/v1` included).
   */
  apiPrefix?: string;
  /** Builds the connector of one bank; its descriptor should come from `bankDescriptor(bank, module.settings)`. */
  create(bank: ConfiguredBank, deps: ConnectorDeps): Connector;
}
