/**
 * The generated CLDR tables (src/domain/cldr-tables.ts) hold exactly what Node.js's ICU gives through
 * Intl, so reading them instead of Intl (to keep ICU's data out of the server's memory) changes no
 * answer. When Node.js's ICU changes, this fails until `node scripts/cldr-tables.ts` is run again.
 */
import { describe, expect, it } from 'vitest';
import { cldrCurrency, cldrRegionCodes } from '../../src/domain/cldr-source.ts';
import { CURRENCY_DISPLAY, REGION_CODES } from '../../src/domain/cldr-tables.ts';
import { CURRENCY_CODES, currencyObject } from '../../src/domain/money.ts';

describe('generated CLDR tables', () => {
  it('has each accepted currency with the symbol and name Intl gives', () => {
    expect(Object.keys(CURRENCY_DISPLAY).sort()).toEqual([...CURRENCY_CODES].sort());
    for (const code of CURRENCY_CODES) expect([code, ...CURRENCY_DISPLAY[code]!]).toEqual([code, ...cldrCurrency(code)]);
  });

  it('has every region code Intl names, and no other', () => {
    expect([...REGION_CODES].sort()).toEqual(cldrRegionCodes());
    expect(REGION_CODES.has('FR')).toBe(true);
    expect(REGION_CODES.has('ZZ')).toBe(false);
  });

  it('gives the currency objects of the API', () => {
    expect(currencyObject('EUR')).toMatchObject({ id: 'EUR', symbol: '€', name: 'Euro', precision: 2, prefix: false });
    expect(currencyObject('GBP')).toMatchObject({ id: 'GBP', symbol: '£', name: 'British Pound', prefix: true });
    expect(currencyObject('JPY')).toMatchObject({ symbol: '¥', precision: 0 });
  });
});
