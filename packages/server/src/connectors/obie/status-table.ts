/**
 * The one table from UK Open Banking payment statuses to Powens states: v3.1 words (Pending,
 * AcceptedSettlementCompleted, InitiationCompleted…) and v4.0 ISO 20022 codes (RCVD, ACSC, INCO…),
 * for domestic payments, scheduled payments and standing orders (spec/obie/, the `Status` enums of
 * the 201/200 answers). The raw status is kept beside our state as `bank_status`; a status outside
 * the table changes nothing (status sync keeps asking).
 */

export type ObieState = 'pending' | 'accepted' | 'done' | 'rejected';

export interface StatusRow {
  status: string;
  /** `3.1` (a word) or `4.0` (an ISO code). */
  version: '3.1' | '4.0';
  /** Which resources answer it: `payment` (domestic), `scheduled`, `standing order`. */
  resources: string;
  meaning: string;
  state: ObieState;
}

export const STATUS_TABLE: readonly StatusRow[] = [
  { status: 'Pending', version: '3.1', resources: 'payment', meaning: 'Received, checks under way', state: 'pending' },
  { status: 'AcceptedSettlementInProcess', version: '3.1', resources: 'payment', meaning: 'Accepted, settlement in process', state: 'pending' },
  { status: 'AcceptedSettlementCompleted', version: '3.1', resources: 'payment', meaning: "Settled on the debtor's account", state: 'done' },
  { status: 'AcceptedCreditSettlementCompleted', version: '3.1', resources: 'payment', meaning: "Settled on the creditor's account", state: 'done' },
  { status: 'AcceptedWithoutPosting', version: '3.1', resources: 'payment', meaning: 'Accepted, not posted yet', state: 'accepted' },
  { status: 'Rejected', version: '3.1', resources: 'payment', meaning: 'Rejected', state: 'rejected' },
  { status: 'InitiationPending', version: '3.1', resources: 'scheduled, standing order', meaning: 'Received, not set up yet', state: 'pending' },
  {
    status: 'InitiationCompleted',
    version: '3.1',
    resources: 'scheduled, standing order',
    meaning: 'Set up at the bank: executed on its date(s)',
    state: 'accepted',
  },
  { status: 'InitiationFailed', version: '3.1', resources: 'scheduled, standing order', meaning: 'Could not be set up', state: 'rejected' },
  { status: 'Cancelled', version: '3.1', resources: 'scheduled, standing order', meaning: 'Cancelled', state: 'rejected' },
  { status: 'RCVD', version: '4.0', resources: 'payment, scheduled, standing order', meaning: 'Received (the first status)', state: 'pending' },
  { status: 'PDNG', version: '4.0', resources: 'payment, scheduled, standing order', meaning: 'Pending further checks', state: 'pending' },
  { status: 'ACTC', version: '4.0', resources: 'payment, scheduled, standing order', meaning: 'Technical validation passed', state: 'pending' },
  { status: 'PATC', version: '4.0', resources: 'payment, scheduled, standing order', meaning: 'More authorisations due', state: 'pending' },
  { status: 'ACCP', version: '4.0', resources: 'payment, scheduled', meaning: 'Customer profile checked', state: 'pending' },
  { status: 'ACFC', version: '4.0', resources: 'payment, scheduled', meaning: 'Funds checked', state: 'pending' },
  { status: 'ACWC', version: '4.0', resources: 'payment, scheduled', meaning: 'Accepted with change', state: 'pending' },
  { status: 'ACSP', version: '4.0', resources: 'payment, scheduled', meaning: 'Settlement in process', state: 'pending' },
  { status: 'ACWP', version: '4.0', resources: 'payment, scheduled', meaning: 'Accepted without posting', state: 'accepted' },
  { status: 'ACSC', version: '4.0', resources: 'payment, scheduled', meaning: "Settled on the debtor's account", state: 'done' },
  { status: 'ACCC', version: '4.0', resources: 'payment', meaning: "Settled on the creditor's account", state: 'done' },
  { status: 'INCO', version: '4.0', resources: 'standing order', meaning: 'Set up at the bank: executed on its dates', state: 'accepted' },
  { status: 'INFA', version: '4.0', resources: 'standing order', meaning: 'Could not be set up', state: 'rejected' },
  { status: 'BLCK', version: '4.0', resources: 'payment, scheduled', meaning: 'Blocked by the bank', state: 'rejected' },
  { status: 'RJCT', version: '4.0', resources: 'payment, scheduled, standing order', meaning: 'Rejected', state: 'rejected' },
  { status: 'CANC', version: '4.0', resources: 'scheduled, standing order', meaning: 'Cancelled', state: 'rejected' },
];

const BY_STATUS = new Map(STATUS_TABLE.map((row) => [row.status, row]));

/** Our state for a bank status, or null for one outside the table (keep the state, keep asking). */
export function mapPaymentStatus(status: string): ObieState | null {
  return BY_STATUS.get(status)?.state ?? null;
}

export function statusRow(status: string): StatusRow | undefined {
  return BY_STATUS.get(status);
}
