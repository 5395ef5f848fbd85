/** Payment accounts (payer and beneficiary, docs/reference/powens-pay-api.md §4.10): IBAN and UK sort code + account number. */
import ibanToBicDirectory from 'iban-to-bic';
import { electronicFormatIBAN, extractIBAN, isValidBIC, isValidIBAN } from 'ibantools';
import { invalid, missing } from './errors.ts';

export type AccountScheme = 'iban' | 'sort_code_account_number';
export const ACCOUNT_SCHEMES: readonly AccountScheme[] = ['iban', 'sort_code_account_number'];

/** An account as we store it: identification normalised (IBAN in electronic format, UK as 14 digits). */
export interface Account {
  scheme_name: AccountScheme;
  identification: string;
  label: string | null;
  issuer: string | null;
  /** A beneficiary's postal address (Payrail extension; Berlin Group `creditorAddress`); absent when not given. */
  postal_address?: PostalAddress;
}

/** A structured postal address, as SEPA credit transfers carry it (ISO 20022 PostalAddress, Berlin Group `address`). */
export interface PostalAddress {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  street_name?: string;
  building_number?: string;
  post_code?: string;
  town_name?: string;
}

/** The limits of Berlin Group's `address` (streetName 70, buildingNumber 16, postCode 16, townName 35). */
export const POSTAL_ADDRESS_LIMITS = { street_name: 70, building_number: 16, post_code: 16, town_name: 35 } as const;

export interface AccountInput {
  scheme_name?: string | null;
  identification?: string | null;
  label?: string | null;
  issuer?: string | null;
  postal_address?: unknown;
}

/** Checks a beneficiary's postal address; the field named on the first problem. */
export function parsePostalAddress(input: unknown, field: string): PostalAddress {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(field, 'must be an object with at least a country');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw))
    if (key !== 'country' && !(key in POSTAL_ADDRESS_LIMITS)) throw invalid(`${field}.${key}`, 'is not a postal address field');
  if (raw.country === undefined || raw.country === null) throw missing(`${field}.country`);
  if (typeof raw.country !== 'string' || !/^[A-Z]{2}$/.test(raw.country.trim()))
    throw invalid(`${field}.country`, 'must be an ISO 3166-1 alpha-2 code, e.g. FR');
  const address: PostalAddress = { country: raw.country.trim() };
  for (const [key, max] of Object.entries(POSTAL_ADDRESS_LIMITS) as [keyof typeof POSTAL_ADDRESS_LIMITS, number][]) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.trim() === '' || value.trim().length > max)
      throw invalid(`${field}.${key}`, `must be a text of 1 to ${max} characters`);
    if (hasControlCharacters(value)) throw invalid(`${field}.${key}`, 'must not contain control characters');
    if (hasBidiControls(value)) throw invalid(`${field}.${key}`, BIDI_REASON);
    address[key] = value.trim();
  }
  return address;
}

const ACCOUNT_LABEL_MAX = 140;

/** Validates and normalises an account; `field` names it in errors (e.g. `instructions[0].beneficiary`). */
export function parseAccount(input: AccountInput, field: string, options: { labelRequired: boolean; postalAddress?: boolean }): Account {
  const scheme = input.scheme_name;
  if (scheme === undefined || scheme === null) throw missing(`${field}.scheme_name`);
  if (!ACCOUNT_SCHEMES.includes(scheme as AccountScheme)) {
    throw invalid(`${field}.scheme_name`, `must be one of ${ACCOUNT_SCHEMES.join(', ')}`);
  }
  const raw = input.identification;
  if (raw === undefined || raw === null || raw.trim() === '') throw missing(`${field}.identification`);
  const identification = scheme === 'iban' ? normaliseIban(raw, `${field}.identification`) : normaliseUkAccount(raw, `${field}.identification`);

  const label = input.label?.trim() || null;
  if (options.labelRequired && !label) throw missing(`${field}.label`);
  if (label && label.length > ACCOUNT_LABEL_MAX) {
    throw invalid(`${field}.label`, `must be at most ${ACCOUNT_LABEL_MAX} characters`);
  }
  if (label && hasControlCharacters(label)) throw invalid(`${field}.label`, 'must not contain control characters');
  if (label && hasBidiControls(label)) throw invalid(`${field}.label`, BIDI_REASON);

  let issuer = input.issuer?.trim().toUpperCase() || null;
  if (issuer) {
    if (scheme !== 'iban') throw invalid(`${field}.issuer`, 'a BIC is only given with the iban scheme');
    if (!isValidBIC(issuer)) throw invalid(`${field}.issuer`, 'is not a valid BIC');
    if (issuer.length === 8) issuer = `${issuer}XXX`;
  } else if (scheme === 'iban') {
    // Powens fills the BIC from the IBAN's bank; the directory knows the banks of AT, BE, DE, ES, FR, LU, NL.
    issuer = bicOfIban(identification);
  }
  const account: Account = { scheme_name: scheme as AccountScheme, identification, label, issuer };
  if (input.postal_address !== undefined && input.postal_address !== null) {
    if (!options.postalAddress) throw invalid(`${field}.postal_address`, "only a beneficiary's postal address is kept");
    account.postal_address = parsePostalAddress(input.postal_address, `${field}.postal_address`);
  }
  return account;
}

function normaliseIban(raw: string, field: string): string {
  const iban = electronicFormatIBAN(raw) ?? '';
  if (!isValidIBAN(iban)) throw invalid(field, 'is not a valid IBAN');
  return iban;
}

/** UK accounts: a 6-digit sort code followed by an 8-digit account number (spaces and dashes allowed). */
function normaliseUkAccount(raw: string, field: string): string {
  const digits = raw.replace(/[\s-]/g, '');
  if (!/^\d{14}$/.test(digits)) {
    throw invalid(field, 'must be a 6-digit sort code followed by an 8-digit account number');
  }
  if (/^0{6}/.test(digits) || /0{8}$/.test(digits)) throw invalid(field, 'is not a valid sort code and account number');
  return digits;
}

/** The BIC of the IBAN's bank from the national directories (iban-to-bic), or null when unknown. */
export function bicOfIban(iban: string): string | null {
  const bic = ibanToBicDirectory.ibanToBic(iban);
  return typeof bic === 'string' && isValidBIC(bic) ? (bic.length === 8 ? `${bic}XXX` : bic) : null;
}

/** ISO 3166 alpha-2 country of an account, when the scheme tells it. */
export function accountCountry(account: Account): string {
  return account.scheme_name === 'iban' ? (extractIBAN(account.identification).countryCode ?? '') : 'GB';
}

/** Bidirectional controls reorder what a payer reads (an amount or name shown reversed): refused in labels shown to payers. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

export function hasBidiControls(text: string): boolean {
  return BIDI_CONTROLS.test(text);
}

export const BIDI_REASON = 'must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)';

export function hasControlCharacters(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}
