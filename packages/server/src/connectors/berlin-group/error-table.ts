/**
 * The one table from NextGenPSD2 1.3.12 error codes (`tppMessages[].code`, RFC 7807 `code` and
 * `additionalErrors[].code`, the status response's `tppMessage[].code`) to Powens `error_code`
 * values (docs/reference/berlin-group.md §8), and the reader that finds those codes in any of the three shapes.
 */
import { FALLBACK_BY_HTTP } from '../kit/error-fallback.ts';

export interface TppMessage {
  category: string;
  code: string;
  path: string | null;
  text: string | null;
}

export interface ErrorRow {
  codes: readonly string[];
  http: string;
  /** A Powens error code, or a rule name resolved by `errorCodeFor` (see `rule`). */
  powens: string;
  rule?: string;
}

/** Codes whose Powens code depends on the field the bank names in `path`. */
const BY_PATH = 'by path';

export const ERROR_TABLE: readonly ErrorRow[] = [
  {
    codes: ['FORMAT_ERROR', 'PARAMETER_NOT_CONSISTENT', 'PARAMETER_NOT_SUPPORTED'],
    http: '400',
    powens: BY_PATH,
    rule: "the field named in `path` (table below); `bug` when `path` is a header Payrail builds itself (`Date`, `X-Request-ID`, `PSU-IP-Address`, `TPP-Redirect-URI`, `Digest`, `Signature`, …: the bank's profile is wrong, e.g. `send_date`); `invalidValue` when none matches",
  },
  { codes: ['EXECUTION_DATE_INVALID', 'PERIOD_INVALID'], http: '400', powens: 'invalidDate' },
  { codes: ['PAYMENT_FAILED'], http: '400', powens: 'bankMessage', rule: '`bankMessage` when the bank gives a `text`, else `noSpecifiedReason`' },
  { codes: ['PSU_CREDENTIALS_INVALID', 'CORPORATE_ID_INVALID', 'SCA_INVALID', 'SCA_METHOD_UNKNOWN'], http: '400, 401', powens: 'authenticationFailed' },
  { codes: ['PRODUCT_INVALID', 'SERVICE_BLOCKED'], http: '403', powens: 'invalidEmitter' },
  { codes: ['FUNDS_NOT_AVAILABLE'], http: '200 (status)', powens: 'insufficientFunds' },
  { codes: ['RESOURCE_EXPIRED'], http: '400, 403', powens: 'noAnswerFromCustomer' },
  { codes: ['RESOURCE_BLOCKED'], http: '400', powens: 'noSpecifiedReason' },
  {
    codes: ['STATUS_INVALID', 'CANCELLATION_INVALID'],
    http: '405, 409',
    powens: 'noSpecifiedReason',
    rule: 'a cancellation answered so is `notSupported` and leaves the payment unchanged',
  },
  {
    codes: [
      'CERTIFICATE_INVALID',
      'CERTIFICATE_EXPIRED',
      'CERTIFICATE_BLOCKED',
      'CERTIFICATE_REVOKE',
      'CERTIFICATE_MISSING',
      'SIGNATURE_INVALID',
      'SIGNATURE_MISSING',
      'ROLE_INVALID',
      'TOKEN_UNKNOWN',
      'TOKEN_INVALID',
      'TOKEN_EXPIRED',
      'KID_MISSING',
      'RESOURCE_UNKNOWN',
      'PRODUCT_UNKNOWN',
      'SERVICE_INVALID',
      'TIMESTAMP_INVALID',
      'CONSENT_UNKNOWN',
      'CONSENT_INVALID',
      'CONSENT_EXPIRED',
    ],
    http: '400, 401, 403, 404, 405',
    powens: 'bug',
    rule: 'our set-up (certificates, signing, paths): the operator is alerted',
  },
];

/** Field names the bank may put in `path`, in the order they are tried, and what they mean. */
export const PATH_TABLE: readonly { field: string; within?: string; powens: string }[] = [
  { field: 'currency', within: 'instructedAmount', powens: 'invalidCurrency' },
  { field: 'instructedAmount', powens: 'invalidAmount' },
  { field: 'creditorAccount', powens: 'invalidBeneficiary' },
  { field: 'creditorName', powens: 'invalidBeneficiary' },
  { field: 'creditorAgent', powens: 'invalidBeneficiary' },
  { field: 'creditorAddress', powens: 'invalidBeneficiary' },
  { field: 'remittanceInformationUnstructured', powens: 'invalidLabel' },
  { field: 'debtorAccount', powens: 'invalidEmitter' },
  { field: 'endToEndIdentification', powens: 'invalidReferenceId' },
  { field: 'requestedExecutionDate', powens: 'invalidDate' },
  { field: 'startDate', powens: 'invalidDate' },
  { field: 'endDate', powens: 'invalidDate' },
  { field: 'frequency', powens: 'invalidDate' },
];

export { FALLBACK_BY_HTTP };

const ROW_BY_CODE = new Map<string, ErrorRow>(ERROR_TABLE.flatMap((row) => row.codes.map((code) => [code, row] as const)));

/**
 * Request headers Payrail builds from the bank's profile, not from the payment: a bank that refuses
 * one says Payrail's set-up for it is wrong (a missing `Date` where `send_date` is off), not the
 * merchant's data. `PSU-ID` is the payer's own input and is not among them.
 */
const OWN_HEADERS =
  /^(date|x-request-id|psu-ip-address|psu-ip-port|psu-user-agent|psu-accept(-[a-z]+)?|psu-http-method|psu-geo-location|psu-device-id|tpp-[a-z-]+|digest|signature|content-type|authorization)$/i;

function pathCode(path: string | null): string {
  if (!path) return 'invalidValue';
  if (OWN_HEADERS.test(path.trim())) return 'bug';
  const wanted = path.toLowerCase();
  // The amount's own `currency` belongs to instructedAmount; an account's `currency` to that account.
  for (const { field, within, powens } of PATH_TABLE) {
    if (within && !wanted.includes(within.toLowerCase())) continue;
    if (wanted.includes(field.toLowerCase())) return powens;
  }
  return 'invalidValue';
}

/** The Powens code for one message, or null when its code is not in the table. */
export function errorCodeFor(message: TppMessage): string | null {
  const row = ROW_BY_CODE.get(message.code);
  if (!row) return null;
  if (row.powens === BY_PATH) return pathCode(message.path);
  if (message.code === 'PAYMENT_FAILED') return message.text ? 'bankMessage' : 'noSpecifiedReason';
  return row.powens;
}

export interface MappedError {
  error_code: string;
  /** Text for the payer and the merchant: the bank's own words when it gave some. */
  description: string;
  /** The NextGenPSD2 code the Powens code came from, when any. */
  bank_code: string | null;
}

/** Maps a bank's error answer (any of its shapes) to one Powens code: the first message that maps wins. */
export function mapBankError(httpStatus: number, body: unknown): MappedError {
  const messages = readTppMessages(body).filter((m) => m.category !== 'WARNING');
  for (const message of messages) {
    const error_code = errorCodeFor(message);
    if (error_code) return { error_code, description: describe(message), bank_code: message.code };
  }
  const first = messages[0];
  return {
    error_code: FALLBACK_BY_HTTP[String(httpStatus)] ?? FALLBACK_BY_HTTP.other!,
    description: first ? describe(first) : `The bank refused the request (HTTP ${httpStatus}).`,
    bank_code: first?.code ?? null,
  };
}

function describe(message: TppMessage): string {
  return message.text ? `${message.code}: ${message.text}` : `The bank answered ${message.code}.`;
}

function text(value: unknown, max = 500): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : null;
}

function message(raw: unknown, fallbackCategory = 'ERROR'): TppMessage | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const code = text(r.code, 70);
  if (!code) return null;
  return { category: text(r.category, 20) ?? fallbackCategory, code, path: text(r.path, 200), text: text(r.text) ?? text(r.detail) ?? text(r.title) };
}

/**
 * Every message of an answer: `tppMessages` (NextGenPSD2 errors and 201 warnings), `tppMessage`
 * (singular, in status and scaStatus answers) and RFC 7807 `code` with `additionalErrors`.
 */
export function readTppMessages(body: unknown): TppMessage[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as Record<string, unknown>;
  const out: TppMessage[] = [];
  for (const list of [b.tppMessages, b.tppMessage]) {
    if (Array.isArray(list))
      for (const raw of list) {
        const m = message(raw);
        if (m) out.push(m);
      }
    else {
      const m = message(list);
      if (m) out.push(m);
    }
  }
  const problem = message(b);
  if (problem) out.push(problem);
  if (Array.isArray(b.additionalErrors))
    for (const raw of b.additionalErrors) {
      const m = message(raw);
      if (m) out.push(m);
    }
  return out;
}
