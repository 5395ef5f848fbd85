/**
 * Semantic validation of `POST /payments` (docs/reference/powens-pay-api.md §4.1, §4.9, §6.1). The route schema has already
 * checked the shape; this checks the rules and returns the payment as it will be stored.
 */
import { randomBytes } from 'node:crypto';
import { type Account, type AccountInput, accountCountry, BIDI_REASON, hasBidiControls, hasControlCharacters, parseAccount } from './accounts.ts';
import { parseDate, utcDate } from './dates.ts';
import { ApiError, invalid, missing } from './errors.ts';
import { type Identity, parseIdentity } from './identity.ts';
import { isCurrency, parseAmount } from './money.ts';
import { parseAbsoluteUrl } from './urls.ts';
import type { ConnectorDescriptor } from './connector-descriptor.ts';
import { EXECUTION_DATE_TYPES, EXECUTION_FREQUENCIES, type ExecutionDateType, type ExecutionFrequency } from './execution.ts';

// The execution kinds are their own module (connector descriptors use them too); re-exported here.
export { EXECUTION_DATE_TYPES, EXECUTION_FREQUENCIES, type ExecutionDateType, type ExecutionFrequency } from './execution.ts';
/** Undocumented spellings seen in a Powens connector example, accepted as synonyms. */
const FREQUENCY_SYNONYMS: Record<string, ExecutionFrequency> = { biannual: 'semiannually', bimonthly: 'two-monthly' };

export const CLIENT_STATE_MAX = 2000;
export const MAX_INSTRUCTIONS = 1000;
export const LABEL_MAX = { iban: 140, sort_code_account_number: 18 } as const;
export const REFERENCE_ID_MAX = { iban: 31, sort_code_account_number: 18 } as const;

export interface InstructionInput {
  reference_id?: string | null;
  amount?: unknown;
  currency?: string | null;
  label?: string | null;
  execution_date_type?: string | null;
  execution_date?: string | null;
  beneficiary?: AccountInput | null;
  beneficiary_identity?: Record<string, unknown> | null;
  start_date?: string | null;
  end_date?: string | null;
  frequency?: string | null;
}

export interface PaymentInput {
  client_redirect_uri?: string | null;
  client_state?: string | null;
  instructions?: InstructionInput[] | null;
  connector_uuid?: string | null;
  id_connector?: number | null;
  payer?: AccountInput | null;
  payer_identity?: Record<string, unknown> | null;
  operator_identity?: Record<string, unknown> | null;
}

export interface NewInstruction {
  position: number;
  reference_id: string;
  amount_minor: number;
  currency: string;
  label: string;
  execution_date_type: ExecutionDateType;
  execution_date: string | null;
  beneficiary: Account;
  beneficiary_identity: Identity | null;
  start_date: string | null;
  end_date: string | null;
  frequency: ExecutionFrequency | null;
}

export interface NewPayment {
  client_redirect_uri: string;
  client_state: string | null;
  connector_uuid: string | null;
  id_connector: number | null;
  payer: Account | null;
  payer_identity: Identity | null;
  operator_identity: Identity | null;
  instructions: NewInstruction[];
  execution_date_type: ExecutionDateType;
  currency: string;
  total_minor: number;
  country: string;
}

export interface ValidationContext {
  nowMs: number;
  /** Redirect URIs registered on the calling client; `client_redirect_uri` must be one of them. */
  redirectUris: readonly string[];
  /** The connectors on offer, as the service declares them (the domain knows no registry). */
  connectors: readonly ConnectorDescriptor[];
}

/** Checks a redirect URI's form (absolute, no query string, no fragment) and that it is registered. */
export function checkRedirectUri(value: unknown, field: string, registered: readonly string[]): string {
  const { url, text } = parseAbsoluteUrl(value, field);
  if (url.search || text.includes('?')) throw invalid(field, 'must not contain a query string (use client_state)');
  if (url.hash || text.includes('#')) throw invalid(field, 'must not contain a fragment');
  if (!registered.includes(text)) throw invalid(field, 'is not registered on this client application');
  return text;
}

function checkClientState(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > CLIENT_STATE_MAX) throw invalid(field, `must be at most ${CLIENT_STATE_MAX} characters`);
  return value;
}

function isFutureDate(date: string, nowMs: number): boolean {
  return date > utcDate(nowMs);
}

function optionalDate(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  const date = typeof value === 'string' ? parseDate(value) : null;
  if (!date) throw invalid(field, 'must be a date YYYY-MM-DD');
  return date;
}

// SEPA basic character set without space (ISO 20022 end-to-end identification).
const REFERENCE_ID_RE = /^[A-Za-z0-9/\-?:().,'+]+$/;

function checkReferenceId(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  if (!REFERENCE_ID_RE.test(value) || value.startsWith('/') || value.endsWith('/') || value.includes('//')) {
    throw invalid(field, "may only use letters, digits and / - ? : ( ) . , ' + (no leading, trailing or double /)");
  }
  return value;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomPrefix(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte < 248) out += BASE62[byte % 62]; // 248 = 4 × 62: no modulo bias
  }
  return out.length === length ? out : randomPrefix(length);
}

function parseInstruction(
  input: InstructionInput,
  index: number,
  ctx: ValidationContext,
): Omit<NewInstruction, 'reference_id'> & { reference_id: string | null } {
  const at = `instructions[${index}]`;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid(at, 'must be an object');

  if (input.beneficiary === undefined || input.beneficiary === null) throw missing(`${at}.beneficiary`);
  const beneficiary = parseAccount(input.beneficiary, `${at}.beneficiary`, { labelRequired: true, postalAddress: true });

  if (input.currency === undefined || input.currency === null || input.currency === '') throw missing(`${at}.currency`);
  const currency = String(input.currency).trim().toUpperCase();
  if (!isCurrency(currency)) throw invalid(`${at}.currency`, 'is not an ISO 4217 currency code');
  if (beneficiary.scheme_name === 'sort_code_account_number' && currency !== 'GBP') {
    throw invalid(`${at}.currency`, 'a sort code and account number beneficiary is paid in GBP');
  }

  if (input.amount === undefined || input.amount === null || input.amount === '') throw missing(`${at}.amount`);
  const amount_minor = parseAmount(input.amount, currency, `${at}.amount`);

  if (input.label === undefined || input.label === null || input.label.trim() === '') throw missing(`${at}.label`);
  const label = input.label.trim();
  const labelMax = LABEL_MAX[beneficiary.scheme_name];
  if (label.length > labelMax) throw invalid(`${at}.label`, `must be at most ${labelMax} characters`);
  if (hasControlCharacters(label)) throw invalid(`${at}.label`, 'must not contain control characters');
  if (hasBidiControls(label)) throw invalid(`${at}.label`, BIDI_REASON);

  const typeRaw = input.execution_date_type;
  if (typeRaw === undefined || typeRaw === null || typeRaw === '') throw missing(`${at}.execution_date_type`);
  if (!EXECUTION_DATE_TYPES.includes(typeRaw as ExecutionDateType)) {
    throw invalid(`${at}.execution_date_type`, `must be one of ${EXECUTION_DATE_TYPES.join(', ')}`);
  }
  const execution_date_type = typeRaw as ExecutionDateType;

  const execution_date = optionalDate(input.execution_date, `${at}.execution_date`);
  if (execution_date_type === 'deferred') {
    if (!execution_date) throw missing(`${at}.execution_date`);
    if (!isFutureDate(execution_date, ctx.nowMs)) throw invalid(`${at}.execution_date`, 'must be a future date');
  } else if (execution_date) {
    throw invalid(`${at}.execution_date`, 'is only allowed with execution_date_type deferred');
  }

  let start_date = optionalDate(input.start_date, `${at}.start_date`);
  const end_date = optionalDate(input.end_date, `${at}.end_date`);
  let frequency: ExecutionFrequency | null = null;
  if (execution_date_type === 'periodic') {
    if (!start_date) throw missing(`${at}.start_date`);
    if (!isFutureDate(start_date, ctx.nowMs)) throw invalid(`${at}.start_date`, 'must be a future date');
    if (end_date && end_date < start_date) throw invalid(`${at}.end_date`, 'must not be before start_date');
    const f = input.frequency;
    if (f === undefined || f === null || f === '') throw missing(`${at}.frequency`);
    frequency = FREQUENCY_SYNONYMS[f] ?? (EXECUTION_FREQUENCIES.includes(f as ExecutionFrequency) ? (f as ExecutionFrequency) : null);
    if (!frequency) throw invalid(`${at}.frequency`, `must be one of ${EXECUTION_FREQUENCIES.join(', ')}`);
  } else {
    for (const name of ['start_date', 'end_date', 'frequency'] as const) {
      if (input[name] !== undefined && input[name] !== null && input[name] !== '') {
        throw invalid(`${at}.${name}`, 'is only allowed with execution_date_type periodic');
      }
    }
    start_date = null;
  }

  const reference_id = checkReferenceId(input.reference_id, `${at}.reference_id`, REFERENCE_ID_MAX[beneficiary.scheme_name]);
  const beneficiary_identity =
    input.beneficiary_identity === undefined || input.beneficiary_identity === null
      ? null
      : parseIdentity(input.beneficiary_identity, `${at}.beneficiary_identity`, ctx.nowMs);

  return {
    position: index,
    reference_id,
    amount_minor,
    currency,
    label,
    execution_date_type,
    execution_date,
    beneficiary,
    beneficiary_identity,
    start_date,
    end_date: execution_date_type === 'periodic' ? end_date : null,
    frequency,
  };
}

function resolveConnector(input: PaymentInput, connectors: readonly ConnectorDescriptor[]): { connector_uuid: string | null; id_connector: number | null } {
  const wanted = input.connector_uuid?.toLowerCase();
  const byUuid = wanted ? connectors.find((c) => c.uuid === wanted) : undefined;
  if (input.connector_uuid && !byUuid) throw invalid('connector_uuid', 'unknown connector');
  const byId = input.id_connector !== undefined && input.id_connector !== null ? connectors.find((c) => c.id === input.id_connector) : undefined;
  if (input.id_connector !== undefined && input.id_connector !== null && !byId) throw invalid('id_connector', 'unknown connector');
  if (byUuid && byId && byUuid !== byId) throw invalid('id_connector', 'does not match connector_uuid');
  const connector = byUuid ?? byId;
  if (connector && !connector.products.includes('pay')) {
    throw invalid(byUuid ? 'connector_uuid' : 'id_connector', 'this connector does not offer payments');
  }
  return { connector_uuid: connector?.uuid ?? null, id_connector: connector?.id ?? null };
}

export function validatePaymentRequest(input: PaymentInput, ctx: ValidationContext): NewPayment {
  const client_redirect_uri = checkRedirectUri(input.client_redirect_uri, 'client_redirect_uri', ctx.redirectUris);
  const client_state = checkClientState(input.client_state, 'client_state');

  const list = input.instructions;
  if (list === undefined || list === null) throw missing('instructions');
  if (!Array.isArray(list)) throw invalid('instructions', 'must be an array');
  if (list.length === 0) throw invalid('instructions', 'must contain at least one instruction');
  if (list.length > MAX_INSTRUCTIONS) throw invalid('instructions', `must contain at most ${MAX_INSTRUCTIONS} instructions`);

  const parsed = list.map((instruction, index) => parseInstruction(instruction, index, ctx));
  const first = parsed[0]!;
  for (const [index, instruction] of parsed.entries()) {
    const at = `instructions[${index}]`;
    if (instruction.execution_date_type !== first.execution_date_type) {
      throw invalid(`${at}.execution_date_type`, 'every instruction of a bulk payment has the same execution_date_type');
    }
    if (instruction.execution_date !== first.execution_date) {
      throw invalid(`${at}.execution_date`, 'every instruction of a deferred bulk payment has the same execution_date');
    }
    if (instruction.currency !== first.currency) {
      throw invalid(`${at}.currency`, 'every instruction of a bulk payment has the same currency');
    }
  }
  if (first.execution_date_type === 'periodic' && parsed.length > 1) {
    throw invalid('instructions', 'a periodic (recurring) payment has exactly one instruction');
  }

  // Client-given reference ids must be unique in the payment; missing ones are generated.
  const seen = new Set<string>();
  for (const [index, instruction] of parsed.entries()) {
    if (instruction.reference_id === null) continue;
    if (seen.has(instruction.reference_id)) throw invalid(`instructions[${index}].reference_id`, 'is used twice in this payment');
    seen.add(instruction.reference_id);
  }
  const uk = parsed.some((i) => i.beneficiary.scheme_name === 'sort_code_account_number');
  const prefix = randomPrefix(uk ? 12 : 25);
  const instructions: NewInstruction[] = parsed.map((instruction, index) => ({
    ...instruction,
    reference_id: instruction.reference_id ?? `${prefix}-${index + 1}`,
  }));

  const payer = input.payer === undefined || input.payer === null ? null : parseAccount(input.payer, 'payer', { labelRequired: false });
  const payer_identity =
    input.payer_identity === undefined || input.payer_identity === null ? null : parseIdentity(input.payer_identity, 'payer_identity', ctx.nowMs);
  const operator_identity =
    input.operator_identity === undefined || input.operator_identity === null ? null : parseIdentity(input.operator_identity, 'operator_identity', ctx.nowMs);

  const total = instructions.reduce((sum, i) => sum + BigInt(i.amount_minor), 0n);
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new ApiError('invalidValue', 'instructions: total amount is too large', { field: 'instructions' });

  return {
    client_redirect_uri,
    client_state,
    ...resolveConnector(input, ctx.connectors),
    payer,
    payer_identity,
    operator_identity,
    instructions,
    execution_date_type: first.execution_date_type,
    currency: first.currency,
    total_minor: Number(total),
    country: payer ? accountCountry(payer) : accountCountry(first.beneficiary),
  };
}
