/**
 * The one table from UK Open Banking error codes (`Errors[].ErrorCode`: `UK.OBIE.*` in 3.1,
 * U000–U042 in 4.0, the OB internal code set) to Powens `error_code` values, and the reader of
 * an error answer. The raw code is kept in the description the payer and merchant see.
 */
import { FALLBACK_BY_HTTP } from '../kit/error-fallback.ts';

export interface ErrorRow {
  /** The 3.1 name. */
  name: string;
  /** The 4.0 code. */
  code: string;
  http: string;
  /** A Powens error code, or `by path` (PATH_TABLE). */
  powens: string;
  rule?: string;
}

const BY_PATH = 'by path';

export const ERROR_TABLE: readonly ErrorRow[] = [
  { code: 'U000', name: 'UK.OBIE.UnexpectedError', http: '5xx', powens: 'noSpecifiedReason', rule: 'a 5xx answer is not a refusal: the outcome is unknown' },
  { code: 'U001', name: 'UK.OBIE.Field.Expected', http: '400', powens: BY_PATH },
  { code: 'U002', name: 'UK.OBIE.Field.Invalid', http: '400', powens: BY_PATH },
  { code: 'U003', name: 'UK.OBIE.Field.InvalidDate', http: '400', powens: 'invalidDate' },
  { code: 'U004', name: 'UK.OBIE.Field.Missing', http: '400', powens: BY_PATH },
  { code: 'U005', name: 'UK.OBIE.Field.Unexpected', http: '400', powens: BY_PATH },
  { code: 'U006', name: 'UK.OBIE.Header.Invalid', http: '400', powens: 'bug', rule: 'our request: the operator is alerted' },
  { code: 'U007', name: 'UK.OBIE.Header.Missing', http: '400', powens: 'bug', rule: 'our request: the operator is alerted' },
  { code: 'U008', name: 'UK.OBIE.Resource.ConsentMismatch', http: '400', powens: 'bug', rule: 'the payment differs from its consent: never expected' },
  {
    code: 'U009',
    name: 'UK.OBIE.Resource.InvalidConsentStatus',
    http: '400',
    powens: 'noSpecifiedReason',
    rule: 'the consent is not authorised (or consumed)',
  },
  { code: 'U010', name: 'UK.OBIE.Resource.InvalidFormat', http: '400', powens: BY_PATH },
  { code: 'U011', name: 'UK.OBIE.Resource.NotFound', http: '400', powens: 'bug' },
  { code: 'U012', name: 'UK.OBIE.Rules.AfterCutOffDateTime', http: '400', powens: 'invalidDate' },
  { code: 'U013', name: 'UK.OBIE.Rules.DuplicateReference', http: '400', powens: 'invalidReferenceId' },
  { code: 'U014', name: 'UK.OBIE.Rules.FailsControlParameters', http: '400', powens: 'invalidAmount' },
  { code: 'U015', name: 'UK.OBIE.Signature.Invalid', http: '400', powens: 'bug', rule: 'our signing set-up: the operator is alerted' },
  { code: 'U016', name: 'UK.OBIE.Signature.InvalidClaim', http: '400', powens: 'bug', rule: 'our signing set-up: the operator is alerted' },
  { code: 'U017', name: 'UK.OBIE.Signature.MissingClaim', http: '400', powens: 'bug', rule: 'our signing set-up: the operator is alerted' },
  { code: 'U018', name: 'UK.OBIE.Signature.Malformed', http: '400', powens: 'bug', rule: 'our signing set-up: the operator is alerted' },
  { code: 'U019', name: 'UK.OBIE.Signature.Missing', http: '400', powens: 'bug', rule: 'our signing set-up: the operator is alerted' },
  { code: 'U020', name: 'UK.OBIE.Signature.Unexpected', http: '400', powens: 'bug', rule: 'our signing set-up: the operator is alerted' },
  { code: 'U021', name: 'UK.OBIE.Unsupported.AccountIdentifier', http: '400', powens: 'invalidBeneficiary' },
  { code: 'U022', name: 'UK.OBIE.Unsupported.AccountSecondaryIdentifier', http: '400', powens: 'invalidBeneficiary' },
  { code: 'U023', name: 'UK.OBIE.Unsupported.Currency', http: '400', powens: 'invalidCurrency' },
  { code: 'U024', name: 'UK.OBIE.Unsupported.EventType', http: '400', powens: 'bug' },
  { code: 'U025', name: 'UK.OBIE.Unsupported.Frequency', http: '400', powens: 'invalidDate' },
  { code: 'U026', name: 'UK.OBIE.Unsupported.LocalInstrument', http: '400', powens: 'invalidValue' },
  { code: 'U027', name: 'UK.OBIE.Unsupported.Scheme', http: '400', powens: 'invalidBeneficiary' },
  { code: 'U028', name: 'UK.OBIE.Reauthenticate', http: '403', powens: 'authenticationFailed' },
  { code: 'U029', name: 'UK.OBIE.Rules.ResourceAlreadyExists', http: '409', powens: 'noSpecifiedReason' },
  { code: 'U030', name: 'Payment order successfully received', http: 'status reason', powens: '—', rule: 'a status reason, not an error' },
  { code: 'U031', name: 'All checks yet to start', http: 'status reason', powens: '—', rule: 'a status reason, not an error' },
  { code: 'U032', name: 'Customer profile checks completed', http: 'status reason', powens: '—', rule: 'a status reason, not an error' },
  { code: 'U033', name: 'Authorisation failed', http: 'status reason', powens: 'authenticationFailed' },
  { code: 'U034', name: "Debit to Debtor's account completed", http: 'status reason', powens: '—', rule: 'a status reason, not an error' },
  { code: 'U035', name: 'Consent already consumed', http: 'status reason', powens: 'noSpecifiedReason' },
  { code: 'U036', name: 'Authorisation not completed', http: 'status reason', powens: 'noAnswerFromCustomer' },
  { code: 'U037', name: 'Authorisation failed', http: 'status reason', powens: 'authenticationFailed' },
  { code: 'U038', name: 'Consent consumed successfully', http: 'status reason', powens: '—', rule: 'a status reason, not an error' },
  { code: 'U039', name: 'Reinstate not allowed any more', http: 'status reason', powens: 'noSpecifiedReason' },
  { code: 'U040', name: 'Awaiting multiple authentication', http: 'status reason', powens: '—', rule: 'a status reason, not an error' },
  { code: 'U041', name: 'UK.OBIE.ExemptionNotApplied', http: 'status reason', powens: 'noSpecifiedReason' },
  { code: 'U042', name: 'UK.OBIE.OtherReason', http: '400', powens: 'noSpecifiedReason' },
];

/** `Path` of a field error → Powens code (first match wins; compared case-insensitively). */
export const PATH_TABLE: readonly { field: string; powens: string }[] = [
  { field: 'Currency', powens: 'invalidCurrency' },
  { field: 'Amount', powens: 'invalidAmount' },
  { field: 'CreditorAccount', powens: 'invalidBeneficiary' },
  { field: 'DebtorAccount', powens: 'invalidEmitter' },
  { field: 'RemittanceInformation', powens: 'invalidLabel' },
  { field: 'Reference', powens: 'invalidLabel' },
  { field: 'EndToEndIdentification', powens: 'invalidReferenceId' },
  { field: 'RequestedExecutionDateTime', powens: 'invalidDate' },
  { field: 'FirstPaymentDateTime', powens: 'invalidDate' },
  { field: 'FinalPaymentDateTime', powens: 'invalidDate' },
  { field: 'Frequency', powens: 'invalidDate' },
];

export { FALLBACK_BY_HTTP };

const BY_CODE = new Map<string, ErrorRow>(ERROR_TABLE.flatMap((row) => [[row.code, row] as const, [row.name, row] as const]));

export interface ObError {
  code: string;
  message: string | null;
  path: string | null;
}

function text(value: unknown, max = 500): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : null;
}

/** `Errors[]` of an error answer (both versions), and v4's `StatusReason[]` codes of a resource. */
export function readErrors(body: unknown): ObError[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as Record<string, unknown>;
  const out: ObError[] = [];
  if (Array.isArray(b.Errors))
    for (const raw of b.Errors) {
      const e = (raw ?? {}) as Record<string, unknown>;
      const code = text(e.ErrorCode, 70);
      if (code) out.push({ code, message: text(e.Message), path: text(e.Path, 200) });
    }
  const data = (b.Data ?? {}) as Record<string, unknown>;
  if (Array.isArray(data.StatusReason))
    for (const raw of data.StatusReason) {
      const r = (raw ?? {}) as Record<string, unknown>;
      const code = text(r.StatusReasonCode, 4);
      if (code) out.push({ code, message: text(r.StatusReasonDescription), path: text(r.Path, 200) });
    }
  return out;
}

function byPath(path: string | null): string {
  if (!path) return 'invalidValue';
  const wanted = path.toLowerCase();
  return PATH_TABLE.find((row) => wanted.includes(row.field.toLowerCase()))?.powens ?? 'invalidValue';
}

/** The Powens code of one error, or null when its code is not in the table (or names no error). */
export function errorCodeFor(error: ObError): string | null {
  const row = BY_CODE.get(error.code);
  if (!row || row.powens === '—') return null;
  return row.powens === BY_PATH ? byPath(error.path) : row.powens;
}

export interface MappedError {
  error_code: string;
  description: string;
  /** The bank's code, kept raw. */
  bank_code: string | null;
}

function describe(error: ObError): string {
  return `${error.code}${error.path ? ` (${error.path})` : ''}: ${error.message ?? 'the bank gave no message'}`.slice(0, 500);
}

/** One Powens code for an error answer: the first error that maps wins; else by HTTP status. */
export function mapBankError(httpStatus: number, body: unknown): MappedError {
  const errors = readErrors(body);
  for (const error of errors) {
    const error_code = errorCodeFor(error);
    if (error_code) return { error_code, description: describe(error), bank_code: error.code };
  }
  const first = errors[0];
  return {
    error_code: FALLBACK_BY_HTTP[String(httpStatus)] ?? FALLBACK_BY_HTTP.other!,
    description: first ? describe(first) : `The bank refused the request (HTTP ${httpStatus}).`,
    bank_code: first?.code ?? null,
  };
}
