/**
 * The one table from NextGenPSD2 1.3.12 `transactionStatus` (ISO 20022 group status codes) to Powens
 * states (docs/reference/berlin-group.md §7). The raw code is always kept beside our state as `bank_status`; a code
 * that is not in the table (PRES, … are not in 1.3.12's enum) changes nothing: the payment keeps its
 * state and status sync keeps asking. The Verification of Payee codes (RCVC, RVCM, RVNC: later
 * NextGenPSD2 versions, euro-area banks since October 2025) are known: the payee's name was checked
 * and the payment waits for the payer's SCA (after a close or no match, the payer's decision at the
 * bank), so they read as "received". German banks' pain.002 VoP codes (RVMC, RVNM, RVNA, from the
 * German banking industry's VoP rules) are read the same way. The vendored 1.3.12 file has none of
 * these codes.
 */
import { EPC_NAME_MATCH, type PayeeMatch, type PayeeVerification } from '../kit/payee-verification.ts';
import { object, str, transactionStatus, type Json } from './responses.ts';

/** What a status means for the payment: a Powens state, or "the payer's SCA is not done yet". */
export type MappedState = 'validating' | 'pending' | 'accepted' | 'done' | 'rejected' | 'partial';

export interface TransactionStatusRow {
  code: string;
  meaning: string;
  /** Our state while the payer's SCA is not known to be done. */
  beforeSca: MappedState;
  /** Our state once the payer's SCA is done (scaStatus finalised/exempted, or a later status seen). */
  afterSca: MappedState;
  /** Our state instead when the bank reports no further status for this execution type (`partial_status_tracking`). */
  untracked?: MappedState;
  /** True when the code itself proves the payer's SCA is done. */
  provesSca: boolean;
  /** A Verification of Payee status: what it says of the payee's name (null: the answer's name result says). */
  vop?: PayeeMatch | null;
}

export const TRANSACTION_STATUS_TABLE: readonly TransactionStatusRow[] = [
  { code: 'RCVD', meaning: 'Received, SCA not done', beforeSca: 'validating', afterSca: 'pending', provesSca: false },
  { code: 'PATC', meaning: 'Partially accepted technical: more authorisations due', beforeSca: 'validating', afterSca: 'pending', provesSca: false },
  { code: 'PDNG', meaning: 'Pending further checks', beforeSca: 'validating', afterSca: 'pending', provesSca: false },
  {
    code: 'RCVC',
    meaning: "Received, payee's name verified (Verification of Payee match)",
    beforeSca: 'validating',
    afterSca: 'pending',
    provesSca: false,
    vop: 'match',
  },
  {
    code: 'RVCM',
    meaning: "Received, payee's name a close match: the payer decides at the bank",
    beforeSca: 'validating',
    afterSca: 'pending',
    provesSca: false,
    vop: 'close_match',
  },
  {
    code: 'RVNC',
    meaning: "Received, payee's name no match or not checked: the payer decides at the bank",
    beforeSca: 'validating',
    afterSca: 'pending',
    provesSca: false,
    vop: null,
  },
  {
    code: 'RVMC',
    meaning: 'Received, close match (German pain.002 VoP code)',
    beforeSca: 'validating',
    afterSca: 'pending',
    provesSca: false,
    vop: 'close_match',
  },
  { code: 'RVNM', meaning: 'Received, no match (German pain.002 VoP code)', beforeSca: 'validating', afterSca: 'pending', provesSca: false, vop: 'no_match' },
  {
    code: 'RVNA',
    meaning: 'Received, check not possible (German pain.002 VoP code)',
    beforeSca: 'validating',
    afterSca: 'pending',
    provesSca: false,
    vop: 'not_possible',
  },
  { code: 'ACTC', meaning: 'Authentication and technical validation OK', beforeSca: 'pending', afterSca: 'pending', provesSca: true },
  { code: 'ACCP', meaning: 'Customer profile checked', beforeSca: 'pending', afterSca: 'pending', provesSca: true },
  { code: 'ACFC', meaning: 'Funds checked', beforeSca: 'pending', afterSca: 'pending', provesSca: true },
  { code: 'ACWC', meaning: 'Accepted with change (e.g. the date)', beforeSca: 'pending', afterSca: 'pending', provesSca: true },
  { code: 'ACSP', meaning: 'Settlement in process', beforeSca: 'pending', afterSca: 'pending', untracked: 'accepted', provesSca: true },
  { code: 'ACWP', meaning: 'Accepted without posting', beforeSca: 'accepted', afterSca: 'accepted', provesSca: true },
  { code: 'ACSC', meaning: "Settled on the debtor's account", beforeSca: 'done', afterSca: 'done', provesSca: true },
  { code: 'ACCC', meaning: "Settled on the creditor's account", beforeSca: 'done', afterSca: 'done', provesSca: true },
  { code: 'RJCT', meaning: 'Rejected', beforeSca: 'rejected', afterSca: 'rejected', provesSca: false },
  { code: 'CANC', meaning: 'Cancelled', beforeSca: 'rejected', afterSca: 'rejected', provesSca: false },
  { code: 'PART', meaning: 'Bulk: some instructions rejected', beforeSca: 'partial', afterSca: 'partial', provesSca: true },
];

const BY_CODE = new Map(TRANSACTION_STATUS_TABLE.map((row) => [row.code, row]));

export function transactionStatusRow(code: string): TransactionStatusRow | undefined {
  return BY_CODE.get(code);
}

export interface StatusFacts {
  /** The payer's SCA is known to be done (an earlier status proved it, or scaStatus finalised/exempted). */
  scaDone: boolean;
  /** The execution type is one where the bank never reports more than ACSP. */
  untracked: boolean;
}

/** Our state for a bank status, or null for a code outside the table (keep the state, keep polling). */
export function mapTransactionStatus(code: string, facts: StatusFacts): MappedState | null {
  const row = BY_CODE.get(code);
  if (!row) return null;
  if (facts.untracked && row.untracked) return row.untracked;
  return facts.scaDone || row.provesSca ? row.afterSca : row.beforeSca;
}

/** `scaStatus` values (enum of 1.3.12) that mean the payer's SCA is over, one way or the other. */
export const SCA_DONE = new Set(['finalised', 'exempted']);
export const SCA_FAILED = new Set(['failed']);

/**
 * The Verification of Payee result of an answer: its `transactionStatus` is a VoP code, and the
 * payee-name result (`vopResult.partyNameMatch`, EPC VoP codes) says more where the bank gives it.
 */
export function payeeVerification(body: Json): PayeeVerification | null {
  const code = transactionStatus(body)?.toUpperCase();
  const row = code ? BY_CODE.get(code) : undefined;
  if (!code || !row || row.vop === undefined) return null;
  const named = EPC_NAME_MATCH[str(object(body.vopResult).partyNameMatch, 4)?.toUpperCase() ?? ''];
  return { result: named ?? row.vop, bank_code: code };
}
