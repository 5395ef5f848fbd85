/**
 * What one Berlin Group bank allows and how it wants to be called: the bank's stored profile (the
 * kit's generic keys plus this standard's own), checked with the standard's defaults. Each option
 * exists because real ASPSPs differ on it (docs/reference/berlin-group.md §11).
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { EXECUTION_DATE_TYPES, type ExecutionDateType } from '../../domain/payment-request.ts';
import { type BankOAuthProfile, checkOAuthProfile, OAuthProfileError } from '../kit/client-token.ts';
import { profileErrorOf } from '../kit/profile-error.ts';

export type ScaApproach = 'redirect' | 'decoupled';

/** The optional `PSU-*` context headers of NextGenPSD2 that Payrail can fill from the payer's browser request (the webview's). */
export const PSU_HEADERS = [
  'PSU-IP-Port',
  'PSU-User-Agent',
  'PSU-Accept',
  'PSU-Accept-Charset',
  'PSU-Accept-Encoding',
  'PSU-Accept-Language',
  'PSU-Http-Method',
] as const;
export type PsuHeader = (typeof PSU_HEADERS)[number];

/** The profile as stored (every key present once checked). */
export interface BerlinGroupOptions {
  /** `bulk-payments` offered (2+ instructions), up to `max_instructions`. */
  bulk: boolean;
  max_instructions: number;
  /** Send `TPP-Explicit-Authorisation-Preferred: true` (the bank then answers with `startAuthorisation`). */
  explicit_authorisation: boolean;
  /** `debtorAccount` is required by the 1.3.12 schema; some banks let the payer pick it during SCA (`optional`). */
  providing_payer_account: 'mandatory' | 'optional';
  /** Execution types offered. `deferred` (`requestedExecutionDate`) is an ASPSP extension: off unless listed. */
  execution_date_types: ExecutionDateType[];
  deferred: boolean;
  /** `MonthlyVariable` with `monthsOfExecution` accepted (Powens' four-monthly standing orders). */
  monthly_variable: boolean;
  /** `DELETE` of a payment offered. */
  cancellation: boolean;
  /** Execution types for which the bank never reports more than ACSP (Powens `partial_status_tracking`). */
  partial_status_tracking: ExecutionDateType[];
  /** Ask the payer for their online-banking user id (`PSU-ID`): always for decoupled, where the bank mandates it for redirect. */
  psu_id_required: boolean;
  /** `PSU-ID-Type` sent with `PSU-ID`, when the bank wants one. */
  psu_id_type: string | null;
  /** The payer's browser context sent as `PSU-*` headers on the calls made while the payer is at Payrail's page (`PSU-IP-Address` is always sent). */
  psu_headers: PsuHeader[];
  /** The TPP's own IPv4 address, sent as `PSU-IP-Address` when the payer's is unknown or IPv6. */
  tpp_ip_address: string;
  /** Deadline of each call to the bank. */
  timeout_ms: number;
  /** Status sync: first interval after the payer's return, and the longest interval. */
  poll_initial_ms: number;
  poll_max_ms: number;
  /** Status sync while the payer is at the bank's page (redirect, not back yet): the first read after the initiation. */
  poll_payer_ms: number;
  /** Embedded SCA (`TPP-Redirect-Preferred: false`): the payer's online-banking id, password, SCA method and one-time code asked in Payrail's page. */
  embedded: boolean;
  /**
   * Embedded SCA: the bank's RSA public key (PEM, or a JWK object) the payer's password is encrypted
   * with (`psuData.encryptedPassword`, JWE compact RSA-OAEP-256 + A256GCM) instead of sent as `password`.
   */
  embedded_password_key: string | Record<string, unknown> | null;
  /** Send `creditorAddress` always: the beneficiary's postal address, else at least the country of its IBAN (banks that require it). */
  creditor_address: boolean;
  /** Send a `Date` header (IMF-fixdate, Payrail's clock) on every call; signed with the other headers when signing is on. */
  send_date: boolean;
  /** Payments as pain.001 XML (`pain.001-…` products; a periodic one as multipart with its standing order in JSON), status read as pain.002 (pain.ts). */
  pain001: boolean;
  /** Sign requests (`Digest`, `Signature`, `TPP-Signature-Certificate`): the core does it with the bank's key. Absent: when a signing key is given. */
  signing?: boolean;
  currencies: string[];
  /** The bank's OAuth 2.0 client (kit/client-token.ts): the token before each call (`token_url`), and the client of `scaOAuth`. */
  oauth?: BankOAuthProfile;
}

/** What the connector works with: the options and the bank's SCA approach. */
export interface BerlinGroupProfile extends BerlinGroupOptions {
  sca_approach: ScaApproach;
}

export const PROFILE_KEYS: Record<keyof BerlinGroupOptions, string> = {
  bulk: 'true when the bank offers bulk-payments (default false)',
  max_instructions: 'most instructions in one bulk payment (default 100)',
  explicit_authorisation: 'ask for an explicit startAuthorisation step (TPP-Explicit-Authorisation-Preferred; default false)',
  providing_payer_account: 'mandatory (default: debtorAccount is required in 1.3.12) or optional (the payer picks the account at the bank)',
  execution_date_types: 'execution types offered (default first_open_day, instant)',
  deferred: 'true when the bank takes requestedExecutionDate on single payments (default false)',
  monthly_variable: 'true when the bank takes MonthlyVariable standing orders (four-monthly; default false)',
  cancellation: 'true when the bank offers DELETE of a payment (default true)',
  partial_status_tracking: 'execution types the bank never reports past ACSP (default none)',
  psu_id_required: 'ask the payer for the PSU-ID (default: true for decoupled, false for redirect)',
  psu_id_type: 'PSU-ID-Type header sent with PSU-ID (default none)',
  psu_headers: `PSU context headers sent from the payer's browser request while the payer is at Payrail's page, a list of ${PSU_HEADERS.join(', ')} (default none; PSU-IP-Address is always sent)`,
  tpp_ip_address: "this Payrail's public IPv4 address, sent as PSU-IP-Address when the payer's is unknown (default 127.0.0.1)",
  timeout_ms: 'deadline of one bank call in ms (default 10000)',
  poll_initial_ms: "first status read after the payer's return, ms (default 2000)",
  poll_max_ms: 'longest interval between status reads, ms (default 900000)',
  poll_payer_ms:
    "first status read after an initiation while the payer is at the bank's page (redirect, not back yet), ms (default 20000; at most poll_max_ms)",
  embedded:
    "embedded SCA: TPP-Redirect-Preferred false; the payer types their online-banking id and password, picks an SCA method and types the one-time code in Payrail's page (default false)",
  embedded_password_key:
    "embedded SCA: the bank's RSA public key (PEM text, or a JWK object) to encrypt the payer's password with: sent as psuData.encryptedPassword, a JWE (RSA-OAEP-256, A256GCM), instead of password (default none)",
  creditor_address:
    "always send creditorAddress: the beneficiary's postal_address, else the country of its IBAN (default false: sent only when the merchant gave an address)",
  send_date: 'send a Date header on every call, signed when signing is on (default false)',
  pain001:
    'send payments as pain.001.001.03 XML (products pain.001-sepa-credit-transfers, pain.001-instant-sepa-credit-transfers; periodic as multipart xml_sct + json_standingorderType) and read status as pain.002 XML or JSON (default false: JSON products)',
  signing: "sign requests with the bank's signing key (default: on when a signing key is given)",
  currencies: 'currencies offered (default EUR; SEPA credit transfers are in EUR)',
  oauth:
    "the bank's OAuth2 client: {client_id, client_auth (client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth), token_url (a token before the first call), scope, hosts, jwt_alg, jwt_kid, renew_before_ms} (default none)",
};

export function defaultOptions(sca: ScaApproach): BerlinGroupOptions {
  return {
    bulk: false,
    max_instructions: 100,
    explicit_authorisation: false,
    providing_payer_account: 'mandatory',
    execution_date_types: ['first_open_day', 'instant'],
    deferred: false,
    monthly_variable: false,
    cancellation: true,
    partial_status_tracking: [],
    psu_id_required: sca === 'decoupled',
    psu_id_type: null,
    psu_headers: [],
    tpp_ip_address: '127.0.0.1',
    timeout_ms: 10_000,
    poll_initial_ms: 2_000,
    poll_max_ms: 15 * 60_000,
    poll_payer_ms: 20_000,
    send_date: false,
    pain001: false,
    creditor_address: false,
    embedded: false,
    embedded_password_key: null,
    currencies: ['EUR'],
  };
}

export const ProfileError = profileErrorOf('berlin-group');

type Raw = Record<string, unknown>;

function bool(raw: Raw, key: keyof BerlinGroupOptions, fallback: boolean): boolean {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ProfileError(key, 'must be true or false');
  return value;
}

function int(raw: Raw, key: keyof BerlinGroupOptions, fallback: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new ProfileError(key, `must be an integer from ${min} to ${max}`);
  return value;
}

function types(raw: Raw, key: keyof BerlinGroupOptions, fallback: ExecutionDateType[]): ExecutionDateType[] {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value) || value.some((t) => !EXECUTION_DATE_TYPES.includes(t as ExecutionDateType))) {
    throw new ProfileError(key, `must be a list of ${EXECUTION_DATE_TYPES.join(', ')}`);
  }
  return EXECUTION_DATE_TYPES.filter((t) => value.includes(t));
}

/** The bank's key for the payer's password: an RSA public key, as PEM text or a JWK object. */
function passwordKey(value: unknown): string | Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  const jwk = typeof value === 'object' && !Array.isArray(value);
  if (typeof value !== 'string' && !jwk) throw new ProfileError('embedded_password_key', 'must be a PEM public key or a JWK object');
  if ((typeof value === 'string' && value.includes('PRIVATE KEY')) || (jwk && 'd' in value))
    throw new ProfileError('embedded_password_key', "must be the bank's public key, not a private one");
  try {
    const key = jwk ? createPublicKey({ key: value as JsonWebKey, format: 'jwk' }) : createPublicKey(value as string);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
  } catch {
    throw new ProfileError('embedded_password_key', 'must be an RSA public key (PEM text or a JWK object)');
  }
  return value as string | Record<string, unknown>;
}

/** Checks a bank's raw options (unknown keys are refused: a typo must not fall back to a default). */
export function checkOptions(input: unknown, sca: ScaApproach): BerlinGroupOptions {
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) throw new ProfileError('profile', 'must be an object');
  const raw = (input ?? {}) as Raw;
  const d = defaultOptions(sca);
  for (const key of Object.keys(raw))
    if (!(key in d) && key !== 'signing' && key !== 'oauth') throw new ProfileError(key, 'is not an option of the berlin-group standard');
  const ppa = raw.providing_payer_account ?? d.providing_payer_account;
  if (ppa !== 'mandatory' && ppa !== 'optional') throw new ProfileError('providing_payer_account', 'must be mandatory or optional');
  const ip = raw.tpp_ip_address ?? d.tpp_ip_address;
  if (typeof ip !== 'string' || !isIPv4(ip)) throw new ProfileError('tpp_ip_address', 'must be an IPv4 address');
  const idType = raw.psu_id_type ?? null;
  if (idType !== null && (typeof idType !== 'string' || idType.length > 70)) throw new ProfileError('psu_id_type', 'must be a string of at most 70 characters');
  const psuHeaders = raw.psu_headers ?? d.psu_headers;
  if (!Array.isArray(psuHeaders) || psuHeaders.some((h) => !PSU_HEADERS.includes(h as PsuHeader)))
    throw new ProfileError('psu_headers', `must be a list of ${PSU_HEADERS.join(', ')}`);
  const currencies = raw.currencies ?? d.currencies;
  if (!Array.isArray(currencies) || currencies.length === 0 || currencies.some((c) => c !== 'EUR')) {
    throw new ProfileError('currencies', 'must be ["EUR"]: Berlin Group SEPA credit transfers are in EUR');
  }
  let executionTypes = types(raw, 'execution_date_types', d.execution_date_types);
  const deferred = bool(raw, 'deferred', executionTypes.includes('deferred'));
  executionTypes = EXECUTION_DATE_TYPES.filter((t) => (t === 'deferred' ? deferred : executionTypes.includes(t)));
  if (executionTypes.length === 0) throw new ProfileError('execution_date_types', 'must offer at least one execution type');
  const options: BerlinGroupOptions = {
    bulk: bool(raw, 'bulk', d.bulk),
    max_instructions: int(raw, 'max_instructions', d.max_instructions, 2, 10_000),
    explicit_authorisation: bool(raw, 'explicit_authorisation', d.explicit_authorisation),
    providing_payer_account: ppa,
    execution_date_types: executionTypes,
    deferred,
    monthly_variable: bool(raw, 'monthly_variable', d.monthly_variable),
    cancellation: bool(raw, 'cancellation', d.cancellation),
    partial_status_tracking: types(raw, 'partial_status_tracking', d.partial_status_tracking),
    psu_id_required: bool(raw, 'psu_id_required', d.psu_id_required),
    psu_id_type: idType as string | null,
    psu_headers: PSU_HEADERS.filter((h) => psuHeaders.includes(h)),
    tpp_ip_address: ip,
    timeout_ms: int(raw, 'timeout_ms', d.timeout_ms, 100, 300_000),
    poll_initial_ms: int(raw, 'poll_initial_ms', d.poll_initial_ms, 100, 3_600_000),
    poll_max_ms: int(raw, 'poll_max_ms', d.poll_max_ms, 100, 86_400_000),
    poll_payer_ms: int(raw, 'poll_payer_ms', d.poll_payer_ms, 100, 3_600_000),
    send_date: bool(raw, 'send_date', d.send_date),
    pain001: bool(raw, 'pain001', d.pain001),
    creditor_address: bool(raw, 'creditor_address', d.creditor_address),
    embedded: bool(raw, 'embedded', d.embedded),
    embedded_password_key: passwordKey(raw.embedded_password_key),
    ...(raw.signing !== undefined && raw.signing !== null ? { signing: bool(raw, 'signing', false) } : {}),
    currencies: ['EUR'],
  };
  if (raw.oauth !== undefined && raw.oauth !== null) {
    try {
      options.oauth = checkOAuthProfile(raw.oauth);
    } catch (error) {
      if (error instanceof OAuthProfileError) throw new ProfileError('oauth', error.message);
      throw error;
    }
  }
  if (options.poll_max_ms < options.poll_initial_ms) throw new ProfileError('poll_max_ms', 'must not be less than poll_initial_ms');
  if (sca === 'decoupled' && !options.psu_id_required) throw new ProfileError('psu_id_required', 'a decoupled bank needs the PSU-ID');
  return options;
}

export function resolveProfile(input: unknown, sca: ScaApproach): BerlinGroupProfile {
  return { ...checkOptions(input, sca), sca_approach: sca };
}
