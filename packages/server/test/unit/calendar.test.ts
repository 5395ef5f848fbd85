import { describe, expect, it } from 'vitest';
import { paymentStateOf, trackedOutcome } from '../../src/domain/state-machine.ts';
import { easterSunday, expectedExecutionDate, isBusinessDay, nextBusinessDay, ukHolidays } from '../../src/domain/calendar.ts';

describe('business days', () => {
  it('computes Easter', () => {
    expect(easterSunday(2024)).toBe('2024-03-31');
    expect(easterSunday(2025)).toBe('2025-04-20');
    expect(easterSunday(2026)).toBe('2026-04-05');
    expect(easterSunday(2027)).toBe('2027-03-28');
    expect(easterSunday(2038)).toBe('2038-04-25');
  });

  it('closes TARGET2 on Good Friday, Easter Monday, 1 May and weekends', () => {
    expect(isBusinessDay('2026-04-03', 'EUR')).toBe(false); // Good Friday
    expect(isBusinessDay('2026-04-06', 'EUR')).toBe(false); // Easter Monday
    expect(isBusinessDay('2026-05-01', 'EUR')).toBe(false);
    expect(isBusinessDay('2026-05-14', 'EUR')).toBe(true); // Ascension: not a TARGET2 holiday
    expect(isBusinessDay('2026-11-21', 'EUR')).toBe(false); // Saturday
    expect(nextBusinessDay('2026-04-02', 'EUR')).toBe('2026-04-07'); // Thursday before Easter → Tuesday after
  });

  it('rolls over the year end', () => {
    expect(nextBusinessDay('2026-12-24', 'EUR')).toBe('2026-12-28'); // 25, 26 closed, then Sunday
    expect(nextBusinessDay('2026-12-31', 'EUR')).toBe('2027-01-04'); // 1 January (Friday), weekend
    expect(nextBusinessDay('2027-12-24', 'EUR')).toBe('2027-12-27'); // Christmas on a Saturday: no substitute in TARGET2
  });

  it('follows the bank holidays of England and Wales, with substitute days', () => {
    expect([...ukHolidays(2026)].sort()).toEqual([
      '2026-01-01',
      '2026-04-03',
      '2026-04-06',
      '2026-05-04',
      '2026-05-25',
      '2026-08-31',
      '2026-12-25',
      '2026-12-28',
    ]);
    expect(ukHolidays(2027).has('2027-12-27')).toBe(true); // Christmas on Saturday → Monday
    expect(ukHolidays(2027).has('2027-12-28')).toBe(true); // Boxing Day on Sunday → Tuesday
    expect(ukHolidays(2022).has('2022-09-19')).toBe(true); // one-off
    expect(nextBusinessDay('2026-12-24', 'GBP')).toBe('2026-12-29');
    expect(isBusinessDay('2026-05-01', 'GBP')).toBe(true); // 1 May is a TARGET2 holiday, not a UK one
  });

  it('gives the expected execution date by payment type', () => {
    expect(expectedExecutionDate('first_open_day', '2026-11-20', 'EUR', null, null)).toBe('2026-11-23'); // Friday → Monday
    expect(expectedExecutionDate('instant', '2026-11-21', 'EUR', null, null)).toBe('2026-11-21'); // instant runs on Saturdays
    expect(expectedExecutionDate('deferred', '2026-11-20', 'EUR', '2026-12-15', null)).toBe('2026-12-15');
    expect(expectedExecutionDate('periodic', '2026-11-20', 'EUR', null, '2027-01-01')).toBe('2027-01-01');
    expect(expectedExecutionDate('first_open_day', '2026-11-20', 'USD', null, null)).toBe('2026-11-23');
  });
});

describe('bulk payment states', () => {
  it('derive the payment state from its instructions', () => {
    expect(paymentStateOf(['pending', 'done'])).toBe('pending');
    expect(paymentStateOf(['done', 'done'])).toBe('done');
    expect(paymentStateOf(['done', 'rejected'])).toBe('partial');
    expect(paymentStateOf(['accepted', 'rejected'])).toBe('partial');
    expect(paymentStateOf(['rejected', 'rejected'])).toBe('rejected');
    expect(paymentStateOf(['done', 'accepted'])).toBe('accepted');
    expect(() => paymentStateOf([])).toThrow();
  });
  it('stop at accepted for types the connector tracks only partially', () => {
    expect(trackedOutcome('done', ['first_open_day'], 'first_open_day')).toBe('accepted');
    expect(trackedOutcome('done', ['first_open_day'], 'instant')).toBe('done');
    expect(trackedOutcome('rejected', ['first_open_day'], 'first_open_day')).toBe('rejected');
  });
});
