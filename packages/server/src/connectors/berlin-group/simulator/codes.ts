/**
 * The code lists of NextGenPSD2 1.3.12 the simulator answers with (enums of the OpenAPI file:
 * `transactionStatus`, `scaStatus`, `MessageCode4xx_PIS`). Only these codes ever leave the
 * simulator, so a response never breaks the standard's enums; `test/bg-simulator.test.ts` checks
 * these lists against the vendored file.
 */
export const TRANSACTION_STATUSES = ['ACCC', 'ACCP', 'ACSC', 'ACSP', 'ACTC', 'ACWC', 'ACWP', 'RCVD', 'PDNG', 'RJCT', 'CANC', 'ACFC', 'PATC', 'PART'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export const SCA_STATUSES = [
  'received',
  'psuIdentified',
  'psuAuthenticated',
  'scaMethodSelected',
  'started',
  'unconfirmed',
  'finalised',
  'failed',
  'exempted',
] as const;
export type ScaStatus = (typeof SCA_STATUSES)[number];

/** Error codes per HTTP status for payment initiation services (`MessageCode{status}_PIS`). */
export const PIS_ERROR_CODES = {
  400: [
    'FORMAT_ERROR',
    'PARAMETER_NOT_CONSISTENT',
    'PARAMETER_NOT_SUPPORTED',
    'SERVICE_INVALID',
    'RESOURCE_UNKNOWN',
    'RESOURCE_EXPIRED',
    'RESOURCE_BLOCKED',
    'TIMESTAMP_INVALID',
    'PERIOD_INVALID',
    'SCA_METHOD_UNKNOWN',
    'SCA_INVALID',
    'CONSENT_UNKNOWN',
    'PAYMENT_FAILED',
    'EXECUTION_DATE_INVALID',
  ],
  401: [
    'CERTIFICATE_INVALID',
    'ROLE_INVALID',
    'CERTIFICATE_EXPIRED',
    'CERTIFICATE_BLOCKED',
    'CERTIFICATE_REVOKE',
    'CERTIFICATE_MISSING',
    'SIGNATURE_INVALID',
    'SIGNATURE_MISSING',
    'CORPORATE_ID_INVALID',
    'PSU_CREDENTIALS_INVALID',
    'CONSENT_INVALID',
    'CONSENT_EXPIRED',
    'TOKEN_UNKNOWN',
    'TOKEN_INVALID',
    'TOKEN_EXPIRED',
    'KID_MISSING',
  ],
  403: ['CONSENT_UNKNOWN', 'SERVICE_BLOCKED', 'RESOURCE_UNKNOWN', 'RESOURCE_EXPIRED', 'PRODUCT_INVALID'],
  404: ['RESOURCE_UNKNOWN', 'PRODUCT_UNKNOWN'],
  405: ['SERVICE_INVALID'],
  409: ['STATUS_INVALID'],
} as const satisfies Record<number, readonly string[]>;

/** `cancelPayment` answers 405 with its own list (`MessageCode405_PIS_CANC`). */
export const CANCELLATION_405_CODES = ['CANCELLATION_INVALID', 'SERVICE_INVALID'] as const;

export type ErrorStatus = keyof typeof PIS_ERROR_CODES;
export const ERROR_STATUSES = Object.keys(PIS_ERROR_CODES).map(Number) as ErrorStatus[];

/** Every code the simulator may send in `tppMessages`. */
export const ERROR_CODES: ReadonlySet<string> = new Set([...Object.values(PIS_ERROR_CODES).flat(), ...CANCELLATION_405_CODES]);

/**
 * The HTTP status a code is sent with: the given one when its list holds the code, else the first
 * status whose list does. Undefined when the code belongs to no list (the caller refuses it).
 */
export function statusForCode(code: string, preferred?: number, operation?: string): number | undefined {
  const holds = (status: number) =>
    status === 405 && operation === 'cancelPayment'
      ? (CANCELLATION_405_CODES as readonly string[]).includes(code)
      : ((PIS_ERROR_CODES as Record<number, readonly string[]>)[status] ?? []).includes(code);
  if (preferred !== undefined) return holds(preferred) ? preferred : undefined;
  return ERROR_STATUSES.find(holds) ?? (operation === 'cancelPayment' && holds(405) ? 405 : undefined);
}

/** Statuses after which nothing more happens to a payment. */
export const FINAL_STATUSES: ReadonlySet<TransactionStatus> = new Set(['ACSC', 'ACCC', 'RJCT', 'CANC', 'PART']);
