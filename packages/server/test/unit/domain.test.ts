import { describe, expect, it } from 'vitest';
import { parseAccount } from '../../src/domain/accounts.ts';
import { formatDateTime, parseDate, parseDateOrDateTime } from '../../src/domain/dates.ts';
import { ApiError } from '../../src/domain/errors.ts';
import { isValidSiren, parseIdentity } from '../../src/domain/identity.ts';
import { CURRENCY_CODES, currencyJson, currencyObject, formatMinorUnits, parseAmount } from '../../src/domain/money.ts';
import { parseScopeParam } from '../../src/domain/scopes.ts';

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('money', () => {
  it.each([
    ['50.90', 'EUR', 5090],
    ['50.9', 'EUR', 5090],
    ['1', 'EUR', 100],
    ['0.01', 'EUR', 1],
    ['5e1', 'EUR', 5000],
    ['1.5E+2', 'EUR', 15000],
    ['12.300', 'EUR', 1230],
    ['1500', 'JPY', 1500],
    ['1.234', 'KWD', 1234],
    ['0.1', 'EUR', 10],
    ['999999999999.99', 'EUR', 99999999999999],
  ])('parses %s %s exactly into %i minor units', (text, currency, minor) => {
    expect(parseAmount(text, currency, 'amount')).toBe(minor);
  });

  it.each([
    ['50.901', 'EUR', 'at most 2 decimals'],
    ['1.5', 'JPY', 'at most 0 decimals'],
    ['0', 'EUR', 'greater than 0'],
    ['0.00', 'EUR', 'greater than 0'],
    ['-1', 'EUR', 'greater than 0'],
    ['1e-3', 'EUR', 'at most 2 decimals'],
    ['abc', 'EUR', 'not a decimal number'],
    ['1,5', 'EUR', 'not a decimal number'],
    ['Infinity', 'EUR', 'not a decimal number'],
    ['1e30', 'EUR', 'too large'],
    ['10000000000000', 'EUR', 'too large'],
  ])('refuses %s %s (%s)', (text, currency, reason) => {
    const error = errorOf(() => parseAmount(text, currency, 'instructions[0].amount'));
    expect(error.code).toBe('invalidValue');
    expect(error.field).toBe('instructions[0].amount');
    expect(error.message).toContain(reason);
  });

  it('prints amounts from minor units without floating point', () => {
    expect(formatMinorUnits(5090, 'EUR', 10)).toBe('50.9000000000');
    expect(formatMinorUnits(1, 'EUR')).toBe('0.01');
    expect(formatMinorUnits(1500, 'JPY', 10)).toBe('1500.0000000000');
    expect(formatMinorUnits(1234, 'KWD')).toBe('1.234');
    expect(formatMinorUnits(999_999_999_999_999, 'EUR')).toBe('9999999999999.99');
  });

  it('describes currencies like Powens', () => {
    expect(currencyObject('EUR')).toEqual({
      id: 'EUR',
      symbol: '€',
      prefix: false,
      crypto: false,
      precision: 2,
      marketcap: null,
      datetime: null,
      name: 'Euro',
    });
    expect(currencyObject('GBP')).toMatchObject({ symbol: '£', prefix: true, precision: 2 });
    expect(currencyObject('JPY').precision).toBe(0);
  });

  it('writes the currency object of answers in ASCII JSON that parses to the same object', () => {
    for (const code of CURRENCY_CODES) {
      const text = JSON.stringify(currencyJson(code));
      expect(text).not.toMatch(/[\u0080-\uffff]/);
      expect(JSON.parse(text)).toEqual(currencyObject(code));
    }
    expect(JSON.stringify(currencyJson('PLN'))).toContain('"symbol":"z\\u0142"');
  });
});

describe('dates', () => {
  it('formats UTC date-times as Powens does', () => {
    expect(formatDateTime(Date.UTC(2022, 8, 29, 8, 5, 30))).toBe('2022-09-29 08:05:30');
  });
  it('accepts only real calendar dates', () => {
    expect(parseDate('2024-02-29')).toBe('2024-02-29');
    expect(parseDate('2023-02-29')).toBeNull();
    expect(parseDate('2024-13-01')).toBeNull();
    expect(parseDate('2024-1-01')).toBeNull();
  });
  it('parses list bounds as UTC', () => {
    expect(parseDateOrDateTime('2026-01-15')).toBe(Date.UTC(2026, 0, 15));
    expect(parseDateOrDateTime('2026-01-15 10:30:00')).toBe(Date.UTC(2026, 0, 15, 10, 30));
    expect(parseDateOrDateTime('2026-01-15 25:00:00')).toBeNull();
  });
});

describe('accounts', () => {
  it('normalises a valid IBAN and refuses a bad checksum', () => {
    expect(
      parseAccount({ scheme_name: 'iban', identification: 'fr76 3000 6000 0112 3456 7890 189', label: 'A' }, 'b', { labelRequired: true }).identification,
    ).toBe('FR7630006000011234567890189');
    expect(
      errorOf(() => parseAccount({ scheme_name: 'iban', identification: 'FR7630006000011234567890188', label: 'A' }, 'b', { labelRequired: true })).field,
    ).toBe('b.identification');
    expect(errorOf(() => parseAccount({ scheme_name: 'iban', identification: 'FR76XXXXXXXXXXXXXXX', label: 'A' }, 'b', { labelRequired: true })).code).toBe(
      'invalidValue',
    );
  });
  it('accepts a UK sort code and account number, in GBP only', () => {
    expect(
      parseAccount({ scheme_name: 'sort_code_account_number', identification: '40-05-15 12345678', label: 'A' }, 'b', { labelRequired: true }).identification,
    ).toBe('40051512345678');
    expect(
      errorOf(() => parseAccount({ scheme_name: 'sort_code_account_number', identification: '4005151234567', label: 'A' }, 'b', { labelRequired: true })).field,
    ).toBe('b.identification');
  });
  it('checks the BIC and requires a beneficiary label', () => {
    expect(
      parseAccount({ scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'A', issuer: 'SOGEFRPP' }, 'b', { labelRequired: true }).issuer,
    ).toBe('SOGEFRPPXXX');
    expect(
      errorOf(() =>
        parseAccount({ scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'A', issuer: 'NOPE' }, 'b', { labelRequired: true }),
      ).field,
    ).toBe('b.issuer');
    expect(errorOf(() => parseAccount({ scheme_name: 'iban', identification: 'FR7630006000011234567890189' }, 'b', { labelRequired: true })).code).toBe(
      'missingParameter',
    );
  });
});

describe('identities', () => {
  const now = Date.UTC(2026, 0, 15);
  it('verifies the SIREN check digit', () => {
    expect(isValidSiren('732829320')).toBe(true);
    expect(isValidSiren('012345678')).toBe(false);
    expect(isValidSiren('73282932')).toBe(false);
  });
  it('requires names for individuals and a scheme for organisations', () => {
    expect(errorOf(() => parseIdentity({ kind: 'individual', last_name: 'Michu' }, 'payer_identity', now)).field).toBe('payer_identity.first_name');
    expect(errorOf(() => parseIdentity({ kind: 'corporate', org_name: 'ACME' }, 'x', now)).field).toBe('x.scheme_name');
    expect(errorOf(() => parseIdentity({ kind: 'corporate', scheme_name: 'siren' }, 'x', now)).field).toBe('x.identification');
  });
  it('matches identification schemes to kinds', () => {
    expect(
      errorOf(() => parseIdentity({ kind: 'individual', first_name: 'a', last_name: 'b', scheme_name: 'siren', identification: '732829320' }, 'x', now))
        .message,
    ).toContain('does not apply');
    expect(parseIdentity({ kind: 'non_profit', scheme_name: 'rna', identification: 'W123456789' }, 'x', now).identification).toBe('W123456789');
    expect(errorOf(() => parseIdentity({ kind: 'non_profit', scheme_name: 'rna', identification: '123' }, 'x', now)).field).toBe('x.identification');
  });
  it('checks lengths, countries and dates', () => {
    expect(errorOf(() => parseIdentity({ first_name: 'a'.repeat(256), last_name: 'b' }, 'x', now)).field).toBe('x.first_name');
    expect(errorOf(() => parseIdentity({ first_name: 'a', last_name: 'b', birth_country: 'XX' }, 'x', now)).field).toBe('x.birth_country');
    expect(errorOf(() => parseIdentity({ first_name: 'a', last_name: 'b', birth_date: '2030-01-01' }, 'x', now)).field).toBe('x.birth_date');
    expect(errorOf(() => parseIdentity({ first_name: 'a', last_name: 'b', email: 'nope' }, 'x', now)).field).toBe('x.email');
    expect(errorOf(() => parseIdentity({ first_name: 'a', last_name: 'b', id_user: 3 }, 'x', now)).field).toBe('x.id_user');
  });
});

describe('scopes', () => {
  it('reads strings, arrays and separators', () => {
    expect(parseScopeParam('payments:admin')).toEqual(['payments:admin']);
    expect(parseScopeParam('payments:read-only payments:allow-sensitive')).toEqual(['payments:read-only', 'payments:allow-sensitive']);
    expect(parseScopeParam(['payments:validate'])).toEqual(['payments:validate']);
    expect(errorOf(() => parseScopeParam('payments:everything')).field).toBe('scope');
    expect(errorOf(() => parseScopeParam('')).code).toBe('missingParameter');
  });
});
