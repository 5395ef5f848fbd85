/** Dates and times as the Powens API prints them; everything is UTC. */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?Z?$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, the format of every date-time in responses. */
export function formatDateTime(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** `YYYY-MM-DD` of the UTC day that contains `epochMs`. */
export function utcDate(epochMs: number): string {
  return formatDateTime(epochMs).slice(0, 10);
}

/** Parses a strict calendar date `YYYY-MM-DD`; returns null when it is not a real date. */
export function parseDate(text: string): string | null {
  const m = DATE_RE.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1900 || month < 1 || month > 12 || day < 1) return null;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= last ? text : null;
}

/**
 * Parses a date (`YYYY-MM-DD`, midnight UTC) or a date-time (`YYYY-MM-DD HH:MM:SS`, UTC)
 * into epoch milliseconds; null when malformed.
 */
export function parseDateOrDateTime(text: string): number | null {
  if (parseDate(text)) return Date.parse(`${text}T00:00:00Z`);
  const m = DATETIME_RE.exec(text);
  if (!m || !parseDate(`${m[1]}-${m[2]}-${m[3]}`)) return null;
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (h > 23 || min > 59 || s > 59) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), h, min, s);
}
