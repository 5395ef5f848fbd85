/** Identities of payer, beneficiary and operator (docs/reference/powens-pay-api.md §4.11). */
import { REGION_CODES } from './cldr-tables.ts';
import { parseDate } from './dates.ts';
import { hasControlCharacters } from './accounts.ts';
import { invalid, missing } from './errors.ts';

export type IdentityKind = 'individual' | 'corporate' | 'non_profit' | 'government';
export const IDENTITY_KINDS: readonly IdentityKind[] = ['individual', 'corporate', 'non_profit', 'government'];

/** Which identification schemes fit which kind of identity. */
export const IDENTITY_SCHEMES: Record<string, readonly IdentityKind[]> = {
  national_id_number: ['individual'],
  passport_number: ['individual'],
  alien_reg_number: ['individual'],
  siren: ['corporate', 'non_profit'],
  // An establishment's SIRET (SIREN + 5 digits), as Powens' bulk payment guide identifies beneficiaries.
  siret: ['corporate', 'non_profit', 'government'],
  incorporation_number: ['corporate', 'non_profit', 'government'],
  euid: ['corporate', 'non_profit'],
  rna: ['non_profit'],
};

/** Fields only returned with `show_sensitive=true`. */
export const SENSITIVE_IDENTITY_FIELDS = [
  'first_name',
  'last_name',
  'birth_city',
  'birth_country',
  'birth_date',
  'nationality',
  'postal_address',
  'email',
  'scheme_name',
  'identification',
  'issuer',
  'ultimate_owner_text',
  'ultimate_owner_extra_text',
  'pep',
  'org_hq_address',
  'org_business_address',
] as const;

const TEXT_LIMITS: Record<string, number> = {
  external_ref: 255,
  first_name: 255,
  last_name: 255,
  birth_city: 255,
  nationality: 255,
  postal_address: 512,
  email: 255,
  identification: 255,
  issuer: 255,
  ultimate_owner_text: 1024,
  ultimate_owner_extra_text: 4096,
  org_name: 255,
  org_legal_status: 128,
  org_hq_address: 512,
  org_business_address: 512,
};
// Multi-line text is allowed in addresses and owner lists only.
const MULTILINE = new Set(['postal_address', 'org_hq_address', 'org_business_address', 'ultimate_owner_extra_text']);

export interface Identity {
  kind: IdentityKind;
  [field: string]: string | number | boolean | null;
}

/** A two-letter code ICU names as a region (read from the generated cldr-tables.ts, not from Intl: docs/performance.md). */
function isCountryCode(code: string): boolean {
  return REGION_CODES.has(code);
}

/** SIREN: 9 digits with a Luhn check digit. */
export function isValidSiren(value: string): boolean {
  return /^\d{9}$/.test(value) && luhn(value);
}

/**
 * SIRET: 14 digits, its SIREN first, with a Luhn check over all 14 — except La Poste's
 * establishments (SIREN 356000000), whose digits sum to a multiple of 5 instead (INSEE's rule).
 */
export function isValidSiret(value: string): boolean {
  if (!/^\d{14}$/.test(value)) return false;
  if (luhn(value)) return true;
  return value.startsWith('356000000') && [...value].reduce((sum, d) => sum + Number(d), 0) % 5 === 0;
}

function luhn(value: string): boolean {
  let sum = 0;
  for (let i = 0; i < value.length; i++) {
    let digit = Number(value[value.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Validates an identity object and returns it normalised (kind defaulted, text trimmed, empty
 * strings dropped). Unknown keys are ignored, as Powens does.
 */
export function parseIdentity(input: Record<string, unknown>, field: string, nowMs: number): Identity {
  const kindRaw = input.kind ?? 'individual';
  if (typeof kindRaw !== 'string' || !IDENTITY_KINDS.includes(kindRaw as IdentityKind)) {
    throw invalid(`${field}.kind`, `must be one of ${IDENTITY_KINDS.join(', ')}`);
  }
  const kind = kindRaw as IdentityKind;
  const identity: Identity = { kind };

  for (const [name, limit] of Object.entries(TEXT_LIMITS)) {
    const value = input[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw invalid(`${field}.${name}`, 'must be a string');
    const text = value.trim();
    if (text === '') continue;
    if (text.length > limit) throw invalid(`${field}.${name}`, `must be at most ${limit} characters`);
    const controls = MULTILINE.has(name) ? text.replace(/\r?\n/g, '') : text;
    if (hasControlCharacters(controls)) throw invalid(`${field}.${name}`, 'must not contain control characters');
    identity[name] = text;
  }

  if (input.id_user !== undefined && input.id_user !== null) {
    // Payrail has no user accounts: no id_user can name an existing user.
    throw invalid(`${field}.id_user`, 'no such user');
  }
  if (input.pep !== undefined && input.pep !== null) {
    if (typeof input.pep !== 'boolean') throw invalid(`${field}.pep`, 'must be a boolean');
    identity.pep = input.pep;
  }
  for (const name of ['birth_country'] as const) {
    const value = input[name];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' || !isCountryCode(value.toUpperCase())) {
      throw invalid(`${field}.${name}`, 'must be an ISO 3166-1 alpha-2 country code');
    }
    identity[name] = value.toUpperCase();
  }
  if (input.birth_date !== undefined && input.birth_date !== null && input.birth_date !== '') {
    const date = typeof input.birth_date === 'string' ? parseDate(input.birth_date) : null;
    if (!date) throw invalid(`${field}.birth_date`, 'must be a date YYYY-MM-DD');
    if (Date.parse(`${date}T00:00:00Z`) > nowMs) throw invalid(`${field}.birth_date`, 'must not be in the future');
    identity.birth_date = date;
  }
  if (typeof identity.email === 'string' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(identity.email)) {
    throw invalid(`${field}.email`, 'is not an e-mail address');
  }

  const scheme = input.scheme_name;
  if (scheme !== undefined && scheme !== null && scheme !== '') {
    if (typeof scheme !== 'string' || !Object.hasOwn(IDENTITY_SCHEMES, scheme)) {
      throw invalid(`${field}.scheme_name`, `must be one of ${Object.keys(IDENTITY_SCHEMES).join(', ')}`);
    }
    if (!IDENTITY_SCHEMES[scheme]!.includes(kind)) {
      throw invalid(`${field}.scheme_name`, `${scheme} does not apply to a ${kind} identity`);
    }
    identity.scheme_name = scheme;
  }
  if (identity.identification && !identity.scheme_name) throw missing(`${field}.scheme_name`);
  if (identity.scheme_name && !identity.identification) throw missing(`${field}.identification`);
  if (identity.scheme_name === 'siren') {
    const siren = String(identity.identification).replace(/\s/g, '');
    if (!isValidSiren(siren)) throw invalid(`${field}.identification`, 'is not a valid SIREN (9 digits, Luhn check)');
    identity.identification = siren;
  }
  if (identity.scheme_name === 'siret') {
    const siret = String(identity.identification).replace(/\s/g, '');
    if (!isValidSiret(siret)) throw invalid(`${field}.identification`, 'is not a valid SIRET (14 digits, Luhn check)');
    identity.identification = siret;
  }
  if (identity.scheme_name === 'rna' && !/^W\d{9}$/.test(String(identity.identification))) {
    throw invalid(`${field}.identification`, 'is not a valid RNA number (W followed by 9 digits)');
  }

  if (kind === 'individual') {
    if (!identity.first_name) throw missing(`${field}.first_name`);
    if (!identity.last_name) throw missing(`${field}.last_name`);
  } else if (!identity.scheme_name) {
    // Organisations must be identified; org_name & co. are only recommended (docs/reference/powens-pay-api.md §4.11 doc conflict).
    throw missing(`${field}.scheme_name`);
  }
  return identity;
}

const SENSITIVE: ReadonlySet<string> = new Set(SENSITIVE_IDENTITY_FIELDS);

/** The identity as a response shows it: sensitive fields only when allowed. */
export function identityView(identity: Identity | null, showSensitive: boolean): Record<string, unknown> | null {
  if (!identity) return null;
  if (showSensitive) return { ...identity };
  const view: Record<string, unknown> = {};
  // (A stored identity never has a __proto__ key: input refuses it; skipped all the same.)
  for (const name in identity) if (!SENSITIVE.has(name) && name !== '__proto__') view[name] = (identity as Record<string, unknown>)[name];
  return view;
}
