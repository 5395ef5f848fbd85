/** Berlin Group status and error tables, checked against the enums of the official 1.3.12 file. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLE, errorCodeFor, mapBankError, readTppMessages } from '../../src/connectors/berlin-group/error-table.ts';
import { mapTransactionStatus, payeeVerification, TRANSACTION_STATUS_TABLE } from '../../src/connectors/berlin-group/status-table.ts';
import { POWENS_ERROR_CODES } from '../support/berlin-group-powens-codes.ts';

/** The Verification of Payee codes of later NextGenPSD2 versions, and German banks' pain.002 ones. */
const VOP_CODES = ['RCVC', 'RVCM', 'RVNC', 'RVMC', 'RVNM', 'RVNA'];
const SPEC = JSON.parse(readFileSync(new URL('../../spec/berlin-group/psd2-api-1.3.12.json', import.meta.url), 'utf8'));
const schemas = SPEC.components.schemas as Record<string, { enum?: string[] }>;

describe('transactionStatus table', () => {
  it("has exactly one row per code of the file's enum", () => {
    const codes = TRANSACTION_STATUS_TABLE.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    // Beside the file's enum: the Verification of Payee codes of later versions.
    expect([...codes].sort()).toEqual([...schemas.transactionStatus!.enum!, ...VOP_CODES].sort());
  });

  it.each([
    ['RCVD', false, 'validating'],
    ['RCVD', true, 'pending'],
    ['PATC', false, 'validating'],
    ['PATC', true, 'pending'],
    ['PDNG', false, 'validating'],
    ['PDNG', true, 'pending'],
    ['ACTC', false, 'pending'],
    ['ACCP', false, 'pending'],
    ['ACFC', false, 'pending'],
    ['ACWC', false, 'pending'],
    ['ACSP', false, 'pending'],
    ['ACWP', false, 'accepted'],
    ['ACSC', false, 'done'],
    ['ACCC', true, 'done'],
    ['RJCT', false, 'rejected'],
    ['CANC', true, 'rejected'],
    ['PART', true, 'partial'],
  ] as const)('%s (SCA done: %s) → %s', (code, scaDone, state) => {
    expect(mapTransactionStatus(code, { scaDone, untracked: false })).toBe(state);
  });

  it('ACSP is final (accepted) only where the bank never reports more', () => {
    expect(mapTransactionStatus('ACSP', { scaDone: true, untracked: true })).toBe('accepted');
    expect(mapTransactionStatus('ACSC', { scaDone: true, untracked: true })).toBe('done');
  });

  it('Verification of Payee (RCVC match, RVCM close match, RVNC no match): received, waiting for the payer at the bank, never an unknown code', () => {
    for (const code of VOP_CODES) {
      expect(mapTransactionStatus(code, { scaDone: false, untracked: false })).toBe('validating');
      expect(mapTransactionStatus(code, { scaDone: true, untracked: false })).toBe('pending');
    }
  });

  it('the payee-name result: from vopResult.partyNameMatch where the answer has one, else from the status', () => {
    expect(payeeVerification({ transactionStatus: 'RVCM' })).toEqual({ result: 'close_match', bank_code: 'RVCM' });
    expect(payeeVerification({ transactionStatus: 'RVNC' })).toEqual({ result: null, bank_code: 'RVNC' });
    expect(payeeVerification({ transactionStatus: 'RVNC', vopResult: { partyNameMatch: 'NOAP' } })).toEqual({ result: 'not_possible', bank_code: 'RVNC' });
    expect(payeeVerification({ transactionStatus: 'RVNA' })).toEqual({ result: 'not_possible', bank_code: 'RVNA' });
    expect(payeeVerification({ transactionStatus: 'RCVD', vopResult: { partyNameMatch: 'MTCH' } })).toBeNull();
  });

  it('a code outside 1.3.12 and Verification of Payee (PRES, lower case) changes nothing', () => {
    for (const code of ['PRES', 'rcvc', 'acsc', '']) expect(mapTransactionStatus(code, { scaDone: true, untracked: false })).toBeNull();
  });
});

describe('error table', () => {
  const pisEnums = Object.entries(schemas).filter(([name]) => /^MessageCode(4\d\d_PIS(_CANC)?|200InitiationStatus)$/.test(name));

  it('FORMAT_ERROR naming a header Payrail builds (Date, PSU-IP-Address, X-Request-ID…) is bug: the set-up, not the payment; PSU-ID and body fields keep their code', () => {
    for (const path of ['Date', 'PSU-IP-Address', 'X-Request-ID', 'TPP-Redirect-URI', 'Signature'])
      expect(errorCodeFor({ category: 'ERROR', code: 'FORMAT_ERROR', path, text: null }), path).toBe('bug');
    expect(errorCodeFor({ category: 'ERROR', code: 'FORMAT_ERROR', path: 'PSU-ID', text: null })).toBe('invalidValue');
    expect(errorCodeFor({ category: 'ERROR', code: 'FORMAT_ERROR', path: 'requestedExecutionDate', text: null })).toBe('invalidDate');
  });

  it('covers every 4xx PIS code of the file, and only codes of the file', () => {
    const fileCodes = new Set(pisEnums.flatMap(([, s]) => s.enum ?? []));
    expect(fileCodes.size).toBeGreaterThan(30);
    const tableCodes = ERROR_TABLE.flatMap((r) => r.codes);
    expect(new Set(tableCodes).size).toBe(tableCodes.length);
    expect([...fileCodes].filter((c) => !tableCodes.includes(c))).toEqual([]);
    expect(tableCodes.filter((c) => !fileCodes.has(c))).toEqual([]);
  });

  it('maps only to Powens error codes', () => {
    for (const row of ERROR_TABLE) {
      for (const code of row.codes) {
        const mapped = errorCodeFor({ category: 'ERROR', code, path: null, text: 'x' });
        expect(POWENS_ERROR_CODES, `${code} → ${mapped}`).toContain(mapped);
      }
    }
  });

  it.each([
    ['creditorAccount.iban', 'invalidBeneficiary'],
    ['/payments/0/creditorName', 'invalidBeneficiary'],
    ['instructedAmount.amount', 'invalidAmount'],
    ['instructedAmount.currency', 'invalidCurrency'],
    ['debtorAccount.currency', 'invalidEmitter'],
    ['remittanceInformationUnstructured', 'invalidLabel'],
    ['debtorAccount', 'invalidEmitter'],
    ['endToEndIdentification', 'invalidReferenceId'],
    ['requestedExecutionDate', 'invalidDate'],
    ['somethingElse', 'invalidValue'],
  ])('FORMAT_ERROR at %s → %s', (path, code) => {
    expect(mapBankError(400, { tppMessages: [{ category: 'ERROR', code: 'FORMAT_ERROR', path }] }).error_code).toBe(code);
  });

  it('reads all three shapes: tppMessages, RFC 7807 problem with additionalErrors, singular tppMessage of status answers', () => {
    expect(
      mapBankError(400, {
        tppMessages: [
          { category: 'WARNING', code: 'WARNING' },
          { category: 'ERROR', code: 'PAYMENT_FAILED', text: 'Limit exceeded' },
        ],
      }),
    ).toEqual({ error_code: 'bankMessage', description: 'PAYMENT_FAILED: Limit exceeded', bank_code: 'PAYMENT_FAILED' });
    expect(mapBankError(400, { tppMessages: [{ category: 'ERROR', code: 'PAYMENT_FAILED' }] }).error_code).toBe('noSpecifiedReason');
    expect(mapBankError(401, { type: 'https://berlin-group.org/problems/x', code: 'CERTIFICATE_EXPIRED', detail: 'QWAC expired' })).toMatchObject({
      error_code: 'bug',
      bank_code: 'CERTIFICATE_EXPIRED',
    });
    expect(mapBankError(400, { type: 'x', code: 'SOMETHING_NEW', additionalErrors: [{ code: 'EXECUTION_DATE_INVALID' }] }).error_code).toBe('invalidDate');
    expect(readTppMessages({ transactionStatus: 'RJCT', tppMessage: [{ category: 'ERROR', code: 'FUNDS_NOT_AVAILABLE' }] })).toEqual([
      { category: 'ERROR', code: 'FUNDS_NOT_AVAILABLE', path: null, text: null },
    ]);
    expect(mapBankError(200, { transactionStatus: 'RJCT', tppMessage: [{ category: 'ERROR', code: 'FUNDS_NOT_AVAILABLE' }] }).error_code).toBe(
      'insufficientFunds',
    );
  });

  it('falls back by HTTP status on codes it does not know, bodies that are not JSON objects, and nothing at all', () => {
    expect(mapBankError(400, { tppMessages: [{ category: 'ERROR', code: 'NEW_CODE' }] })).toMatchObject({ error_code: 'invalidValue', bank_code: 'NEW_CODE' });
    expect(mapBankError(403, '<html>nope</html>').error_code).toBe('noSpecifiedReason');
    expect(mapBankError(404, null).error_code).toBe('bug');
    expect(mapBankError(418, { tppMessages: 'x' }).error_code).toBe('noSpecifiedReason');
  });
});
