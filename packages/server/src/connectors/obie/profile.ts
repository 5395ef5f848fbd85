/**
 * What one UK Open Banking bank needs and allows: the standard's version, its authorization
 * server, our registration there (client id, signing key id, token endpoint authentication), the
 * JWS variant, the Risk block's context code, the execution types offered, and the timings. Each
 * option exists because real banks differ on it (spec/obie/NOTICE.md; docs/banks.md, UK section).
 */
import { EXECUTION_DATE_TYPES, type ExecutionDateType } from '../../domain/payment-request.ts';
import { API_VERSIONS, type ApiVersion, DEFAULT_PAYMENT_CONTEXT, PAYMENT_CONTEXT_CODES } from './versions.ts';
import { profileErrorOf } from '../kit/profile-error.ts';

export const TOKEN_AUTH_METHODS = ['private_key_jwt', 'tls_client_auth'] as const;
export type TokenAuth = (typeof TOKEN_AUTH_METHODS)[number];

export interface ObieOptions {
  /** The standard's version the bank serves (its base URL names it too). */
  api_version: ApiVersion;
  /** The authorization server's issuer: its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** Our client id at the bank (from the dynamic client registration or the bank's portal). */
  client_id: string;
  /** `kid` of our signing key as the Open Banking directory (or the bank) publishes it. */
  signing_kid: string;
  /** Client authentication at the token endpoint. */
  token_auth: TokenAuth;
  /** `x-fapi-financial-id`, sent when set (3.1.2 and older required it; many banks still read it). */
  financial_id: string | null;
  /** `http://openbanking.org.uk/iss` of our signatures (`{org-id}/{software-statement-id}`); default the client id. */
  jws_iss: string | null;
  /** `http://openbanking.org.uk/tan` of our signatures. */
  jws_tan: string;
  /** `b64: false` in our signatures (banks on 3.1.3 or older). */
  jws_unencoded_payload: boolean;
  /** Verify the bank's `x-jws-signature` on its answers against its JWKS (an answer whose signature fails is not trusted). */
  verify_response_signatures: boolean;
  /** `Risk.PaymentContextCode` (the version's list; default an e-commerce purchase). */
  payment_context_code: string;
  /** `Risk.MerchantCategoryCode` (ISO 18245), when set. */
  merchant_category_code: string | null;
  /** `Initiation.LocalInstrument` of single payments (default Faster Payments). */
  local_instrument: string;
  /** Execution types offered: `deferred` → scheduled payments, `periodic` → standing orders. */
  execution_date_types: ExecutionDateType[];
  timeout_ms: number;
  poll_initial_ms: number;
  poll_max_ms: number;
  /** Status sync while the payer is at the bank's page (not back yet). */
  poll_payer_ms: number;
  currencies: string[];
  /** The Berlin Group HTTP signature is not this standard's: always off. */
  signing: false;
}

export const PROFILE_KEYS: Record<Exclude<keyof ObieOptions, 'signing'>, string> = {
  api_version: 'the standard version the bank serves: 4.0 or 3.1.11 (`--api-version`; default 4.0)',
  issuer: "the authorization server's issuer URL (`--issuer`; its discovery document gives the authorize, token and JWKS endpoints)",
  client_id: 'our client id at the bank (`--client-id`)',
  signing_kid: 'kid of our signing key (`--signing-kid`; the key itself: `--signing-key`)',
  token_auth: 'token endpoint authentication: private_key_jwt (default) or tls_client_auth (`--token-auth`; needs `--client-cert`/`--client-key`)',
  financial_id: 'x-fapi-financial-id sent on every call (`--financial-id`; default none)',
  jws_iss: 'http://openbanking.org.uk/iss of our signatures, e.g. {org-id}/{software-statement-id} (default the client id)',
  jws_tan: 'http://openbanking.org.uk/tan of our signatures (default openbanking.org.uk)',
  jws_unencoded_payload: 'true for banks on 3.1.3 or older: b64=false in the JWS header (default false)',
  verify_response_signatures: "verify the bank's x-jws-signature on answers against its JWKS (default true)",
  payment_context_code: 'Risk.PaymentContextCode (default BillingGoodsAndServicesInAdvance on 4.0, EcommerceGoods on 3.1.11)',
  merchant_category_code: 'Risk.MerchantCategoryCode, 3-4 digits (default none)',
  local_instrument: 'Initiation.LocalInstrument of single payments (default UK.OBIE.FPS)',
  execution_date_types: 'execution types offered (default first_open_day, instant; deferred = scheduled payments, periodic = standing orders)',
  timeout_ms: 'deadline of one bank call in ms (default 10000)',
  poll_initial_ms: "first status read after the payer's return, ms (default 2000)",
  poll_max_ms: 'longest interval between status reads, ms (default 900000)',
  poll_payer_ms: "first status read while the payer is at the bank's page, ms (default 20000)",
  currencies: 'currencies offered (default GBP)',
};

export const ProfileError = profileErrorOf('obie');

type Raw = Record<string, unknown>;

function string(raw: Raw, key: string, fallback: string | null, max = 500): string | null {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw new ProfileError(key, `must be a string of 1 to ${max} characters`);
  return value.trim();
}

function bool(raw: Raw, key: string, fallback: boolean): boolean {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ProfileError(key, 'must be true or false');
  return value;
}

function int(raw: Raw, key: string, fallback: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new ProfileError(key, `must be an integer from ${min} to ${max}`);
  return value;
}

function httpUrl(raw: Raw, key: string): string {
  const value = string(raw, key, null, 2000);
  if (value === null) throw new ProfileError(key, 'is required');
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new ProfileError(key, 'must be an http(s) URL');
  }
  return value.replace(/\/+$/, '');
}

/** Checks a bank's raw options; unknown keys are refused (a typo must not fall back to a default). */
export function checkOptions(input: unknown): ObieOptions {
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) throw new ProfileError('profile', 'must be an object');
  const raw = (input ?? {}) as Raw;
  for (const key of Object.keys(raw)) if (!(key in PROFILE_KEYS) && key !== 'signing') throw new ProfileError(key, 'is not an option of the obie standard');
  if (raw.signing === true) throw new ProfileError('signing', 'UK Open Banking signs with x-jws-signature, not HTTP signatures: leave it out');
  const version = raw.api_version ?? '4.0';
  if (!API_VERSIONS.includes(version as ApiVersion)) throw new ProfileError('api_version', `must be one of ${API_VERSIONS.join(', ')}`);
  const api_version = version as ApiVersion;
  const client_id = string(raw, 'client_id', null, 200);
  if (!client_id) throw new ProfileError('client_id', 'is required');
  const signing_kid = string(raw, 'signing_kid', null, 200);
  if (!signing_kid) throw new ProfileError('signing_kid', 'is required');
  const token_auth = (raw.token_auth ?? 'private_key_jwt') as TokenAuth;
  if (!TOKEN_AUTH_METHODS.includes(token_auth)) throw new ProfileError('token_auth', `must be one of ${TOKEN_AUTH_METHODS.join(', ')}`);
  const context = string(raw, 'payment_context_code', DEFAULT_PAYMENT_CONTEXT[api_version])!;
  if (!PAYMENT_CONTEXT_CODES[api_version].includes(context))
    throw new ProfileError('payment_context_code', `must be one of ${PAYMENT_CONTEXT_CODES[api_version].join(', ')} on ${api_version}`);
  const mcc = string(raw, 'merchant_category_code', null, 4);
  if (mcc !== null && !/^\d{3,4}$/.test(mcc)) throw new ProfileError('merchant_category_code', 'must be 3 or 4 digits');
  const types = raw.execution_date_types ?? ['first_open_day', 'instant'];
  if (!Array.isArray(types) || types.length === 0 || types.some((t) => !EXECUTION_DATE_TYPES.includes(t as ExecutionDateType)))
    throw new ProfileError('execution_date_types', `must be a non-empty list of ${EXECUTION_DATE_TYPES.join(', ')}`);
  const currencies = raw.currencies ?? ['GBP'];
  if (!Array.isArray(currencies) || currencies.length === 0 || currencies.some((c) => c !== 'GBP'))
    throw new ProfileError('currencies', 'must be ["GBP"]: domestic UK payments are in sterling');
  const options: ObieOptions = {
    api_version,
    issuer: httpUrl(raw, 'issuer'),
    client_id,
    signing_kid,
    token_auth,
    financial_id: string(raw, 'financial_id', null, 100),
    jws_iss: string(raw, 'jws_iss', null, 500),
    jws_tan: string(raw, 'jws_tan', 'openbanking.org.uk', 200)!,
    jws_unencoded_payload: bool(raw, 'jws_unencoded_payload', false),
    verify_response_signatures: bool(raw, 'verify_response_signatures', true),
    payment_context_code: context,
    merchant_category_code: mcc,
    local_instrument: string(raw, 'local_instrument', 'UK.OBIE.FPS', 50)!,
    execution_date_types: EXECUTION_DATE_TYPES.filter((t) => (types as string[]).includes(t)),
    timeout_ms: int(raw, 'timeout_ms', 10_000, 100, 300_000),
    poll_initial_ms: int(raw, 'poll_initial_ms', 2_000, 100, 3_600_000),
    poll_max_ms: int(raw, 'poll_max_ms', 15 * 60_000, 100, 86_400_000),
    poll_payer_ms: int(raw, 'poll_payer_ms', 20_000, 100, 3_600_000),
    currencies: ['GBP'],
    signing: false,
  };
  if (options.poll_max_ms < options.poll_initial_ms) throw new ProfileError('poll_max_ms', 'must not be less than poll_initial_ms');
  return options;
}
