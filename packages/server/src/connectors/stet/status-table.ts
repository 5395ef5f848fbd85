/**
 * The one table from STET `paymentInformationStatus` (and per-instruction `transactionStatus`) to
 * Powens states, and the one table from `statusReasonInformation` to Powens error codes
 * (docs/reference/stet.md §2; docs/banks.md renders both). The raw code is always kept beside our
 * state as `bank_status`; a code outside the table changes nothing and status sync keeps asking.
 */
import { CANCELLED_BY_CLIENT } from '../kit/cancellation.ts';

export type MappedState = 'validating' | 'pending' | 'accepted' | 'done' | 'rejected' | 'partial';

export interface PaymentStatusRow {
  code: string;
  meaning: string;
  /** Our state while the payer's consent is not known to be given. */
  beforeConsent: MappedState;
  /** Our state once it is (the payer came back approving, the bank confirmed, or a later status proved it). */
  afterConsent: MappedState;
  /** True when the code itself proves the payer consented. */
  provesConsent: boolean;
  /** Listed in the 1.5.0.43 file's enum (PATC and ACCO are described or added later, not enumerated). */
  inFile: boolean;
}

export const PAYMENT_STATUS_TABLE: readonly PaymentStatusRow[] = [
  {
    code: 'RCVD',
    meaning: 'Received, the payer has not consented yet',
    beforeConsent: 'validating',
    afterConsent: 'pending',
    provesConsent: false,
    inFile: true,
  },
  {
    code: 'PATC',
    meaning: 'Partially accepted technical: more authentications due',
    beforeConsent: 'validating',
    afterConsent: 'pending',
    provesConsent: false,
    inFile: false,
  },
  { code: 'ACTC', meaning: 'Authenticated and technically valid', beforeConsent: 'validating', afterConsent: 'pending', provesConsent: false, inFile: true },
  { code: 'ACCO', meaning: 'Awaiting the PISP confirmation (1.6)', beforeConsent: 'validating', afterConsent: 'pending', provesConsent: true, inFile: false },
  { code: 'PDNG', meaning: 'Pending further checks', beforeConsent: 'pending', afterConsent: 'pending', provesConsent: true, inFile: true },
  { code: 'ACCP', meaning: 'Customer profile checked', beforeConsent: 'pending', afterConsent: 'pending', provesConsent: true, inFile: true },
  { code: 'ACWC', meaning: 'Accepted with change (e.g. the date)', beforeConsent: 'pending', afterConsent: 'pending', provesConsent: true, inFile: true },
  {
    code: 'ACSP',
    meaning: 'Accepted, settlement in process',
    beforeConsent: 'pending',
    afterConsent: 'pending',
    provesConsent: true,
    inFile: true,
  },
  { code: 'ACWP', meaning: 'Accepted without posting', beforeConsent: 'accepted', afterConsent: 'accepted', provesConsent: true, inFile: true },
  { code: 'ACSC', meaning: "Settled on the debtor's account", beforeConsent: 'done', afterConsent: 'done', provesConsent: true, inFile: true },
  { code: 'PART', meaning: 'Some instructions rejected', beforeConsent: 'partial', afterConsent: 'partial', provesConsent: true, inFile: true },
  { code: 'RJCT', meaning: 'Rejected', beforeConsent: 'rejected', afterConsent: 'rejected', provesConsent: false, inFile: true },
  { code: 'CANC', meaning: 'Cancelled', beforeConsent: 'rejected', afterConsent: 'rejected', provesConsent: false, inFile: true },
];

/** Per-instruction `transactionStatus` (bulk payments) → the instruction's state. */
export const TRANSACTION_STATUS_TABLE: Readonly<Record<string, 'pending' | 'accepted' | 'done' | 'rejected'>> = {
  PDNG: 'pending',
  ACTC: 'pending',
  ACSP: 'pending',
  ACSC: 'done',
  RJCT: 'rejected',
  CANC: 'rejected',
};

export interface ReasonRow {
  code: string;
  meaning: string;
  powens: string;
  inFile: boolean;
}

/**
 * `statusReasonInformation` → Powens `error_code`. DS02 is the reason Payrail's own cancellation
 * sends (and the bank reports back), so it is `CancelledByClient` whoever reads it first (status
 * sync may see CANC before the cancellation's answer is applied); the payer's refusal is CUST.
 */
export const REASON_TABLE: readonly ReasonRow[] = [
  { code: 'AC01', meaning: 'Incorrect account number', powens: 'invalidBeneficiary', inFile: true },
  { code: 'AC04', meaning: 'Closed account', powens: 'invalidEmitter', inFile: true },
  { code: 'AC06', meaning: 'Blocked account', powens: 'invalidEmitter', inFile: true },
  { code: 'AG01', meaning: 'Transaction forbidden on this account', powens: 'invalidEmitter', inFile: true },
  { code: 'AM18', meaning: 'Too many transactions', powens: 'invalidValue', inFile: true },
  { code: 'CH03', meaning: 'Execution date too far in the future', powens: 'invalidDate', inFile: true },
  { code: 'CUST', meaning: 'Refused by the payer', powens: 'CancelledByUser', inFile: true },
  { code: 'DS02', meaning: "Order cancelled (the reason a PISP's cancellation carries)", powens: 'CancelledByClient', inFile: true },
  { code: 'FF01', meaning: 'Invalid file format', powens: 'invalidValue', inFile: true },
  { code: 'FRAD', meaning: 'Fraudulent origin', powens: 'regulatoryReason', inFile: true },
  { code: 'MS03', meaning: 'Reason not specified', powens: 'noSpecifiedReason', inFile: true },
  { code: 'NOAS', meaning: 'No answer from the payer', powens: 'noAnswerFromCustomer', inFile: true },
  { code: 'RR01', meaning: "Missing debtor's account or identification", powens: 'regulatoryReason', inFile: true },
  { code: 'RR03', meaning: "Missing creditor's name or address", powens: 'regulatoryReason', inFile: true },
  { code: 'RR04', meaning: 'Regulatory reason', powens: 'regulatoryReason', inFile: true },
  { code: 'RR12', meaning: 'Invalid party identification', powens: 'regulatoryReason', inFile: true },
  { code: 'AM04', meaning: 'Insufficient funds (ISO 20022; not in the STET list, sent by some banks)', powens: 'insufficientFunds', inFile: false },
  { code: 'DUPL', meaning: 'Duplicate payment (cancellation reason; described, not enumerated)', powens: 'noSpecifiedReason', inFile: false },
  { code: 'TECH', meaning: 'Technical problem (cancellation reason; described, not enumerated)', powens: 'noSpecifiedReason', inFile: false },
];

const BY_CODE = new Map(PAYMENT_STATUS_TABLE.map((row) => [row.code, row]));
const REASON_BY_CODE = new Map(REASON_TABLE.map((row) => [row.code, row]));

export function mapPaymentStatus(code: string, facts: { consented: boolean }): MappedState | null {
  const row = BY_CODE.get(code);
  if (!row) return null;
  return facts.consented || row.provesConsent ? row.afterConsent : row.beforeConsent;
}

export function paymentStatusRow(code: string): PaymentStatusRow | undefined {
  return BY_CODE.get(code);
}

/** The Powens code of a rejection reason; `cancelledByUs`: DS02 after Payrail's own cancellation. */
export function mapReason(reason: string | null, cancelledByUs = false): { error_code: string; description: string } {
  const row = reason ? REASON_BY_CODE.get(reason) : undefined;
  if (reason === 'DS02' && cancelledByUs) return { error_code: CANCELLED_BY_CLIENT.error_code, description: CANCELLED_BY_CLIENT.error_description };
  if (!row) return { error_code: 'noSpecifiedReason', description: reason ? `The bank rejected the payment (${reason}).` : 'The bank rejected the payment.' };
  return { error_code: row.powens, description: `The bank rejected the payment: ${row.meaning} (${row.code}).` };
}
