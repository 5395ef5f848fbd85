/**
 * The codes the model bank answers with, per version: consent and payment statuses of the
 * official files' enums, and error codes (`UK.OBIE.*` names on 3.1.11, U0xx codes on 4.0). Only
 * these leave the simulator, so an answer never breaks the file's enums.
 */
import { ERROR_TABLE } from '../error-table.ts';
import { CONSENT_STATUS, type ApiVersion, type ResourceKind } from '../versions.ts';

export { CONSENT_STATUS };

/** The status path of a payment resource: [initial, in process, final (when due)]. */
export const PAYMENT_PROGRESS: Record<ApiVersion, Record<ResourceKind, readonly [string, string, string]>> = {
  '4.0': { domestic: ['RCVD', 'ACSP', 'ACSC'], scheduled: ['RCVD', 'ACTC', 'ACSC'], 'standing-order': ['RCVD', 'ACTC', 'INCO'] },
  '3.1.11': {
    domestic: ['Pending', 'AcceptedSettlementInProcess', 'AcceptedSettlementCompleted'],
    scheduled: ['InitiationPending', 'InitiationPending', 'InitiationCompleted'],
    'standing-order': ['InitiationPending', 'InitiationPending', 'InitiationCompleted'],
  },
};

/** Every payment status the files allow a simulator to be forced into, per version and resource. */
export const PAYMENT_STATUSES: Record<ApiVersion, Record<ResourceKind, readonly string[]>> = {
  '4.0': {
    domestic: ['RCVD', 'PDNG', 'ACTC', 'PATC', 'ACCP', 'ACFC', 'ACSP', 'ACWC', 'ACSC', 'ACWP', 'ACCC', 'BLCK', 'RJCT'],
    scheduled: ['RCVD', 'CANC', 'PDNG', 'ACTC', 'PATC', 'ACCP', 'ACFC', 'ACSP', 'ACWC', 'ACSC', 'ACWP', 'BLCK', 'RJCT'],
    'standing-order': ['RCVD', 'CANC', 'ACTC', 'PATC', 'PDNG', 'INFA', 'INCO', 'RJCT'],
  },
  '3.1.11': {
    domestic: [
      'Pending',
      'Rejected',
      'AcceptedSettlementInProcess',
      'AcceptedSettlementCompleted',
      'AcceptedWithoutPosting',
      'AcceptedCreditSettlementCompleted',
    ],
    scheduled: ['Cancelled', 'InitiationCompleted', 'InitiationFailed', 'InitiationPending'],
    'standing-order': ['Cancelled', 'InitiationCompleted', 'InitiationFailed', 'InitiationPending'],
  },
};

/** The error code of the version for a 4.0 code (`U002` → `UK.OBIE.Field.Invalid` on 3.1.11). */
export function errorCode(version: ApiVersion, code: string): string {
  if (version === '4.0') return code;
  return ERROR_TABLE.find((row) => row.code === code)?.name ?? 'UK.OBIE.UnexpectedError';
}

/** HTTP status of a rejectable error code (either spelling), or undefined. */
export function statusForCode(code: string, wanted?: number): number | undefined {
  const row = ERROR_TABLE.find((r) => (r.code === code || r.name === code) && /^\d{3}$/.test(r.http));
  if (!row) return undefined;
  const status = Number(row.http);
  return wanted === undefined || wanted === status ? status : undefined;
}
