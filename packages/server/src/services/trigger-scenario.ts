/**
 * `payrail trigger`: a payment on the test bank, driven to a chosen outcome through the same services
 * the API, the webview and status sync use, so every state change and webhook is the real one.
 * Only the payer and the passing of time are simulated: the payer's answers are given at once and
 * the test bank's scenario steps last milliseconds instead of Powens' 15 minutes.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import { validatePaymentRequest } from '../domain/payment-request.ts';
import { isFinal } from '../domain/states.ts';
import { OTP_CODE, TEST_CONNECTOR_UUID, testConnector } from '../connectors/test-connector.ts';
import type { Database, PaymentRow } from '../store/schema.ts';
import {
  applyOutcome,
  cancelPaymentByClient,
  bankReturn,
  confirmPayment,
  connectorContext,
  connectorPayment,
  loadTarget,
  resumePayment,
  submitFields,
  validatePayment,
  type ActionEnvironment,
} from './payment-actions.ts';
import { createPayment } from './payments.ts';
import type { Principal } from './tokens.ts';
import { readJson } from '../store/rows.ts';

interface Scenario {
  description: string;
  /** Test connector use case (`use_case_pay`). */
  useCase: string;
  /** Instruction labels: the legacy grammar decides each instruction's fate (`pdng/done - …`). */
  labels: string[];
  /** What the payer does once validation started. */
  payer: 'approve' | 'refuse' | 'otp' | 'account' | 'wait' | 'none';
  /** Cancel through the API instead of paying. */
  cancel?: boolean;
}

/** Outcomes that end with a background change (status sync) are announced in every webhook mode. */
export const SCENARIOS: Record<string, Scenario> = {
  done: {
    description: 'approved at the bank, pending, then done by status sync',
    useCase: 'legacy',
    labels: ['pdng/done - Payrail trigger'],
    payer: 'approve',
  },
  rejected: {
    description: 'approved at the bank, pending, then rejected by the bank (noSpecifiedReason)',
    useCase: 'legacy',
    labels: ['pdng/rjct - Payrail trigger'],
    payer: 'approve',
  },
  partial: {
    description: 'two instructions: one done, one rejected by the bank',
    useCase: 'legacy',
    labels: ['pdng/done - Payrail trigger 1', 'pdng/rjct - Payrail trigger 2'],
    payer: 'approve',
  },
  refused: { description: 'the payer refuses at the bank (rejected, CancelledByUser)', useCase: 'legacy', labels: ['Payrail trigger'], payer: 'refuse' },
  cancelled: {
    description: 'cancelled through the API before the payer pays (rejected, CancelledByClient)',
    useCase: 'legacy',
    labels: ['Payrail trigger'],
    payer: 'none',
    cancel: true,
  },
  redirect: { description: 'test connector use case "redirect": approved, done at once', useCase: 'redirect', labels: ['Payrail trigger'], payer: 'approve' },
  otp_sms: { description: `test connector use case "otp_sms": the SMS code ${OTP_CODE}, done`, useCase: 'otp_sms', labels: ['Payrail trigger'], payer: 'otp' },
  account_choice: {
    description: 'test connector use case "account_choice": the main account, done',
    useCase: 'account_choice',
    labels: ['Payrail trigger'],
    payer: 'account',
  },
  decoupled: {
    description: 'test connector use case "decoupled": approved in the app after ~10 s, done',
    useCase: 'decoupled',
    labels: ['Payrail trigger'],
    payer: 'wait',
  },
  decoupled_cancelled: {
    description: 'use case "decoupled_cancelled": cancelled in the app after ~10 s',
    useCase: 'decoupled_cancelled',
    labels: ['Payrail trigger'],
    payer: 'wait',
  },
  decoupled_expired: {
    description: 'use case "decoupled_expired": never approved, rejected after ~20 s',
    useCase: 'decoupled_expired',
    labels: ['Payrail trigger'],
    payer: 'wait',
  },
};

export interface TriggerOptions {
  scenario: string;
  amount: string;
  currency: string;
  /** Gives up (and says so) when the payment is not final by then. */
  timeoutMs: number;
  onChange?: (payment: PaymentRow) => void;
}

export interface TriggerResult {
  id: number;
  state: string;
  error_code: string | null;
  states: string[];
}

const BENEFICIARY = { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'Payrail test beneficiary' };
const TICK_MS = 100;

export async function triggerScenario(env: ActionEnvironment, principal: Principal, options: TriggerOptions): Promise<TriggerResult> {
  const scenario = SCENARIOS[options.scenario];
  if (!scenario)
    throw new ApiError('invalidValue', `unknown scenario "${options.scenario}"; one of ${Object.keys(SCENARIOS).join(', ')}`, { field: 'scenario' });
  const redirect = principal.redirectUris[0]!;
  const input = validatePaymentRequest(
    {
      client_redirect_uri: redirect,
      client_state: `trigger-${options.scenario}-${env.clock.now()}`,
      instructions: scenario.labels.map((label) => ({
        label,
        amount: options.amount,
        currency: options.currency,
        execution_date_type: 'instant',
        beneficiary: BENEFICIARY,
      })),
    },
    { nowMs: env.clock.now(), redirectUris: principal.redirectUris, connectors: await env.connectors.descriptors() },
  );
  const { record } = await createPayment(env.db, env.clock, principal, input, { showSensitive: false });
  const id = record.payment.id;
  const states: string[] = [record.payment.state];
  const seen = (payment: PaymentRow) => {
    if (states[states.length - 1] !== payment.state) {
      states.push(payment.state);
      options.onChange?.(payment);
    }
    return payment;
  };
  if (scenario.cancel) {
    seen(await cancelPaymentByClient(env, record, { client_redirect_uri: record.payment.client_redirect_uri }));
  } else {
    seen(
      (
        await validatePayment(
          env,
          principal.domainId,
          id,
          { connector_uuid: TEST_CONNECTOR_UUID, webview_url: redirect, fields: { use_case_pay: scenario.useCase } },
          principal.redirectUris,
        )
      ).payment,
    );
    await actAsPayer(env, principal.domainId, id, scenario, seen);
  }
  const final = await driveToFinal(env, principal.domainId, id, options.timeoutMs, seen);
  return { id, state: final.state, error_code: final.error_code, states };
}

async function actAsPayer(env: ActionEnvironment, domainId: number, id: number, scenario: Scenario, seen: (p: PaymentRow) => PaymentRow): Promise<void> {
  if (scenario.payer === 'approve' || scenario.payer === 'refuse') seen(await bankReturn(env, id, { decision: scenario.payer }));
  else if (scenario.payer === 'otp') seen(await submitFields(env, domainId, id, { openapisms: OTP_CODE }));
  else if (scenario.payer === 'account') seen(await submitFields(env, domainId, id, { account_id: 'main' }));
}

/**
 * Until the payment is final: the client's confirmation when the domain asks for it, the payer's
 * decoupled approval when it is due, status sync for pending payments (as a background change).
 */
async function driveToFinal(env: ActionEnvironment, domainId: number, id: number, timeoutMs: number, seen: (p: PaymentRow) => PaymentRow): Promise<PaymentRow> {
  // The wait is in real time whatever the payment clock says (a manual clock would never end it).
  const until = performance.now() + timeoutMs;
  for (;;) {
    const { record, attempt } = await loadTarget(env.db, domainId, id);
    const { payment } = record;
    if (isFinal(payment.state)) return seen(payment);
    if (performance.now() > until) throw new ApiError('invalidState', `payment ${id} is still ${payment.state} after ${Math.round(timeoutMs / 1000)} s`);
    try {
      if (payment.state === 'validating' && payment.action === 'confirm') seen(await confirmPayment(env, domainId, id, true));
      else if (payment.state === 'validating' && payment.action === 'decoupled') seen(await resumePayment(env, domainId, id));
      else if (payment.state === 'pending') {
        const outcome = await testConnector.status(connectorPayment(record, attempt), connectorContext(env));
        if (outcome) seen(await applyOutcome(env, payment, attempt, outcome, { attempt: { sync_locked_until: null }, source: 'background' }));
      }
    } catch (error) {
      // A status sync of the running server changed it first (version check): read it again.
      if (!(error instanceof ApiError && error.code === 'invalidState')) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
}

/** The principal a trigger acts as: a client of the domain (the first one unless named). */
export async function triggerPrincipal(db: Kysely<Database>, clock: Clock, domainId: number, clientId: string | undefined): Promise<Principal> {
  let q = db.selectFrom('clients').selectAll().where('domain_id', '=', domainId);
  if (clientId) q = q.where('client_id', '=', clientId);
  const client = await q.orderBy('id').executeTakeFirst();
  if (!client)
    throw new ApiError(
      'notFound',
      clientId ? `no client ${clientId} in this domain` : 'this domain has no client yet: create one with `payrail client create`',
      { field: 'client' },
    );
  const redirectUris = readJson(client.redirect_uris);
  return {
    tokenId: 0,
    clientRef: client.id,
    clientId: client.client_id,
    domainId,
    scopes: ['payments:admin'],
    paymentId: null,
    redirectUris,
    expiresAt: clock.now() + 60_000,
  };
}
