/**
 * Verification of Payee (VoP, SEPA Regulation as amended by the Instant Payments Regulation, euro
 * area since October 2025): the payer's bank checks the payee's name against the account before a
 * credit transfer. A connector that learns the result keeps it in its data under
 * `payee_verification`, so the core can show it (exchange log's attempts, dashboard) whatever the
 * standard. The result codes are the EPC VoP scheme's (`MTCH`, `CMTC`, `NMTC`, `NOAP`).
 */

export const PAYEE_MATCHES = ['match', 'close_match', 'no_match', 'not_possible'] as const;
export type PayeeMatch = (typeof PAYEE_MATCHES)[number];

/** What the connector keeps (`data.payee_verification`). The name the bank holds is never kept: it is a person's name. */
export interface PayeeVerification {
  /** The outcome of the name check; null when the bank gave its status only and the status does not say. */
  result: PayeeMatch | null;
  /** The bank's own code that carried it (e.g. Berlin Group `RVCM`). */
  bank_code: string;
}

/** EPC VoP scheme `partyNameMatch` codes. */
export const EPC_NAME_MATCH: Readonly<Record<string, PayeeMatch>> = { MTCH: 'match', CMTC: 'close_match', NMTC: 'no_match', NOAP: 'not_possible' };

/** The payee check kept in a connector's data (the attempt's `connector_data`, JSON or parsed), or null. */
export function payeeVerificationOf(data: unknown): PayeeVerification | null {
  let value = data;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const found = value && typeof value === 'object' ? (value as Record<string, unknown>).payee_verification : null;
  if (!found || typeof found !== 'object') return null;
  const { result, bank_code } = found as Record<string, unknown>;
  if (typeof bank_code !== 'string') return null;
  return { result: PAYEE_MATCHES.includes(result as PayeeMatch) ? (result as PayeeMatch) : null, bank_code };
}
