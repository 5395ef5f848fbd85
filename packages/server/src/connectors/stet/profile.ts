/**
 * What one STET bank allows and how it wants to be called: the bank's stored profile, checked with
 * the standard's defaults. Each option exists because real French banks differ on it
 * (docs/reference/stet.md §4); docs/banks.md lists them (generated from `PROFILE_KEYS`).
 */
import { isIPv4 } from 'node:net';
import { parseAmount } from '../../domain/money.ts';
import { EXECUTION_DATE_TYPES, type ExecutionDateType } from '../../domain/payment-request.ts';
import { profileErrorOf } from '../kit/profile-error.ts';

export const STET_VERSIONS = ['1.4.0', '1.4.1', '1.4.2', '1.5', '1.6'] as const;
export type StetVersion = (typeof STET_VERSIONS)[number];
export const APPROACHES = ['REDIRECT', 'DECOUPLED', 'EMBEDDED-1-FACTOR'] as const;
export type Approach = (typeof APPROACHES)[number];
export const RESOURCE_ID_SOURCES = ['location', 'query', 'path', 'fragment'] as const;
export type ResourceIdSource = (typeof RESOURCE_ID_SOURCES)[number];
export const KEY_ID_FORMS = ['url', 'client_id', 'serial', 'der'] as const;
export type KeyIdForm = (typeof KEY_ID_FORMS)[number];

/** The profile as stored (every key present once checked). */
export interface StetOptions {
  /** OAuth2 client id: the organisation identifier of the eIDAS certificate (e.g. `PSDFR-ACPR-12345`). */
  client_id: string;
  /** The bank's token endpoint (client credentials, scope `pisp`; the payer's code exchange). */
  token_url: string;
  /** The bank's OAuth2 authorization endpoint, when the `consentApproval` link is not one. */
  authorization_url: string | null;
  /** STET version whose shapes the bank speaks. */
  version: StetVersion;
  /** The approach the payer authenticates with. */
  approach: Approach;
  /** REDIRECT from 1.5: an OAuth2 authorization-code grant (`oauth2`), or the older plain redirect with report URLs (`redirect`). */
  redirect_flow: 'oauth2' | 'redirect';
  /** PKCE (S256) on the authorization request. */
  pkce: boolean;
  /** `POST …/confirmation` after the payer's consent (false: the bank executes on consent). */
  confirmation: boolean;
  /** Where the payment's id is found in the bank's answer to the initiation. */
  resource_id_from: ResourceIdSource;
  /** For `query`: the name of the consent link's parameter holding the id. */
  resource_id_param: string;
  /** `Accept` sent (some banks refuse `application/hal+json` with 406). */
  accept: string;
  /** The `keyId` form of the HTTP signature. */
  key_id_form: KeyIdForm;
  /** For `url`: the URL of the QSealC the bank downloads. */
  key_id: string | null;
  /** Signed components, in order: `(request-target)` and lower-case header names; `psu-*` stands for every PSU header sent. */
  signed_headers: string[];
  /** Amounts as JSON numbers (the 1.5 file) or strings (1.4 banks). */
  amount_type: 'number' | 'string';
  /** `requestedExecutionDate` per instruction (1.5) or at payment level (1.4 shape). */
  execution_date_level: 'instruction' | 'payment';
  /** Send the payer's browser headers (`PSU-IP-Address`, `PSU-User-Agent`, …). */
  psu_headers: boolean;
  /** Send the token type as the bank returned it, or always `Bearer`. */
  token_type: 'Bearer' | 'as_returned';
  /** Smallest amount the bank takes, decimal string. */
  minimum_amount: string;
  bulk: boolean;
  max_instructions: number;
  standing_orders: boolean;
  execution_date_types: ExecutionDateType[];
  cancellation: boolean;
  /** The initiating party's name (Payrail's, as registered). */
  initiating_party: string;
  tpp_ip_address: string;
  timeout_ms: number;
  poll_initial_ms: number;
  poll_max_ms: number;
  poll_payer_ms: number;
  signing?: boolean;
  currencies: string[];
}

export const PROFILE_KEYS: Record<keyof StetOptions, string> = {
  client_id: 'OAuth2 client id: the organisation identifier of your eIDAS certificate (required; `--client-id`)',
  token_url: 'token endpoint of the bank (required; `--token-url`)',
  authorization_url: "OAuth2 authorization endpoint for the payer's consent when the bank's consentApproval link is not one (`--authorization-url`)",
  version: 'STET version of the bank: 1.4.0, 1.4.1, 1.4.2, 1.5 (default) or 1.6',
  approach: "the payer's authentication: REDIRECT (default; DECOUPLED with --sca-approach decoupled), DECOUPLED, EMBEDDED-1-FACTOR",
  redirect_flow:
    'REDIRECT as an OAuth2 authorization-code grant (oauth2, default from 1.5) or a plain redirect with report URLs (redirect, default before 1.5)',
  pkce: 'send a PKCE challenge (S256) with the authorization request (default true)',
  confirmation: "POST /confirmation after the payer's consent (default true; false: the bank executes on consent)",
  resource_id_from:
    'where the payment id is: location (default, the Location header), query (a parameter of the consent link), path (its last segment), fragment',
  resource_id_param: 'the consent link parameter of `query` (default paymentRequestResourceId; seen: paymentRequestRessourceId, i, params[resourceId])',
  accept: 'Accept header sent (default application/hal+json; application/json for banks answering 406)',
  key_id_form: 'keyId of the signature: url (default, `key_id`), client_id, serial (certificate serial, hex), der (base64 DER certificate)',
  key_id: 'the URL of your QSealC certificate, published as keyId (`--key-id`; needed for key_id_form url)',
  signed_headers:
    'signed components in order (default ["(request-target)","digest","x-request-id","psu-*"]; psu-* = every PSU header sent; digest and x-request-id are always signed)',
  amount_type: 'amounts as JSON numbers (default, 1.5) or strings (1.4 banks)',
  execution_date_level: 'requestedExecutionDate per instruction (default from 1.5) or at payment level (1.4 shape)',
  psu_headers: "send the payer's browser headers PSU-IP-Address (IPv4), PSU-User-Agent… (default true)",
  token_type: 'Authorization scheme: Bearer (default) or the token_type the bank returned (as_returned)',
  minimum_amount: 'smallest amount the bank takes (default 0.01; La Banque Postale: 1.50)',
  bulk: 'true when the bank takes several creditTransferTransaction entries (default false)',
  max_instructions: 'most instructions in one payment request (default 100)',
  standing_orders: 'true when the bank takes standing orders (standingOrderCharacteristics; default false)',
  execution_date_types: 'execution types offered (default first_open_day, instant, deferred)',
  cancellation: 'true when the bank takes a cancellation (PUT with CANC; default true)',
  initiating_party: 'initiatingParty name sent (default Payrail)',
  tpp_ip_address: "this Payrail's public IPv4 address, sent as PSU-IP-Address when the payer's is unknown (default 127.0.0.1)",
  timeout_ms: 'deadline of one bank call in ms (default 10000)',
  poll_initial_ms: "first status read after the payer's return, ms (default 2000)",
  poll_max_ms: 'longest interval between status reads, ms (default 900000)',
  poll_payer_ms: "first status read while the payer is at the bank's page, ms (default 20000)",
  signing: 'sign requests (draft-cavage Signature + Digest; default: on when a signing key is given; STET requires it)',
  currencies: 'currencies offered (default EUR)',
};

export const ProfileError = profileErrorOf('stet');

type Raw = Record<string, unknown>;

function bool(raw: Raw, key: keyof StetOptions, fallback: boolean): boolean {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ProfileError(key, 'must be true or false');
  return value;
}

function int(raw: Raw, key: keyof StetOptions, fallback: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new ProfileError(key, `must be an integer from ${min} to ${max}`);
  return value;
}

function oneOf<T extends string | number>(raw: Raw, key: keyof StetOptions, allowed: readonly T[], fallback: T): T {
  const value = raw[key] ?? fallback;
  if (!allowed.includes(value as T)) throw new ProfileError(key, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function text(raw: Raw, key: keyof StetOptions, fallback: string | null, max: number): string | null {
  const value = raw[key] ?? fallback;
  if (value === null) return null;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw new ProfileError(key, `must be a string of 1 to ${max} characters`);
  return value.trim();
}

function url(raw: Raw, key: keyof StetOptions, required: boolean): string | null {
  const value = raw[key];
  if (value === undefined || value === null) {
    if (required) throw new ProfileError(key, 'is required');
    return null;
  }
  try {
    const parsed = new URL(String(value));
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return parsed.toString();
  } catch {
    /* below */
  }
  throw new ProfileError(key, 'must be an absolute http(s) URL');
}

const versionBefore15 = (v: StetVersion) => v.startsWith('1.4');

export function checkOptions(input: unknown, sca: 'redirect' | 'decoupled'): StetOptions {
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) throw new ProfileError('profile', 'must be an object');
  const raw = (input ?? {}) as Raw;
  for (const key of Object.keys(raw)) if (!(key in PROFILE_KEYS)) throw new ProfileError(key, 'is not an option of the stet standard');
  const version = oneOf(raw, 'version', STET_VERSIONS, '1.5');
  const old = versionBefore15(version);
  const types = raw.execution_date_types ?? ['first_open_day', 'instant', 'deferred'];
  if (!Array.isArray(types) || types.length === 0 || types.some((t) => !EXECUTION_DATE_TYPES.includes(t as ExecutionDateType)))
    throw new ProfileError('execution_date_types', `must be a non-empty list of ${EXECUTION_DATE_TYPES.join(', ')}`);
  const standingOrders = bool(raw, 'standing_orders', false);
  const executionTypes = EXECUTION_DATE_TYPES.filter((t) => (t === 'periodic' ? standingOrders || types.includes(t) : types.includes(t)));
  const ip = raw.tpp_ip_address ?? '127.0.0.1';
  if (typeof ip !== 'string' || !isIPv4(ip)) throw new ProfileError('tpp_ip_address', 'must be an IPv4 address');
  const minimum = text(raw, 'minimum_amount', '0.01', 20)!;
  let minimumMinor = 0;
  try {
    minimumMinor = parseAmount(minimum, 'EUR', 'minimum_amount');
  } catch {
    /* below */
  }
  if (minimumMinor < 1) throw new ProfileError('minimum_amount', 'must be a positive amount in EUR, e.g. "1.50"');
  const signed = raw.signed_headers ?? ['(request-target)', 'digest', 'x-request-id', 'psu-*'];
  if (!Array.isArray(signed) || signed.length === 0 || signed.some((h) => typeof h !== 'string' || !/^(\(request-target\)|[a-z0-9-]+\*?)$/.test(h)))
    throw new ProfileError('signed_headers', 'must be a list of lower-case header names or "(request-target)"');
  const currencies = raw.currencies ?? ['EUR'];
  if (!Array.isArray(currencies) || currencies.length === 0 || currencies.some((c) => c !== 'EUR'))
    throw new ProfileError('currencies', 'must be ["EUR"]: STET payment requests are SEPA credit transfers');
  const keyIdForm = oneOf(raw, 'key_id_form', KEY_ID_FORMS, 'url');
  const keyId = text(raw, 'key_id', null, 1000);
  const options: StetOptions = {
    client_id: text(raw, 'client_id', null, 200) ?? '',
    token_url: url(raw, 'token_url', true)!,
    authorization_url: url(raw, 'authorization_url', false),
    version,
    approach: oneOf(raw, 'approach', APPROACHES, sca === 'decoupled' ? 'DECOUPLED' : 'REDIRECT'),
    redirect_flow: oneOf(raw, 'redirect_flow', ['oauth2', 'redirect'] as const, old ? 'redirect' : 'oauth2'),
    pkce: bool(raw, 'pkce', true),
    confirmation: bool(raw, 'confirmation', true),
    resource_id_from: oneOf(raw, 'resource_id_from', RESOURCE_ID_SOURCES, 'location'),
    resource_id_param: text(raw, 'resource_id_param', 'paymentRequestResourceId', 100)!,
    accept: oneOf(raw, 'accept', ['application/hal+json', 'application/json'] as const, 'application/hal+json'),
    key_id_form: keyIdForm,
    key_id: keyId,
    signed_headers: signed as string[],
    amount_type: oneOf(raw, 'amount_type', ['number', 'string'] as const, old ? 'string' : 'number'),
    execution_date_level: oneOf(raw, 'execution_date_level', ['instruction', 'payment'] as const, old ? 'payment' : 'instruction'),
    psu_headers: bool(raw, 'psu_headers', true),
    token_type: oneOf(raw, 'token_type', ['Bearer', 'as_returned'] as const, 'Bearer'),
    minimum_amount: minimum,
    bulk: bool(raw, 'bulk', false),
    max_instructions: int(raw, 'max_instructions', 100, 2, 10_000),
    standing_orders: standingOrders,
    execution_date_types: executionTypes,
    cancellation: bool(raw, 'cancellation', true),
    initiating_party: text(raw, 'initiating_party', 'Payrail', 140)!,
    tpp_ip_address: ip,
    timeout_ms: int(raw, 'timeout_ms', 10_000, 100, 300_000),
    poll_initial_ms: int(raw, 'poll_initial_ms', 2_000, 100, 3_600_000),
    poll_max_ms: int(raw, 'poll_max_ms', 15 * 60_000, 100, 86_400_000),
    poll_payer_ms: int(raw, 'poll_payer_ms', 20_000, 100, 3_600_000),
    ...(raw.signing !== undefined && raw.signing !== null ? { signing: bool(raw, 'signing', true) } : {}),
    currencies: ['EUR'],
  };
  if (!options.client_id) throw new ProfileError('client_id', 'is required (the organisation identifier of your eIDAS certificate)');
  if (options.key_id_form === 'url' && options.key_id === null && options.signing !== false)
    throw new ProfileError('key_id', 'is required with key_id_form url: the URL of your QSealC certificate');
  if (options.poll_max_ms < options.poll_initial_ms) throw new ProfileError('poll_max_ms', 'must not be less than poll_initial_ms');
  return options;
}
