/**
 * The validation protocol (spec §3.2, §4.2–4.5): what our webview and a merchant's own validation
 * pages do through `POST /payments/{id}`, and the payer's return from the bank. Connectors decide;
 * this applies their outcome through changePayment.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { parseAccount, type AccountInput } from '../domain/accounts.ts';
import type { Clock } from '../domain/clock.ts';
import { incompatibilities, isCompatible } from '../domain/compatibility.ts';
import { ApiError, invalid, missing } from '../domain/errors.ts';
import { parseHttpUrl } from '../domain/urls.ts';
import type { ExecutionDateType, ExecutionFrequency } from '../domain/payment-request.ts';
import type { PaymentState } from '../domain/states.ts';
import { paymentStateOf, trackedOutcome } from '../domain/state-machine.ts';
import { connectorById, connectorByUuid } from '../connectors/registry.ts';
import type { BankHttp, Connector, ConnectorAccount, ConnectorContext, ConnectorOutcome, ConnectorPayment, PaymentField } from '../connectors/kit/types.ts';
import type { Database, PaymentRow } from '../store/schema.ts';
import { changePayment } from './payment-changes.ts';
import { getPayment, type PaymentRecord } from './payments.ts';
import { cachedConfig } from './config.ts';

export interface ActionEnvironment {
  db: Kysely<Database>;
  clock: Clock;
  /** Per-installation secret for signed URLs. */
  secret: string;
  baseUrl: string;
  testStepMs: number;
}

export function sign(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

export function verifySignature(secret: string, value: string, signature: string): boolean {
  const expected = Buffer.from(sign(secret, value));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The payer's return from a bank: signed, bound to the payment. */
export function bankReturnUrls(env: Pick<ActionEnvironment, 'baseUrl' | 'secret'>, paymentId: number): { ok: string; nok: string } {
  const state = `${paymentId}.${sign(env.secret, `bank-return.${paymentId}`)}`;
  return { ok: `${env.baseUrl}/2.0/bank-return/ok?state=${state}`, nok: `${env.baseUrl}/2.0/bank-return/nok?state=${state}` };
}

const NO_HTTP: BankHttp = {
  async send() {
    throw new Error('this connector has no bank HTTP client');
  },
};

export function connectorContext(env: ActionEnvironment, paymentId = 0, http: BankHttp = NO_HTTP): ConnectorContext {
  return {
    now: env.clock.now(), clock: env.clock, baseUrl: env.baseUrl, testStepMs: env.testStepMs, sign: (value) => sign(env.secret, value),
    http, returnUrls: bankReturnUrls(env, paymentId),
  };
}

function account(json: string | null): ConnectorAccount | null {
  if (!json) return null;
  const a = JSON.parse(json) as { scheme_name: string; identification: string; label?: string | null; issuer?: string | null; bic?: string | null };
  return { scheme_name: a.scheme_name, identification: a.identification, label: a.label ?? null, bic: a.bic ?? a.issuer ?? null };
}

export function connectorPayment(record: PaymentRecord): ConnectorPayment {
  const { payment, instructions } = record;
  return {
    id: payment.id,
    state: payment.state,
    action: payment.action,
    state_detail: payment.state_detail,
    execution_date_type: payment.execution_date_type as ExecutionDateType,
    currency: payment.currency,
    instructions: instructions.map((i) => ({
      amount_minor: i.amount_minor, currency: i.currency, label: i.label, execution_date: i.execution_date, reference_id: i.reference_id,
      beneficiary: account(i.beneficiary)!, start_date: i.start_date, end_date: i.end_date, frequency: i.frequency as ExecutionFrequency | null,
    })),
    payer: account(payment.payer),
    psu_ip_address: null,
    bank_payment_id: payment.bank_payment_id,
    data: payment.connector_data ? (JSON.parse(payment.connector_data) as Record<string, unknown>) : null,
  };
}

export function compatibilityOf(record: PaymentRecord, connector: Connector, nowMs: number) {
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
        beneficiary_scheme: (JSON.parse(i.beneficiary) as { scheme_name: string }).scheme_name,
      })),
    },
    connector.descriptor,
    nowMs,
  );
}

function connectorOf(payment: PaymentRow): Connector {
  const connector = payment.connector_uuid ? connectorByUuid(payment.connector_uuid) : undefined;
  if (!connector) throw new ApiError('invalidState', 'the payment has no connector yet');
  return connector;
}

/** Turns a connector outcome into the payment's new state, action and fields. */
export async function applyOutcome(
  env: ActionEnvironment,
  payment: PaymentRow,
  outcome: ConnectorOutcome,
  extraPatch: Partial<PaymentRow> = {},
  source: 'interactive' | 'background' = 'interactive',
): Promise<PaymentRow> {
  const data = JSON.stringify(outcome.data);
  // While a payment is not final, status sync asks its bank again after the connector's interval.
  const connector = extraPatch.connector_uuid ? connectorByUuid(extraPatch.connector_uuid) : payment.connector_uuid ? connectorByUuid(payment.connector_uuid) : undefined;
  const final = outcome.kind === 'state' && outcome.state !== 'pending';
  const interval = connector ? connector.pollIntervalMs({ ...connectorPaymentOf(payment), data: outcome.data }, connectorContext(env)) : 60_000;
  const extra: Partial<PaymentRow> = { ...extraPatch, next_sync_at: final ? null : env.clock.now() + interval };
  const cleared = { validate_uri: null, fields: null, error_code: null, error_description: null, state_detail: null };
  switch (outcome.kind) {
    case 'redirect':
      return changePayment(env.db, env.clock, payment, { state: 'validating', patch: { ...extra, ...cleared, action: 'redirect', validate_uri: outcome.validate_uri, connector_data: data } });
    case 'decoupled':
      return changePayment(env.db, env.clock, payment, { state: 'validating', patch: { ...extra, ...cleared, action: 'decoupled', error_description: outcome.description, connector_data: data } });
    case 'fields':
      return changePayment(env.db, env.clock, payment, {
        state: 'validating',
        patch: { ...extra, ...cleared, action: 'additionalInformationNeeded', fields: JSON.stringify(outcome.fields), error_description: outcome.description ?? null, connector_data: data },
      });
    case 'psuValidation':
      return changePayment(env.db, env.clock, payment, { state: 'validating', patch: { ...extra, ...cleared, action: 'psuValidation', connector_data: data } });
    case 'cancelling':
      return changePayment(env.db, env.clock, payment, { patch: { ...extra, ...cleared, action: 'redirect', state_detail: 'cancelling', validate_uri: outcome.validate_uri, connector_data: data } });
    case 'refused':
      return changePayment(env.db, env.clock, payment, {
        state: 'rejected',
        patch: { ...extra, ...cleared, action: null, next_sync_at: null, connector_data: data, bank_status: outcome.bank_status ?? payment.bank_status, error_code: outcome.error_code, error_description: outcome.error_description },
        source,
      });
    case 'unknown':
      return changePayment(env.db, env.clock, payment, { patch: { ...extra, connector_data: data, state_detail: 'unknown' } });
    case 'state': {
      // partial_status_tracking: the bank gives no status past acceptance for these types.
      const tracking = connector?.descriptor.payment_settings.partial_status_tracking ?? [];
      const instructionStates = outcome.instructions?.map((s) => trackedOutcome(s, tracking, payment.execution_date_type));
      const state: PaymentState = instructionStates ? paymentStateOf(instructionStates) : trackedOutcome(outcome.state, tracking, payment.execution_date_type);
      // Manual confirmation (spec §13): a payment the payer validated waits for the client's confirm.
      if (
        source === 'interactive' && state !== 'rejected' && state !== 'partial' && (payment.state === 'created' || payment.state === 'validating') &&
        !outcome.data.no_confirmation && (await cachedConfig(env.db, payment.domain_id))['payment.auto_confirmation'] === '0'
      ) {
        return changePayment(env.db, env.clock, payment, {
          state: 'validating',
          patch: {
            ...extra, ...cleared, action: 'confirm', next_sync_at: null, bank_status: outcome.bank_status ?? null,
            connector_data: JSON.stringify({ ...outcome.data, confirm_outcome: { state: outcome.state, instructions: outcome.instructions ?? null, bank_status: outcome.bank_status ?? null } }),
          },
        });
      }
      return changePayment(env.db, env.clock, payment, {
        state,
        // After validation every instruction carries its state, even when the bank answers for the whole payment.
        ...(instructionStates ? { instructionStates } : { allInstructionsState: state }),
        patch: {
          ...extra, ...cleared, action: null, connector_data: data, bank_status: outcome.bank_status ?? null,
          error_code: state === 'partial' ? null : outcome.error_code ?? null, error_description: outcome.error_description ?? null,
        },
        detail: outcome.bank_status ? { bank_status: outcome.bank_status } : undefined,
        source,
      });
    }
  }
}

/** The client's answer to action confirm: the outcome the bank gave, or confirmationRefused. */
export async function confirmPayment(env: ActionEnvironment, domainId: number, paymentId: number, confirmed: boolean): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  requireAction(record.payment, 'confirm');
  const data = (record.payment.connector_data ? JSON.parse(record.payment.connector_data) : {}) as Record<string, unknown>;
  if (!confirmed) {
    return changePayment(env.db, env.clock, record.payment, {
      state: 'rejected',
      patch: { action: null, next_sync_at: null, error_code: 'confirmationRefused', error_description: 'The client refused the payment.' },
    });
  }
  const pending = (data.confirm_outcome ?? { state: 'pending', instructions: null, bank_status: null }) as {
    state: 'pending' | 'done' | 'accepted'; instructions: ('pending' | 'done' | 'accepted' | 'rejected')[] | null; bank_status: string | null;
  };
  const { confirm_outcome: _, ...rest } = data;
  return applyOutcome(env, record.payment, {
    kind: 'state', state: pending.state, bank_status: pending.bank_status, data: { ...rest, no_confirmation: true }, ...(pending.instructions ? { instructions: pending.instructions } : {}),
  });
}

/** What a connector sees of a payment row alone (for scheduling, which needs no instructions). */
function connectorPaymentOf(payment: PaymentRow): ConnectorPayment {
  return connectorPayment({ payment, instructions: [] });
}

export interface ValidateBody {
  validate_mechanism?: string | null;
  validation_mechanism?: string | null;
  webview_url?: string | null;
  connector_uuid?: string | null;
  id_connector?: number | null;
  fields?: Record<string, unknown> | null;
  website?: string | null;
  payer?: AccountInput | null;
  validated?: boolean | null;
}

/** The webview URL must be ours or on an origin the client registered a redirect URI for. */
function checkWebviewUrl(value: unknown, env: ActionEnvironment, redirectUris: readonly string[]): string {
  const { url, text } = parseHttpUrl(value, 'webview_url');
  const origins = new Set([new URL(env.baseUrl).origin, ...redirectUris.flatMap((u) => { try { return [new URL(u).origin]; } catch { return []; } })]);
  if (!origins.has(url.origin)) throw invalid('webview_url', "must be on Payrail's origin or on the origin of one of the client's redirect URIs");
  return text;
}

function stringFields(fields: Record<string, unknown> | null | undefined, at: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields ?? {})) {
    if (typeof value !== 'string') throw invalid(`${at}.${name}`, 'must be a string');
    out[name] = value;
  }
  return out;
}

/** created → validating: the payer chose a bank (PaymentValidateRequest). */
export async function validatePayment(env: ActionEnvironment, domainId: number, paymentId: number, body: ValidateBody, redirectUris: readonly string[]): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  const { payment } = record;
  if (payment.state !== 'created') throw new ApiError('invalidState', `the payment is ${payment.state}; only a created payment can be validated`);
  const webview_url = checkWebviewUrl(body.webview_url, env, redirectUris);
  const mechanism = body.validate_mechanism ?? body.validation_mechanism ?? 'webauth';

  let connector: Connector | undefined;
  if (body.connector_uuid) {
    connector = connectorByUuid(body.connector_uuid);
    if (!connector) throw invalid('connector_uuid', 'unknown connector');
  } else if (body.id_connector !== undefined && body.id_connector !== null) {
    connector = connectorById(body.id_connector);
    if (!connector) throw invalid('id_connector', 'unknown connector');
  } else if (payment.connector_uuid) {
    connector = connectorByUuid(payment.connector_uuid);
  }
  if (!connector) throw missing('connector_uuid');
  if (payment.connector_uuid && payment.connector_uuid !== connector.descriptor.uuid) {
    throw invalid('connector_uuid', 'the payment was created for another connector');
  }
  const settings = connector.descriptor.payment_settings;
  if (!settings.available_validate_mechanisms.some((m) => m === mechanism || (m === 'webauth' && mechanism.startsWith('webauth_')))) {
    throw invalid('validate_mechanism', `must be one of ${settings.available_validate_mechanisms.join(', ')}`);
  }

  let payerJson = payment.payer;
  let payerIdentification = payment.payer_identification;
  if (body.payer !== undefined && body.payer !== null) {
    if (payment.payer) throw invalid('payer', 'the payment already has a payer account');
    const payer = parseAccount(body.payer, 'payer', { labelRequired: false });
    payerJson = JSON.stringify(payer);
    payerIdentification = payer.identification;
  }
  if (!payerJson && settings.providing_payer_account === 'mandatory') throw missing('payer');

  const withPayer: PaymentRecord = { ...record, payment: { ...payment, payer: payerJson } };
  const reasons = compatibilityOf(withPayer, connector, env.clock.now());
  if (!isCompatible(reasons)) {
    const first = reasons.find((r) => r.type === 'incompatible')!;
    throw new ApiError('invalidValue', `connector_uuid: this bank cannot make this payment (${first.code}: ${first.description})`, { field: 'connector_uuid' });
  }
  const fields = stringFields(body.fields, 'fields');
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

  const connectorInput = connectorPayment(withPayer);
  connectorInput.data = null;
  const outcome = await connector.start(connectorInput, { fields, validate_mechanism: mechanism }, connectorContext(env));
  return applyOutcome(env, payment, outcome, {
    connector_uuid: connector.descriptor.uuid,
    id_connector: connector.descriptor.id,
    validate_mechanism: mechanism,
    webview_url,
    payer: payerJson,
    payer_identification: payerIdentification,
    website: typeof body.website === 'string' ? body.website.slice(0, 255) : payment.website,
  });
}

function checkFieldValue(field: PaymentField, value: string, at: string): void {
  if (field.type === 'list' && field.values && !field.values.some((v) => v.value === value)) {
    throw invalid(`${at}.${field.name}`, `must be one of ${field.values.map((v) => v.value).join(', ')}`);
  }
  if (field.regex && value !== '' && !new RegExp(field.regex).test(value)) throw invalid(`${at}.${field.name}`, 'has the wrong format');
  if (value.length > 1024) throw invalid(`${at}.${field.name}`, 'is too long');
}

function requireAction(payment: PaymentRow, action: string): void {
  if (payment.state !== 'validating' || payment.action !== action) {
    throw new ApiError('invalidState', `the payment is ${payment.state}${payment.action ? ` with action ${payment.action}` : ''}; this needs action ${action}`);
  }
}

export async function resumePayment(env: ActionEnvironment, domainId: number, paymentId: number): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  requireAction(record.payment, 'decoupled');
  const outcome = await connectorOf(record.payment).resume(connectorPayment(record), connectorContext(env));
  if (outcome.kind === 'decoupled' && outcome.description === record.payment.error_description) return record.payment; // still waiting: nothing changed
  return applyOutcome(env, record.payment, outcome);
}

export async function submitFields(env: ActionEnvironment, domainId: number, paymentId: number, values: Record<string, unknown>): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  requireAction(record.payment, 'additionalInformationNeeded');
  const asked = JSON.parse(record.payment.fields ?? '[]') as PaymentField[];
  const fields = stringFields(values, 'fields');
  for (const field of asked) {
    const value = fields[field.name];
    if (value === undefined || (field.required && value.trim() === '')) {
      if (field.required) throw missing(`fields.${field.name}`);
      continue;
    }
    checkFieldValue(field, value, 'fields');
  }
  const outcome = await connectorOf(record.payment).submitFields(connectorPayment(record), fields, connectorContext(env));
  return applyOutcome(env, record.payment, outcome);
}

export async function psuValidate(env: ActionEnvironment, domainId: number, paymentId: number, agreed: boolean): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  requireAction(record.payment, 'psuValidation');
  const outcome = await connectorOf(record.payment).psuValidate(connectorPayment(record), agreed, connectorContext(env));
  return applyOutcome(env, record.payment, outcome);
}

/** The payer came back from the bank page of a `redirect` action. */
export async function bankReturn(env: ActionEnvironment, paymentId: number, params: Record<string, string>): Promise<PaymentRow> {
  const payment = await env.db.selectFrom('payments').select('domain_id').where('id', '=', paymentId).executeTakeFirst();
  if (!payment) throw new ApiError('notFound', `payment ${paymentId} does not exist`);
  const record = await getPayment(env.db, payment.domain_id, paymentId);
  requireAction(record.payment, 'redirect');
  const outcome = await connectorOf(record.payment).bankReturn(connectorPayment(record), params, connectorContext(env));
  return applyOutcome(env, record.payment, outcome);
}

/** The payer cancelled inside the webview: created or validating → rejected, CancelledByUser. */
export async function cancelByPayer(env: ActionEnvironment, domainId: number, paymentId: number): Promise<PaymentRow> {
  const { payment } = await getPayment(env.db, domainId, paymentId);
  if (payment.state !== 'created' && payment.state !== 'validating') {
    throw new ApiError('invalidState', `the payment is ${payment.state}; the payer can no longer cancel it here`);
  }
  return changePayment(env.db, env.clock, payment, {
    state: 'rejected',
    patch: { action: null, validate_uri: null, fields: null, error_code: 'CancelledByUser', error_description: 'The payer cancelled the payment.' },
    detail: { by: 'payer' },
  });
}
