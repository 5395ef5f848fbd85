/**
 * STET errors (`ErrorModel`: `status`, `error`, `message`, `path`; `Error400Model` adds
 * `acceptedAuthenticationApproach`) → Powens `error_code`. STET has no error codes of its own: the
 * HTTP status decides, refined by the field a 400 names in `message` or `path` (docs/banks.md
 * renders the tables).
 */

/** By HTTP status, when the message names no known field. */
export const ERROR_BY_HTTP: Readonly<Record<string, { powens: string; meaning: string }>> = {
  '400': { powens: 'invalidValue', meaning: 'the request breaks a rule of the bank' },
  '401': { powens: 'bug', meaning: 'our token was refused (renewed on the next call)' },
  '403': { powens: 'noSpecifiedReason', meaning: 'the bank forbids this payment' },
  '404': { powens: 'bug', meaning: 'unknown resource (our path)' },
  '405': { powens: 'bug', meaning: 'method not allowed (our set-up)' },
  '406': { powens: 'bug', meaning: 'Accept refused: set the profile option accept' },
  '409': { powens: 'noSpecifiedReason', meaning: 'conflict with the payment state' },
  '415': { powens: 'bug', meaning: 'media type refused (our set-up)' },
};

/** Fields a 400 may name (in `path` or `message`), in the order they are tried. */
export const FIELD_TABLE: readonly { field: string; powens: string }[] = [
  { field: 'currency', powens: 'invalidCurrency' },
  { field: 'instructedAmount', powens: 'invalidAmount' },
  { field: 'amount', powens: 'invalidAmount' },
  { field: 'creditorAccount', powens: 'invalidBeneficiary' },
  { field: 'creditorAgent', powens: 'invalidBeneficiary' },
  { field: 'beneficiary', powens: 'invalidBeneficiary' },
  { field: 'creditor', powens: 'invalidBeneficiary' },
  { field: 'debtorAccount', powens: 'invalidEmitter' },
  { field: 'remittanceInformation', powens: 'invalidLabel' },
  { field: 'endToEndId', powens: 'invalidReferenceId' },
  { field: 'requestedExecutionDate', powens: 'invalidDate' },
  { field: 'standingOrderCharacteristics', powens: 'invalidDate' },
  { field: 'AuthenticationApproach', powens: 'authenticationFailed' },
];

export interface MappedError {
  error_code: string;
  description: string;
}

function text(value: unknown, max = 300): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : null;
}

export function mapBankError(httpStatus: number, body: unknown): MappedError {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const message = text(b.message);
  const where = `${text(b.path) ?? ''} ${message ?? ''}`.toLowerCase();
  const said = message ? `: ${message}` : '';
  if (httpStatus === 400) {
    for (const { field, powens } of FIELD_TABLE)
      if (where.includes(field.toLowerCase())) return { error_code: powens, description: `The bank refused the payment${said}` };
  }
  const row = ERROR_BY_HTTP[String(httpStatus)];
  return { error_code: row?.powens ?? 'noSpecifiedReason', description: `The bank refused the request (HTTP ${httpStatus})${said}` };
}
