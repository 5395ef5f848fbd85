/**
 * Pure checks of the validation protocol (ARCHITECTURE.md ("The bank boundary"): check → attempt → apply). Nothing here reads
 * the database or calls a bank; each function decides from the payment, the connector's declared
 * settings and the request, and throws the Powens error naming the field.
 */
import { isIPv4 } from 'node:net';
import { parseAccount, type Account, type AccountInput } from '../domain/accounts.ts';
import { incompatibilities, isCompatible } from '../domain/compatibility.ts';
import { ApiError, invalid, missing } from '../domain/errors.ts';
import { STATE_DETAIL } from '../domain/states.ts';
import { parseHttpUrl } from '../domain/urls.ts';
import type { Connector, PaymentField } from '../connectors/kit/types.ts';
import type { PaymentRow } from '../store/schema.ts';
import type { PaymentRecord } from './payments.ts';
import { readJson } from '../store/rows.ts';

/** state_detail values (domain/states.ts). */
export const DETAIL = STATE_DETAIL;

/** A claim older than this was left by a crashed process: a redirect bank may be asked afresh. */
export const STALE_CLAIM_MS = 60_000;

export function compatibilityOf(record: PaymentRecord, connector: Pick<Connector, 'descriptor'>, nowMs: number) {
  return incompatibilities(
    {
      execution_date_type: record.payment.execution_date_type,
      currency: record.payment.currency,
      has_payer: record.payment.payer !== null,
      instructions: record.instructions.map((i) => ({
        amount_minor: i.amount_minor,
        execution_date: i.execution_date,
        start_date: i.start_date,
        frequency: i.frequency,
        beneficiary_scheme: readJson(i.beneficiary).scheme_name,
      })),
    },
    connector.descriptor.payment_settings,
    nowMs,
  );
}

/**
 * A fresh initiation after an unknown one is allowed only where nothing executes without the
 * payer at the bank (redirect SCA); never on a decoupled bank, where the first one may be
 * waiting in the payer's app. The test bank never leaves an initiation unknown.
 */
export function mayInitiateAgain(payment: PaymentRow, connector: Connector, nowMs: number): boolean {
  if (connector.bank?.sca_approach !== 'redirect') return false;
  if (payment.state !== 'validating' && payment.state !== 'created') return false;
  if (payment.state_detail === DETAIL.initiationUnknown) return true;
  return payment.state_detail === DETAIL.initiating && nowMs - payment.updated_at > STALE_CLAIM_MS;
}

/** created (nobody initiating), or a redirect bank's unknown initiation the payer starts afresh. */
export function checkCanInitiate(payment: PaymentRow, connector: Connector | null, nowMs: number): void {
  if (payment.state === 'created' && payment.state_detail === null) return;
  if (connector && mayInitiateAgain(payment, connector, nowMs)) return;
  if (payment.state_detail === DETAIL.initiating) throw new ApiError('invalidState', 'the payment is being sent to the bank; read it again in a moment');
  if (payment.state_detail === DETAIL.initiationUnknown) {
    throw new ApiError('invalidState', 'the bank did not confirm the initiation; this bank allows no new attempt: status sync will find out what happened');
  }
  throw new ApiError('invalidState', `the payment is ${payment.state}; only a created payment can be validated`);
}

/** The webview URL must be ours or on an origin the client registered a redirect URI for. */
export function checkWebviewUrl(value: unknown, baseUrl: string, redirectUris: readonly string[]): string {
  const { url, text } = parseHttpUrl(value, 'webview_url');
  const origins = new Set([
    new URL(baseUrl).origin,
    ...redirectUris.flatMap((u) => {
      try {
        return [new URL(u).origin];
      } catch {
        return [];
      }
    }),
  ]);
  if (!origins.has(url.origin)) throw invalid('webview_url', "must be on Payrail's origin or on the origin of one of the client's redirect URIs");
  return text;
}

export function stringFields(fields: Record<string, unknown> | null | undefined, at: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields ?? {})) {
    if (typeof value !== 'string') throw invalid(`${at}.${name}`, 'must be a string');
    out[name] = value;
  }
  return out;
}

export function checkFieldValue(field: PaymentField, value: string, at: string): void {
  if (field.type === 'list' && field.values && !field.values.some((v) => v.value === value)) {
    throw invalid(`${at}.${field.name}`, `must be one of ${field.values.map((v) => v.value).join(', ')}`);
  }
  if (field.regex && value !== '' && !new RegExp(field.regex).test(value)) throw invalid(`${at}.${field.name}`, 'has the wrong format');
  if (value.length > 1024) throw invalid(`${at}.${field.name}`, 'is too long');
}

export function requireAction(payment: PaymentRow, action: string): void {
  if (payment.state !== 'validating' || payment.action !== action) {
    throw new ApiError('invalidState', `the payment is ${payment.state}${payment.action ? ` with action ${payment.action}` : ''}; this needs action ${action}`);
  }
}

/** The connector's static fields: required ones present, values well-formed, unknown ones dropped. */
export function checkConnectorFields(connector: Connector, given: Record<string, unknown> | null | undefined): Record<string, string> {
  const fields = stringFields(given, 'fields');
  const allowed = new Set(connector.descriptor.payment_fields.map((f) => f.name));
  for (const field of connector.descriptor.payment_fields) {
    const value = fields[field.name];
    if (value === undefined) {
      if (field.required) throw missing(`fields.${field.name}`);
      continue;
    }
    checkFieldValue(field, value, 'fields');
  }
  for (const name of Object.keys(fields)) if (!allowed.has(name)) delete fields[name];
  return fields;
}

export function checkMechanism(connector: Connector, mechanism: string): void {
  const settings = connector.descriptor.payment_settings;
  if (!settings.available_validate_mechanisms.some((m) => m === mechanism || (m === 'webauth' && mechanism.startsWith('webauth_')))) {
    throw invalid('validate_mechanism', `must be one of ${settings.available_validate_mechanisms.join(', ')}`);
  }
}

/** The payer account given at validation (when the payment has none yet). */
export function checkPayer(payment: PaymentRow, given: AccountInput | null | undefined, connector: Connector): Account | null {
  if (given === undefined || given === null) {
    if (!payment.payer && connector.descriptor.payment_settings.providing_payer_account === 'mandatory') throw missing('payer');
    return null;
  }
  if (payment.payer) throw invalid('payer', 'the payment already has a payer account');
  return parseAccount(given, 'payer', { labelRequired: false });
}

export function checkCompatible(record: PaymentRecord, connector: Connector, nowMs: number): void {
  const reasons = compatibilityOf(record, connector, nowMs);
  if (!isCompatible(reasons)) {
    const first = reasons.find((r) => r.type === 'incompatible')!;
    throw new ApiError('invalidValue', `connector_uuid: this bank cannot make this payment (${first.code}: ${first.description})`, { field: 'connector_uuid' });
  }
}

/** Berlin Group wants the payer's IPv4 (`PSU-IP-Address`); an IPv6 or unknown address is left out. */
export function psuIpAddress(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return isIPv4(v4) ? v4 : null;
}

/** Cancellation by the client (docs/reference/powens-pay-api.md §12): which path it takes, or the Powens refusal. */
export function checkCancel(payment: PaymentRow, connector: Connector | null, instructionTypes: readonly string[]): 'local' | 'bank' {
  if (payment.state === 'created') return 'local';
  if (payment.state === 'validating') return 'local';
  if (
    payment.state === 'pending' &&
    payment.state_detail !== DETAIL.cancelling &&
    connector?.descriptor.payment_settings.cancellation_available &&
    !instructionTypes.includes('instant')
  )
    return 'bank';
  if (payment.state === 'pending' && payment.state_detail === DETAIL.cancelling)
    throw new ApiError('invalidState', 'a cancellation of this payment is already waiting for the payer at the bank');
  // Powens' documented answer for a payment that cannot be cancelled (no code prefix).
  throw new ApiError('notSupported', 'Bad request, please check your request parameters.');
}
