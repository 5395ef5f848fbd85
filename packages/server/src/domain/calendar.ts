/**
 * Business days for "first open day" execution (docs/reference/banking-rules.md): TARGET2 for EUR (closed on
 * weekends, 1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December) and the bank
 * holidays of England and Wales for GBP. Other currencies: weekends only. Dates are `YYYY-MM-DD`, UTC.
 */

const DAY_MS = 24 * 3600 * 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function utc(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day);
}

/** Easter Sunday (Gregorian; anonymous algorithm, Meeus/Jones/Butcher). */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return iso(utc(year, month, day));
}

function shift(date: string, days: number): string {
  return iso(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS);
}

function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 Sunday … 6 Saturday
}

function isWeekend(date: string): boolean {
  const d = weekday(date);
  return d === 0 || d === 6;
}

export function target2Holidays(year: number): Set<string> {
  const easter = easterSunday(year);
  return new Set([iso(utc(year, 1, 1)), shift(easter, -2), shift(easter, 1), iso(utc(year, 5, 1)), iso(utc(year, 12, 25)), iso(utc(year, 12, 26))]);
}

/** First given weekday (0–6) of a month, or the last one when `last`. */
function nthWeekday(year: number, month: number, day: number, last = false): string {
  if (last) {
    let date = iso(utc(year, month + 1, 0));
    while (weekday(date) !== day) date = shift(date, -1);
    return date;
  }
  let date = iso(utc(year, month, 1));
  while (weekday(date) !== day) date = shift(date, 1);
  return date;
}

/** A holiday on a weekend moves to the next weekday not already a holiday. */
function substitute(date: string, taken: Set<string>): string {
  let d = date;
  while (isWeekend(d) || taken.has(d)) d = shift(d, 1);
  return d;
}

// One-off bank holidays proclaimed in England and Wales.
const UK_SPECIAL: Record<number, { add?: string[]; move?: [string, string][] }> = {
  2020: { move: [['2020-05-04', '2020-05-08']] },
  2022: { add: ['2022-06-03', '2022-09-19'], move: [['2022-05-30', '2022-06-02']] },
  2023: { add: ['2023-05-08'] },
};

export function ukHolidays(year: number): Set<string> {
  const easter = easterSunday(year);
  const days = new Set<string>();
  days.add(substitute(iso(utc(year, 1, 1)), days));
  days.add(shift(easter, -2));
  days.add(shift(easter, 1));
  days.add(nthWeekday(year, 5, 1));
  days.add(nthWeekday(year, 5, 1, true));
  days.add(nthWeekday(year, 8, 1, true));
  const christmas = substitute(iso(utc(year, 12, 25)), days);
  days.add(christmas);
  days.add(substitute(iso(utc(year, 12, 26)), days));
  const special = UK_SPECIAL[year];
  for (const [from, to] of special?.move ?? []) {
    days.delete(from);
    days.add(to);
  }
  for (const day of special?.add ?? []) days.add(day);
  return days;
}

export function isBusinessDay(date: string, currency: string): boolean {
  if (isWeekend(date)) return false;
  const year = Number(date.slice(0, 4));
  if (currency === 'EUR') return !target2Holidays(year).has(date);
  if (currency === 'GBP') return !ukHolidays(year).has(date);
  return true;
}

/** The first business day strictly after `date` (a "first open day" payment ordered on `date`). */
export function nextBusinessDay(date: string, currency: string): string {
  let d = shift(date, 1);
  while (!isBusinessDay(d, currency)) d = shift(d, 1);
  return d;
}

/** `date` itself when it is a business day, else the next one (a standing order's "following" rule). */
export function onOrAfterBusinessDay(date: string, currency: string): string {
  return isBusinessDay(date, currency) ? date : nextBusinessDay(date, currency);
}

/** When a payment is expected to execute, from its type: the date to judge its expiry by. */
export function expectedExecutionDate(type: string, orderedOn: string, currency: string, executionDate: string | null, startDate: string | null): string {
  if (type === 'deferred' && executionDate) return executionDate;
  if (type === 'periodic' && startDate) return startDate;
  if (type === 'first_open_day') return nextBusinessDay(orderedOn, currency);
  return orderedOn; // instant: the same day, every day of the year
}
