/**
 * Verification of Payee in the simulated bank (`--vop`): the bank checks the creditor's name when a
 * transfer is initiated and answers with a VoP status and the payee-name result; the payer then
 * decides at the bank (Approve: continue, Refuse: cancel). The vendored 1.3.12 file predates VoP:
 * the statuses are those of the later NextGenPSD2 versions (`RCVC` match, `RVCM` close match,
 * `RVNC` no match or not checked), the result object uses the EPC VoP scheme's names
 * (`partyNameMatch`: MTCH, CMTC, NMTC, NOAP; `matchedName`, the account holder's name, for a close
 * match only).
 */
export const VOP_MODES = ['match', 'close-match', 'no-match', 'not-possible'] as const;
export type VopMode = (typeof VOP_MODES)[number];

export const VOP_STATUSES = ['RCVC', 'RVCM', 'RVNC'] as const;

export interface VopCheck {
  transactionStatus: (typeof VOP_STATUSES)[number];
  partyNameMatch: 'MTCH' | 'CMTC' | 'NMTC' | 'NOAP';
  /** The name the bank holds for the account (close match only). */
  matchedName: string | null;
}

/** The name the simulated bank holds for a close match: the creditor's, in capitals, its punctuation dropped and a legal form added. */
export function holderName(creditorName: string): string {
  const plain = creditorName
    .toUpperCase()
    .replace(/[^\p{L}\p{N} ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return `${plain || 'ACCOUNT HOLDER'} GMBH`.slice(0, 70);
}

/** The check of one initiation: every creditor of the body (bulk: the first that is not a match decides). */
export function checkPayee(mode: VopMode, body: Record<string, unknown>): VopCheck {
  const first = Array.isArray(body.payments) ? (body.payments[0] as Record<string, unknown>) : body;
  const name = typeof first?.creditorName === 'string' ? first.creditorName : '';
  switch (mode) {
    case 'match':
      return { transactionStatus: 'RCVC', partyNameMatch: 'MTCH', matchedName: null };
    case 'close-match':
      return { transactionStatus: 'RVCM', partyNameMatch: 'CMTC', matchedName: holderName(name) };
    case 'no-match':
      return { transactionStatus: 'RVNC', partyNameMatch: 'NMTC', matchedName: null };
    case 'not-possible':
      return { transactionStatus: 'RVNC', partyNameMatch: 'NOAP', matchedName: null };
  }
}

/** The answer's VoP members: the status replaces RCVD while the payer has not decided. */
export function vopMembers(check: VopCheck): Record<string, unknown> {
  return {
    transactionStatus: check.transactionStatus,
    vopResult: { partyNameMatch: check.partyNameMatch, ...(check.matchedName ? { matchedName: check.matchedName } : {}) },
  };
}

/** What the payer reads on the bank's page before deciding. */
export function vopNotice(check: VopCheck, creditorName: string): { title: string; text: string } {
  switch (check.partyNameMatch) {
    case 'MTCH':
      return { title: 'Payee verified', text: `The name ${creditorName} matches the account holder.` };
    case 'CMTC':
      return {
        title: 'Close match',
        text: `The name you were given, ${creditorName}, is close to the account holder's name: ${check.matchedName}. Approve to pay anyway, or Refuse to cancel.`,
      };
    case 'NMTC':
      return {
        title: 'No match',
        text: `The name ${creditorName} does not match the account holder's name. The money may go to someone else: Approve to pay anyway, or Refuse to cancel.`,
      };
    case 'NOAP':
      return { title: 'Not checked', text: "The payee's name could not be checked. Approve to pay anyway, or Refuse to cancel." };
  }
}
