/**
 * Exact money: amounts are parsed from their decimal text into integer minor units of the
 * currency (ISO 4217 exponent) and printed back from those integers. No floating point.
 */
import { CURRENCY_DISPLAY } from './cldr-tables.ts';
import { invalid } from './errors.ts';

// Active ISO 4217 codes (precious metals, test and "no currency" codes left out), grouped by exponent.
const EXPONENT_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const EXPONENT_3 = 'BHD IQD JOD KWD LYD OMR TND';
const EXPONENT_4 = 'CLF UYW';
const EXPONENT_2 =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN ' +
  'BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP ' +
  'GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK ' +
  'LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK ' +
  'NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP ' +
  'STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ' +
  'ZAR ZMW ZWG';

const EXPONENTS = new Map<string, number>();
for (const [list, exponent] of [
  [EXPONENT_0, 0],
  [EXPONENT_2, 2],
  [EXPONENT_3, 3],
  [EXPONENT_4, 4],
] as const) {
  for (const code of list.split(' ')) EXPONENTS.set(code, exponent);
}

// Currencies whose symbol is written before the amount in their usual notation.
const PREFIX_SYMBOL = new Set(['USD', 'GBP', 'AUD', 'CAD', 'NZD', 'HKD', 'SGD', 'JPY', 'CNY', 'INR', 'ILS', 'MXN', 'BRL']);

/** The currency object of Powens responses (§4.9). */
export interface CurrencyObject {
  id: string;
  symbol: string;
  prefix: boolean;
  crypto: boolean;
  precision: number;
  marketcap: null;
  datetime: null;
  name: string;
}

const currencyObjects = new Map<string, CurrencyObject>();

/** Every currency code Payrail accepts. */
export const CURRENCY_CODES: ReadonlySet<string> = new Set(EXPONENTS.keys());

export function isCurrency(code: string): boolean {
  return EXPONENTS.has(code);
}

export function currencyExponent(code: string): number {
  const exponent = EXPONENTS.get(code);
  if (exponent === undefined) throw new Error(`unknown currency ${code}`);
  return exponent;
}

export function currencyObject(code: string): CurrencyObject {
  let object = currencyObjects.get(code);
  if (!object) {
    // Symbol and name as ICU gives them, read from the generated table (cldr-tables.ts), not from Intl.
    const [symbol, name] = CURRENCY_DISPLAY[code] ?? [code, code];
    object = {
      id: code,
      symbol,
      prefix: PREFIX_SYMBOL.has(code),
      crypto: false,
      precision: currencyExponent(code),
      marketcap: null,
      datetime: null,
      name,
    };
    currencyObjects.set(code, Object.freeze(object));
  }
  return object;
}

const currencyJsonObjects = new Map<string, Readonly<Record<string, unknown>>>();

/** A string for JSON.stringify: as is when ASCII, else its JSON text with every non-ASCII character as a \u escape. */
function asciiJson(text: string): unknown {
  if (!/[\u0080-\uffff]/.test(text)) return text;
  return JSON.rawJSON(JSON.stringify(text).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * The currency object as answers serialise it: the same JSON once parsed, with the symbol and name
 * written in ASCII (`"\u20ac"` for `"€"`). One character above U+00FF makes the whole answer a
 * two-byte string, which JSON.stringify, the UTF-8 encoding and the Content-Length count then pay for
 * (about 4% of a GET's CPU, `perf`); every payment answer carries a currency symbol.
 */
export function currencyJson(code: string): Readonly<Record<string, unknown>> {
  let object = currencyJsonObjects.get(code);
  if (!object) {
    const currency = currencyObject(code);
    object = Object.freeze({ ...currency, symbol: asciiJson(currency.symbol), name: asciiJson(currency.name) });
    currencyJsonObjects.set(code, object);
  }
  return object;
}

/** The largest amount in minor units we accept: stays exact in a JS number and a SQL bigint. */
export const MAX_MINOR_UNITS = 999_999_999_999_999;

const DECIMAL_RE = /^(\d{1,30})(?:\.(\d{1,30}))?(?:[eE]([+-]?\d{1,3}))?$/;

/**
 * Parses an amount given as decimal text (the JSON number's own text, or a JSON string) into
 * minor units of `currency`. Refuses zero, negatives, more decimals than the currency has,
 * and anything that is not a plain decimal.
 */
export function parseAmount(raw: unknown, currency: string, field: string): number {
  if (typeof raw === 'number') raw = String(raw); // only reached for numbers not parsed from JSON text
  if (typeof raw !== 'string') throw invalid(field, 'must be a decimal number');
  const text = raw.trim();
  if (text.startsWith('-')) throw invalid(field, 'must be greater than 0');
  const m = DECIMAL_RE.exec(text);
  if (!m) throw invalid(field, `${JSON.stringify(raw.slice(0, 40))} is not a decimal number`);
  const digits = (m[1] ?? '') + (m[2] ?? '');
  const scale = (m[2]?.length ?? 0) - Number(m[3] ?? 0); // value = digits × 10^-scale
  const exponent = currencyExponent(currency);
  let minor: bigint;
  if (scale <= exponent) {
    minor = BigInt(digits) * 10n ** BigInt(exponent - scale);
  } else {
    const divisor = 10n ** BigInt(scale - exponent);
    const whole = BigInt(digits);
    if (whole % divisor !== 0n) {
      throw invalid(field, `${currency} amounts have at most ${exponent} decimal${exponent === 1 ? '' : 's'}`);
    }
    minor = whole / divisor;
  }
  if (minor <= 0n) throw invalid(field, 'must be greater than 0');
  if (minor > BigInt(MAX_MINOR_UNITS)) throw invalid(field, 'is too large');
  return Number(minor);
}

/** Decimal text of an amount in minor units, with `decimals` digits after the point. */
export function formatMinorUnits(minor: number, currency: string, decimals = currencyExponent(currency)): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  let fraction = exponent === 0 ? '' : digits.slice(-exponent);
  fraction = decimals >= exponent ? fraction.padEnd(decimals, '0') : fraction.slice(0, decimals);
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/**
 * The amount as Powens prints it in responses: a JSON number literal with 10 decimals
 * (e.g. `50.9000000000`), emitted verbatim by JSON.stringify.
 */
export function amountJson(minor: number, currency: string): unknown {
  return JSON.rawJSON(formatMinorUnits(minor, currency, 10));
}

/**
 * Is `totalMinor` above the cap `maxText` (a decimal string such as "150.5")? Exact for any currency:
 * the cap is cut to the currency's decimals, which cannot change the answer for a whole number of
 * minor units (total > cap ⇔ total > ⌊cap⌋).
 */
export function exceedsAmountCap(totalMinor: number, currency: string, maxText: string): boolean {
  const [whole = '0', fraction = ''] = maxText.split('.');
  const exponent = currencyExponent(currency);
  const capMinor = BigInt(whole + fraction.padEnd(exponent, '0').slice(0, exponent));
  return BigInt(totalMinor) > capMinor;
}
