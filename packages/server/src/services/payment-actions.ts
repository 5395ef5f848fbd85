/**
 * The validation protocol (spec §3.2, §4.2–4.7) and the bank boundary's three steps (design §6):
 * CHECK (pure, payment-checks.ts) → ATTEMPT (the connector's bank calls, each with its attempt row
 * and deadline: `attempt`) → APPLY (the state change, with the attempts' outcomes recorded in the
 * same transaction: `applyOutcome`). An initiation is claimed before it is sent, so two processes
 * never send the same one; an unknown initiation is never re-sent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError, invalid, missing } from '../domain/errors.ts';
import type { ExecutionDateType, ExecutionFrequency } from '../domain/payment-request.ts';
import type { PaymentState } from '../domain/states.ts';
import { paymentStateOf, trackedOutcome } from '../domain/state-machine.ts';
import type { ConnectorRegistry } from '../connectors/registry.ts';
import { createBankHttp, type CallRecord } from '../connectors/kit/http.ts';
import type { BankHttp, Connector, ConnectorAccount, ConnectorContext, ConnectorOutcome, ConnectorPayment, PaymentField } from '../connectors/kit/types.ts';
import type { AccountInput } from '../domain/accounts.ts';
import type { Database, PaymentRow, PaymentUpdate } from '../store/schema.ts';
import { attemptRecorder, settleAttempts } from './attempts.ts';
import { changePayment } from './payment-changes.ts';
import {
  checkCanInitiate,
  checkCompatible,
  checkConnectorFields,
  checkFieldValue,
  checkMechanism,
  checkPayer,
  checkWebviewUrl,
  DETAIL,
  psuIpAddress,
  requireAction,
  stringFields,
} from './payment-checks.ts';
import { getPayment, type PaymentRecord } from './payments.ts';
import { cachedConfig } from './config.ts';
import type { WorkNotifier } from './work-notifier.ts';

export { compatibilityOf } from './payment-checks.ts';

export interface ActionEnvironment {
  db: Kysely<Database>;
  clock: Clock;
  /** Per-installation secret for signed URLs. */
  secret: string;
  baseUrl: string;
  testStepMs: number;
  connectors: ConnectorRegistry;
  /** Wakes the job loops when a change queues work (a webhook, a sync). */
  notifier: WorkNotifier;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

/** Which protocol step an outcome answers: it decides what `unknown` and `refused` mean. */
export type Operation = 'initiate' | 'return' | 'resume' | 'fields' | 'psu' | 'status' | 'cancel' | 'confirm';

export function sign(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

export function verifySignature(secret: string, value: string, signature: string): boolean {
  const expected = Buffer.from(sign(secret, value));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The payer's return from a bank: signed, bound to the payment (`TPP-Redirect-URI`, `TPP-Nok-Redirect-URI`). */
export function bankReturnUrls(env: Pick<ActionEnvironment, 'baseUrl' | 'secret'>, paymentId: number): { ok: string; nok: string } {
  const state = `${paymentId}.${sign(env.secret, `bank-return.${paymentId}`)}`;
  return { ok: `${env.baseUrl}/2.0/bank-return/ok?state=${state}`, nok: `${env.baseUrl}/2.0/bank-return/nok?state=${state}` };
}

/** The test bank has no HTTP: a connector without a transport that tries to call a bank is a bug. */
const NO_HTTP: BankHttp = {
  async send() {
    throw new Error('this connector has no bank HTTP client');
  },
};

export function connectorContext(
  env: Pick<ActionEnvironment, 'clock' | 'baseUrl' | 'testStepMs' | 'secret'>,
  paymentId = 0,
  http: BankHttp = NO_HTTP,
): ConnectorContext {
  return {
    now: env.clock.now(),
    clock: env.clock,
    baseUrl: env.baseUrl,
    testStepMs: env.testStepMs,
    sign: (value) => sign(env.secret, value),
    http,
    returnUrls: bankReturnUrls(env, paymentId),
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
      amount_minor: i.amount_minor,
      currency: i.currency,
      label: i.label,
      execution_date: i.execution_date,
      reference_id: i.reference_id,
      beneficiary: account(i.beneficiary)!,
      start_date: i.start_date,
      end_date: i.end_date,
      frequency: i.frequency as ExecutionFrequency | null,
    })),
    payer: account(payment.payer),
    psu_ip_address: payment.psu_ip_address ?? null,
    bank_payment_id: payment.bank_payment_id,
    data: payment.connector_data ? (JSON.parse(payment.connector_data) as Record<string, unknown>) : null,
  };
}

/** The payment's connector; a removed bank's too, so that its payments still finish. */
export async function connectorOf(env: ActionEnvironment, payment: PaymentRow): Promise<Connector> {
  const connector = payment.connector_uuid ? await env.connectors.byUuid(payment.connector_uuid, { any: true }) : undefined;
  if (!connector) throw new ApiError('invalidState', 'the payment has no connector yet');
  return connector;
}

// ---- ATTEMPT ----

export interface Attempted {
  outcome: ConnectorOutcome | null;
  calls: CallRecord[];
}

/**
 * Runs one connector operation with the bank boundary in its context: every bank call gets an
 * attempt row before it leaves, a deadline and an exchange-log row. A connector that throws after
 * a call went out leaves an unknown outcome (the bank may have acted); before any call, the error.
 */
export async function attempt(
  env: ActionEnvironment,
  connector: Connector,
  snapshot: ConnectorPayment,
  run: (ctx: ConnectorContext) => Promise<ConnectorOutcome | null>,
): Promise<Attempted> {
  const transport = env.connectors.transportOf(connector);
  const http = transport
    ? createBankHttp({ transport, recorder: attemptRecorder(env.db, (m, d) => env.log?.('error', m, d)), clock: env.clock, paymentId: snapshot.id })
    : Object.assign({ calls: [] as CallRecord[] }, NO_HTTP);
  try {
    return { outcome: await run(connectorContext(env, snapshot.id, http)), calls: http.calls };
  } catch (error) {
    if (http.calls.length === 0) throw error;
    env.log?.('error', 'connector failed after calling the bank', { payment: snapshot.id, error: (error as Error).message });
    return { outcome: { kind: 'unknown', reason: `connector error: ${(error as Error).message}`.slice(0, 300), data: snapshot.data ?? {} }, calls: http.calls };
  }
}

// ---- APPLY ----

const UNKNOWN_INITIATION_TEXT = 'Your bank did not confirm that it received this payment. Nothing will be sent again without you; its status is being checked.';
/** After an unknown status or cancellation answer, ask the bank again soon. */
const UNKNOWN_RETRY_MS = 5_000;

/** Records the attempts and reschedules the payment without changing its state (version unchanged, like status sync). */
async function recordWithoutChange(
  env: ActionEnvironment,
  payment: PaymentRow,
  calls: readonly CallRecord[],
  outcome: ConnectorOutcome | null,
  patch: PaymentUpdate,
): Promise<PaymentRow> {
  return env.db.transaction().execute(async (trx) => {
    await settleAttempts(trx, calls, outcome);
    if (Object.keys(patch).length === 0) return payment;
    const updated = await trx
      .updateTable('payments')
      .set(patch)
      .where('id', '=', payment.id)
      .where('version', '=', payment.version)
      .returningAll()
      .executeTakeFirst();
    return updated ?? payment;
  });
}

/** Turns a connector outcome into the payment's new state, action and fields; the calls' outcomes are recorded with it. */
export async function applyOutcome(
  env: ActionEnvironment,
  payment: PaymentRow,
  outcome: ConnectorOutcome,
  extraPatch: Partial<PaymentRow> = {},
  source: 'interactive' | 'background' = 'interactive',
  calls: readonly CallRecord[] = [],
  operation: Operation = 'return',
): Promise<PaymentRow> {
  const data = JSON.stringify(outcome.data);
  const uuid = extraPatch.connector_uuid ?? payment.connector_uuid;
  const connector = uuid ? await env.connectors.byUuid(uuid, { any: true }) : undefined;
  const final = outcome.kind === 'state' && outcome.state !== 'pending';
  const interval = connector
    ? connector.pollIntervalMs({ ...connectorPayment({ payment, instructions: [] }), data: outcome.data }, connectorContext(env))
    : 60_000;
  const extra: Partial<PaymentRow> = { ...extraPatch, next_sync_at: final ? null : env.clock.now() + interval };
  if (outcome.bank_reference) extra.bank_payment_id = outcome.bank_reference;
  const cleared = { validate_uri: null, fields: null, error_code: null, error_description: null, state_detail: null };
  const settle = (trx: Parameters<typeof settleAttempts>[0]) => settleAttempts(trx, calls, outcome);
  const change = (c: Parameters<typeof changePayment>[2]) => changePayment(env, payment, { ...c, also: settle });
  switch (outcome.kind) {
    case 'redirect':
      return change({ state: 'validating', patch: { ...extra, ...cleared, action: 'redirect', validate_uri: outcome.validate_uri, connector_data: data } });
    case 'decoupled':
      return change({
        state: 'validating',
        patch: { ...extra, ...cleared, action: 'decoupled', error_description: outcome.description, connector_data: data },
      });
    case 'fields':
      return change({
        state: 'validating',
        patch: {
          ...extra,
          ...cleared,
          action: 'additionalInformationNeeded',
          fields: JSON.stringify(outcome.fields),
          error_description: outcome.description ?? null,
          connector_data: data,
        },
      });
    case 'psuValidation':
      return change({ state: 'validating', patch: { ...extra, ...cleared, action: 'psuValidation', connector_data: data } });
    case 'cancelling':
      // Powens: the payment stays pending, state_detail cancelling, validate_uri for the payer.
      return change({
        patch: { ...extra, ...cleared, action: 'redirect', state_detail: DETAIL.cancelling, validate_uri: outcome.validate_uri, connector_data: data },
        detail: { cancellation: 'needs the payer' },
      });
    case 'unknown':
      if (operation === 'initiate') {
        // Never re-sent: the payment waits, the payer is told plainly, status sync asks what it can.
        return change({
          state: 'validating',
          patch: {
            ...extra,
            ...cleared,
            action: null,
            state_detail: DETAIL.initiationUnknown,
            error_description: UNKNOWN_INITIATION_TEXT,
            connector_data: data,
          },
          detail: { attempt: 'unknown', reason: outcome.reason },
        });
      }
      return recordWithoutChange(env, payment, calls, outcome, {
        connector_data: data,
        next_sync_at: env.clock.now() + Math.min(interval, UNKNOWN_RETRY_MS),
        sync_locked_until: null,
      });
    case 'refused':
      if (operation === 'status')
        return recordWithoutChange(env, payment, calls, outcome, { next_sync_at: env.clock.now() + interval, sync_locked_until: null });
      if (operation === 'cancel') {
        await recordWithoutChange(env, payment, calls, outcome, {});
        throw new ApiError('notSupported', 'Bad request, please check your request parameters.');
      }
      return change({
        state: 'rejected',
        patch: {
          ...extra,
          ...cleared,
          action: null,
          next_sync_at: null,
          connector_data: data,
          bank_status: outcome.bank_status ?? payment.bank_status,
          error_code: outcome.error_code,
          error_description: outcome.error_description,
        },
        detail: { bank_status: outcome.bank_status ?? null, refused: outcome.error_code },
        source,
      });
    case 'state': {
      // partial_status_tracking: the bank gives no status past acceptance for these types.
      const tracking = connector?.descriptor.payment_settings.partial_status_tracking ?? [];
      const instructionStates = outcome.instructions?.map((s) => trackedOutcome(s, tracking, payment.execution_date_type));
      const state: PaymentState = outcome.partial
        ? 'partial'
        : instructionStates
          ? paymentStateOf(instructionStates)
          : trackedOutcome(outcome.state, tracking, payment.execution_date_type);
      const bankStatus = outcome.bank_status !== undefined ? outcome.bank_status : payment.bank_status;
      // Manual confirmation (spec §13): a payment the payer validated waits for the client's confirm.
      if (
        source === 'interactive' &&
        state !== 'rejected' &&
        state !== 'partial' &&
        (payment.state === 'created' || payment.state === 'validating') &&
        !outcome.data.no_confirmation &&
        (await cachedConfig(env.db, payment.domain_id))['payment.auto_confirmation'] === '0'
      ) {
        return change({
          state: 'validating',
          patch: {
            ...extra,
            ...cleared,
            action: 'confirm',
            next_sync_at: null,
            bank_status: bankStatus,
            connector_data: JSON.stringify({
              ...outcome.data,
              confirm_outcome: { state: outcome.state, instructions: outcome.instructions ?? null, bank_status: outcome.bank_status ?? null },
            }),
          },
        });
      }
      return change({
        state,
        // After validation every instruction carries its state, even when the bank answers for the whole payment.
        ...(instructionStates ? { instructionStates } : { allInstructionsState: state }),
        patch: {
          ...extra,
          ...cleared,
          action: null,
          connector_data: data,
          bank_status: bankStatus,
          error_code: state === 'partial' ? null : (outcome.error_code ?? null),
          error_description: outcome.error_description ?? null,
        },
        detail: outcome.bank_status ? { bank_status: outcome.bank_status } : undefined,
        source,
      });
    }
  }
}

/** Applies an attempt; if the state change fails (a concurrent change), the calls' outcomes are still recorded. */
async function applyAttempt(
  env: ActionEnvironment,
  payment: PaymentRow,
  attempted: Attempted & { outcome: ConnectorOutcome },
  operation: Operation,
  extraPatch: Partial<PaymentRow> = {},
): Promise<PaymentRow> {
  try {
    return await applyOutcome(env, payment, attempted.outcome, extraPatch, 'interactive', attempted.calls, operation);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'notSupported')) await settleAttempts(env.db, attempted.calls, attempted.outcome).catch(() => undefined);
    throw error;
  }
}

/** The client's answer to action confirm: the outcome the bank gave, or confirmationRefused. */
export async function confirmPayment(env: ActionEnvironment, domainId: number, paymentId: number, confirmed: boolean): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  requireAction(record.payment, 'confirm');
  const data = (record.payment.connector_data ? JSON.parse(record.payment.connector_data) : {}) as Record<string, unknown>;
  if (!confirmed) {
    return changePayment(env, record.payment, {
      state: 'rejected',
      patch: { action: null, next_sync_at: null, error_code: 'confirmationRefused', error_description: 'The client refused the payment.' },
    });
  }
  const pending = (data.confirm_outcome ?? { state: 'pending', instructions: null, bank_status: null }) as {
    state: 'pending' | 'done' | 'accepted';
    instructions: ('pending' | 'done' | 'accepted' | 'rejected')[] | null;
    bank_status: string | null;
  };
  const { confirm_outcome: _, ...rest } = data;
  return applyOutcome(
    env,
    record.payment,
    {
      kind: 'state',
      state: pending.state,
      bank_status: pending.bank_status,
      data: { ...rest, no_confirmation: true },
      ...(pending.instructions ? { instructions: pending.instructions } : {}),
    },
    {},
    'interactive',
    [],
    'confirm',
  );
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

async function chosenConnector(env: ActionEnvironment, payment: PaymentRow, body: ValidateBody): Promise<Connector> {
  let connector: Connector | undefined;
  if (body.connector_uuid) {
    connector = await env.connectors.byUuid(body.connector_uuid);
    if (!connector) throw invalid('connector_uuid', 'unknown connector');
  } else if (body.id_connector !== undefined && body.id_connector !== null) {
    connector = await env.connectors.byId(body.id_connector);
    if (!connector) throw invalid('id_connector', 'unknown connector');
  } else if (payment.connector_uuid) {
    connector = await env.connectors.byUuid(payment.connector_uuid);
  }
  if (!connector) throw missing('connector_uuid');
  if (payment.connector_uuid && payment.connector_uuid !== connector.descriptor.uuid)
    throw invalid('connector_uuid', 'the payment was created for another connector');
  return connector;
}

/**
 * Claims the payment for one initiation: a guarded update (same version) marks it `initiating`.
 * Of two processes that read the same version, one claims it and the other gets invalidState,
 * so the bank never receives the same initiation twice from Payrail.
 */
async function claimInitiation(env: ActionEnvironment, payment: PaymentRow): Promise<PaymentRow> {
  const claimed = await env.db
    .updateTable('payments')
    .set({ state_detail: DETAIL.initiating, updated_at: env.clock.now(), version: payment.version + 1 })
    .where('id', '=', payment.id)
    .where('version', '=', payment.version)
    .returningAll()
    .executeTakeFirst();
  if (!claimed) throw new ApiError('invalidState', 'the payment changed meanwhile; read it again and retry');
  return claimed;
}

/** created → validating: the payer chose a bank (PaymentValidateRequest). `psuIp`: the payer's address, from our webview only. */
export async function validatePayment(
  env: ActionEnvironment,
  domainId: number,
  paymentId: number,
  body: ValidateBody,
  redirectUris: readonly string[],
  psuIp: string | null = null,
): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  const { payment } = record;
  // CHECK
  const connector = await chosenConnector(env, payment, body).catch((error) => {
    checkCanInitiate(payment, null, env.clock.now()); // the state error first, as before
    throw error;
  });
  checkCanInitiate(payment, connector, env.clock.now());
  const webview_url = checkWebviewUrl(body.webview_url, env.baseUrl, redirectUris);
  const mechanism = body.validate_mechanism ?? body.validation_mechanism ?? 'webauth';
  checkMechanism(connector, mechanism);
  const payer = checkPayer(payment, body.payer, connector);
  const payerJson = payer ? JSON.stringify(payer) : payment.payer;
  const withPayer: PaymentRecord = { ...record, payment: { ...payment, payer: payerJson, psu_ip_address: psuIpAddress(psuIp) } };
  checkCompatible(withPayer, connector, env.clock.now());
  const fields = checkConnectorFields(connector, body.fields);

  // ATTEMPT, after claiming the payment
  const claimed = await claimInitiation(env, payment);
  const snapshot = connectorPayment(withPayer);
  snapshot.data = null;
  snapshot.state_detail = null;
  let attempted: Attempted;
  try {
    attempted = await attempt(env, connector, snapshot, (ctx) => connector.start(snapshot, { fields, validate_mechanism: mechanism }, ctx));
  } catch (error) {
    // Nothing reached the bank: release the claim.
    await env.db
      .updateTable('payments')
      .set({ state_detail: payment.state_detail, version: claimed.version + 1 })
      .where('id', '=', payment.id)
      .where('version', '=', claimed.version)
      .execute();
    throw error;
  }
  // APPLY
  return applyAttempt(env, claimed, attempted as Attempted & { outcome: ConnectorOutcome }, 'initiate', {
    connector_uuid: connector.descriptor.uuid,
    id_connector: connector.descriptor.id,
    validate_mechanism: mechanism,
    webview_url,
    payer: payerJson,
    payer_identification: payer?.identification ?? payment.payer_identification,
    website: typeof body.website === 'string' ? body.website.slice(0, 255) : payment.website,
    psu_ip_address: withPayer.payment.psu_ip_address,
  });
}

export async function resumePayment(env: ActionEnvironment, domainId: number, paymentId: number): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  requireAction(record.payment, 'decoupled');
  const connector = await connectorOf(env, record.payment);
  const attempted = await attempt(env, connector, connectorPayment(record), (ctx) => connector.resume(connectorPayment(record), ctx));
  const outcome = attempted.outcome!;
  if (outcome.kind === 'decoupled' && outcome.description === record.payment.error_description && attempted.calls.length === 0) return record.payment; // still waiting: nothing changed
  return applyAttempt(env, record.payment, { outcome, calls: attempted.calls }, 'resume');
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
  const connector = await connectorOf(env, record.payment);
  const attempted = await attempt(env, connector, connectorPayment(record), (ctx) => connector.submitFields(connectorPayment(record), fields, ctx));
  return applyAttempt(env, record.payment, attempted as Attempted & { outcome: ConnectorOutcome }, 'fields');
}

export async function psuValidate(env: ActionEnvironment, domainId: number, paymentId: number, agreed: boolean): Promise<PaymentRow> {
  const record = await getPayment(env.db, domainId, paymentId);
  requireAction(record.payment, 'psuValidation');
  const connector = await connectorOf(env, record.payment);
  const attempted = await attempt(env, connector, connectorPayment(record), (ctx) => connector.psuValidate(connectorPayment(record), agreed, ctx));
  return applyAttempt(env, record.payment, attempted as Attempted & { outcome: ConnectorOutcome }, 'psu');
}

/** The payer came back from the bank page of a `redirect` action (a validation or, with state_detail cancelling, a cancellation). */
export async function bankReturn(env: ActionEnvironment, paymentId: number, params: Record<string, string>): Promise<PaymentRow> {
  const payment = await env.db.selectFrom('payments').select('domain_id').where('id', '=', paymentId).executeTakeFirst();
  if (!payment) throw new ApiError('notFound', `payment ${paymentId} does not exist`);
  const record = await getPayment(env.db, payment.domain_id, paymentId);
  const cancelling = record.payment.state === 'pending' && record.payment.state_detail === DETAIL.cancelling;
  if (!cancelling) requireAction(record.payment, 'redirect');
  const connector = await connectorOf(env, record.payment);
  const snapshot = connectorPayment(record);
  const attempted = await attempt(env, connector, snapshot, (ctx) => connector.bankReturn(snapshot, params, ctx));
  return applyAttempt(env, record.payment, attempted as Attempted & { outcome: ConnectorOutcome }, 'return');
}

/** The payer cancelled inside the webview: created or validating → rejected, CancelledByUser. */
export async function cancelByPayer(env: ActionEnvironment, domainId: number, paymentId: number): Promise<PaymentRow> {
  const { payment } = await getPayment(env.db, domainId, paymentId);
  if (payment.state !== 'created' && payment.state !== 'validating') {
    throw new ApiError('invalidState', `the payment is ${payment.state}; the payer can no longer cancel it here`);
  }
  return changePayment(env, payment, {
    state: 'rejected',
    patch: {
      action: null,
      validate_uri: null,
      fields: null,
      state_detail: null,
      error_code: 'CancelledByUser',
      error_description: 'The payer cancelled the payment.',
    },
    detail: { by: 'payer' },
  });
}

/**
 * Cancellation by the client (spec §12): a created or validating payment is rejected here; a
 * pending one is cancelled at the bank through its connector (done, or `cancelling` while the
 * payer approves at the bank); the bank's refusal is Powens' `notSupported`.
 */
export async function cancelPayment(
  env: ActionEnvironment,
  record: PaymentRecord,
  path: 'local' | 'bank',
  redirect: { client_redirect_uri: string; client_state: string | null | undefined },
): Promise<PaymentRow> {
  const { payment } = record;
  if (path === 'local') {
    return changePayment(env, payment, {
      state: 'rejected',
      patch: {
        action: null,
        validate_uri: null,
        fields: null,
        state_detail: null,
        error_code: 'CancelledByClient',
        error_description: 'The payment was cancelled through the API.',
      },
      detail: { by: 'client' },
    });
  }
  const connector = await connectorOf(env, payment);
  const snapshot = connectorPayment(record);
  const attempted = await attempt(env, connector, snapshot, (ctx) => connector.cancel(snapshot, ctx));
  // The payer, if asked to approve at the bank, comes back to the cancellation's redirect URI.
  const extra: Partial<PaymentRow> = {
    client_redirect_uri: redirect.client_redirect_uri,
    ...(redirect.client_state !== undefined ? { client_state: redirect.client_state } : {}),
  };
  const outcome = attempted.outcome!;
  if (outcome.kind === 'unknown') {
    // Asked again by status sync; the DELETE is idempotent at the bank, so the client may repeat it.
    return applyAttempt(env, payment, { outcome, calls: attempted.calls }, 'cancel');
  }
  return applyAttempt(env, payment, { outcome, calls: attempted.calls }, 'cancel', outcome.kind === 'cancelling' ? extra : {});
}
