/**
 * Powens' test connector ("Connecteur de test", docs/reference/powens-pay-api.md §8), with its UUID and every scenario:
 * `use_case_pay` values and the legacy label grammar (`pdng/done - My label`). Its simulated bank
 * page is served by Payrail (src/http/routes/testbank.ts). Times come from the context's clock.
 */
import { cancelledByClient } from './kit/cancellation.ts';
import type { Connector, ConnectorContext, ConnectorOutcome, ConnectorPayment, PaymentField, PaymentSettings } from './types.ts';

export const TEST_CONNECTOR_UUID = '338178e6-3d01-564f-9a7b-52ca442459bf';

export const USE_CASES = [
  'legacy',
  'redirect',
  'redirect_no_confirmation',
  'decoupled',
  'decoupled_cancelled',
  'decoupled_expired',
  'otp_sms',
  'otp_plus_decoupled',
  'account_choice',
] as const;
export type UseCase = (typeof USE_CASES)[number];

/** Decoupled approvals complete ≈10 s after they start; an expiring one after ≈20 s. */
export const DECOUPLED_DELAY_MS = 10_000;
export const DECOUPLED_EXPIRY_MS = 20_000;
export const OTP_CODE = '1234';

export const TEST_SETTINGS: PaymentSettings = {
  available_validate_mechanisms: ['webauth'],
  beneficiary_types: ['iban', 'sort_code_account_number'],
  execution_date_types: ['first_open_day', 'instant', 'deferred', 'periodic'],
  execution_frequencies: ['daily', 'weekly', 'two-weekly', 'monthly', 'two-monthly', 'quarterly', 'four-monthly', 'semiannually', 'yearly'],
  maximum_number_of_instructions: 100,
  providing_payer_account: 'optional',
  partial_status_tracking: [],
  is_app_to_app_used: { android: false, ios: false },
  bank_provides_payer_account: false,
  bank_provides_payer_label: false,
  transfer_date_types_where_trusted_beneficiary_required: [],
  cancellation_available: true,
  minimum_amount: { first_open_day: '0.01', instant: '0.01', deferred: '0.01', periodic: '0.01' },
  maximum_amount: null,
  minimum_date_delta_days: 1,
  maximum_date_delta_days: 365,
  currencies: ['EUR', 'GBP'],
  bulk_execution_date_types: ['first_open_day', 'instant', 'deferred'],
  bulk_providing_payer_account: 'optional',
  trusted_beneficiaries_required_for_bulk: false,
};

const useCaseField: PaymentField = {
  name: 'use_case_pay',
  type: 'list',
  label: 'Use case',
  required: false,
  regex: null,
  auth_mechanisms: ['webauth'],
  values: USE_CASES.map((value) => ({ label: value, value })),
};

const OTP_FIELD: PaymentField = {
  name: 'openapisms',
  type: 'text',
  label: `Enter the code received by SMS (code = ${OTP_CODE})`,
  required: true,
  regex: '^[0-9]{4,8}$',
  default: null,
};
const ACCOUNT_FIELD: PaymentField = {
  name: 'account_id',
  type: 'list',
  label: 'Choose the account to pay from',
  required: true,
  regex: null,
  default: null,
  values: [
    { label: 'Main account', value: 'main' },
    { label: 'Second account', value: 'snd' },
  ],
};

/** Legacy scenario: the first instruction's label, text before the first '-', as up to 3 '/'-separated tokens. */
const TOKENS = { pdng: 'pending', canc: 'rejected', rjct: 'rejected', err: 'rejected', bug: 'rejected', done: 'done' } as const;
type Token = keyof typeof TOKENS;
const TOKEN_ERRORS: Partial<Record<Token, [string, string]>> = {
  canc: ['CancelledByUser', 'The payment was cancelled by the user at the bank.'],
  rjct: ['noSpecifiedReason', 'The bank rejected the payment.'],
  err: ['invalidAmount', 'The bank rejected the payment: invalid amount.'],
  bug: ['bug', 'An error occurred during the initiation of the payment.'],
};

export function legacyScenario(label: string): Token[] {
  return explicitScenario(label) ?? ['done'];
}

/** The label's own tokens, or null when it names none (a plain label). */
function explicitScenario(label: string): Token[] | null {
  const head = label.split('-')[0]!.trim().toLowerCase();
  const tokens = head
    .split('/')
    .map((t) => t.trim())
    .filter((t): t is Token => Object.hasOwn(TOKENS, t))
    .slice(0, 3);
  if (tokens.length === 0) return null;
  const last = tokens[tokens.length - 1]!;
  return TOKENS[last] === 'pending' ? [...tokens, 'done'] : tokens;
}

/**
 * Powens reads the first instruction's label for the whole payment: every instruction follows it.
 * Payrail extension, to let a sandbox show `partial`: a later instruction whose own label names
 * tokens follows those instead (plain labels, as Powens' guides write them, follow the first).
 */
export function bulkScenario(labels: readonly string[]): Token[][] {
  const first = legacyScenario(labels[0] ?? '');
  return labels.map((label, i) => (i === 0 ? first : (explicitScenario(label) ?? first)));
}

/**
 * The state at `step` of each instruction's scenario (see bulkScenario). The core derives the
 * payment's state, `partial` included, from these.
 */
function stepOutcome(tokensByInstruction: Token[][], data: Record<string, unknown>, step: number): ConnectorOutcome {
  const tokens = tokensByInstruction.map((t) => t[Math.min(step, t.length - 1)]!);
  const states = tokens.map((t) => TOKENS[t]);
  const rejectedBy = tokens.find((t) => TOKENS[t] === 'rejected');
  const error = rejectedBy ? TOKEN_ERRORS[rejectedBy] : undefined;
  const state = states.includes('pending') ? 'pending' : states.every((s) => s === 'rejected') ? 'rejected' : 'done';
  return {
    kind: 'state',
    state,
    instructions: states,
    error_code: error?.[0] ?? null,
    error_description: error?.[1] ?? null,
    bank_status: `TEST_${tokens.map((t) => t.toUpperCase()).join('_')}_${step}`,
    data,
  };
}

function stepMs(payment: ConnectorPayment, ctx: ConnectorContext): number {
  return payment.execution_date_type === 'instant' ? Math.max(1, Math.round(ctx.testStepMs / 60)) : ctx.testStepMs;
}

export function bankPageUri(payment: ConnectorPayment, ctx: ConnectorContext, purpose: string): string {
  const value = `${payment.id}.${purpose}`;
  return `${ctx.baseUrl}/2.0/testbank/authorize?payment=${payment.id}&purpose=${purpose}&sig=${ctx.sign(value)}`;
}

/** Powens' form for the redirect use cases: visiting the URL is the approval. */
function webauthCallbackUri(payment: ConnectorPayment, ctx: ConnectorContext): string {
  const state = `${payment.id}.${ctx.sign(`webauth.${payment.id}`)}`;
  return `${ctx.baseUrl}/2.0/webauth/callback?state=${state}&authFactorValue=AUTHENTICATION_VALIDATED`;
}

function afterApproval(useCase: UseCase, payment: ConnectorPayment, ctx: ConnectorContext, data: Record<string, unknown>): ConnectorOutcome {
  if (useCase === 'redirect_no_confirmation') data = { ...data, no_confirmation: true };
  if (useCase === 'legacy') {
    const tokens = bulkScenario(payment.instructions.map((i) => i.label));
    return stepOutcome(tokens, { ...data, tokens, approved_at: ctx.now, step: 0 }, 0);
  }
  return { kind: 'state', state: 'done', bank_status: 'ACSC', data: { ...data, approved_at: ctx.now } };
}

/**
 * A periodic payment the bank accepted is a standing order: `pending` while active, not `done`
 * (docs/reference/powens-pay-api.md §11). Its occurrences are executed by Payrail's schedule (services/standing-orders.ts).
 */
function standingOrder(payment: ConnectorPayment, outcome: ConnectorOutcome): ConnectorOutcome {
  if (payment.execution_date_type !== 'periodic' || outcome.kind !== 'state' || outcome.state !== 'done') return outcome;
  return {
    ...outcome,
    state: 'pending',
    bank_status: 'ACTC',
    data: { ...outcome.data, standing_order: true },
    ...(outcome.instructions ? { instructions: outcome.instructions.map((s) => (s === 'done' ? 'pending' : s)) } : {}),
  };
}

function decoupled(data: Record<string, unknown>, ctx: ConnectorContext): ConnectorOutcome {
  return { kind: 'decoupled', description: 'Please confirm the transaction in the phone app.', data: { ...data, decoupled_since: ctx.now } };
}

/**
 * Cancellation of a pending payment: immediate, or, when the first instruction's label contains
 * `cancel_approval`, the payer must approve it on the test bank's page (`state_detail: cancelling`).
 */
export const CANCEL_APPROVAL_MARK = 'cancel_approval';

function cancelled(data: Record<string, unknown>, ctx: ConnectorContext): ConnectorOutcome {
  const { tokens: _scenario, ...rest } = data; // a cancelled payment's scenario stops
  return cancelledByClient({ ...rest, cancelled_at: ctx.now });
}

const baseConnector: Connector = {
  bank: null,
  descriptor: {
    id: 40,
    uuid: TEST_CONNECTOR_UUID,
    name: 'Connecteur de test',
    slug: 'test',
    hidden: false,
    beta: false,
    color: '0b6bcb',
    countries: ['FR', 'BE', 'DE', 'ES', 'IT', 'NL', 'PT', 'GB'],
    products: ['pay'],
    capabilities: ['transfer', 'onetimepayment'],
    payment_settings: TEST_SETTINGS,
    payment_fields: [useCaseField],
  },

  async start(payment, input, ctx) {
    const raw = input.fields.use_case_pay ?? 'legacy';
    const useCase: UseCase = (USE_CASES as readonly string[]).includes(raw) ? (raw as UseCase) : 'legacy';
    const data = { use_case: useCase };
    switch (useCase) {
      case 'legacy':
        return { kind: 'redirect', validate_uri: bankPageUri(payment, ctx, 'validate'), data };
      case 'redirect':
      case 'redirect_no_confirmation':
        return { kind: 'redirect', validate_uri: webauthCallbackUri(payment, ctx), data };
      case 'decoupled':
      case 'decoupled_cancelled':
      case 'decoupled_expired':
        return decoupled(data, ctx);
      case 'otp_sms':
      case 'otp_plus_decoupled':
        return { kind: 'fields', fields: [OTP_FIELD], data };
      case 'account_choice':
        return { kind: 'fields', fields: [ACCOUNT_FIELD], data };
    }
  },

  async bankReturn(payment, params, ctx) {
    const data = payment.data ?? {};
    if (payment.state_detail === 'cancelling') {
      if (params.decision === 'approve') return cancelled(data, ctx);
      return { kind: 'state', state: 'pending', data: { ...data, cancel_refused_at: ctx.now } };
    }
    const useCase = (data.use_case as UseCase) ?? 'legacy';
    if (params.decision === 'refuse') {
      return {
        kind: 'state',
        state: 'rejected',
        error_code: 'CancelledByUser',
        error_description: 'The payment was refused by the user at the bank.',
        bank_status: 'RJCT',
        data,
      };
    }
    if (params.decision !== 'approve') return { kind: 'redirect', validate_uri: bankPageUri(payment, ctx, 'validate'), data };
    return afterApproval(useCase, payment, ctx, data);
  },

  async resume(payment, ctx) {
    const data = payment.data ?? {};
    const since = Number(data.decoupled_since ?? ctx.now);
    const useCase = data.use_case as UseCase;
    const elapsed = ctx.now - since;
    if (useCase === 'decoupled_expired') {
      if (elapsed < DECOUPLED_EXPIRY_MS) return { kind: 'decoupled', description: 'Please confirm the transaction in the phone app.', data };
      return {
        kind: 'state',
        state: 'rejected',
        error_code: 'authenticationFailed',
        error_description: 'The decoupled validation has expired.',
        bank_status: 'RJCT',
        data,
      };
    }
    if (elapsed < DECOUPLED_DELAY_MS) return { kind: 'decoupled', description: 'Please confirm the transaction in the phone app.', data };
    if (useCase === 'decoupled_cancelled') {
      return {
        kind: 'state',
        state: 'rejected',
        error_code: 'CancelledByUser',
        error_description: 'The PSU cancelled the payment on the decoupled channel.',
        bank_status: 'RJCT',
        data,
      };
    }
    return { kind: 'state', state: 'done', bank_status: 'ACSC', data: { ...data, approved_at: ctx.now } };
  },

  async submitFields(payment, fields, ctx) {
    const data = payment.data ?? {};
    const useCase = data.use_case as UseCase;
    if (useCase === 'account_choice') {
      if (fields.account_id === 'main') return { kind: 'state', state: 'done', bank_status: 'ACSC', data: { ...data, approved_at: ctx.now } };
      return {
        kind: 'state',
        state: 'rejected',
        error_code: 'invalidEmitter',
        error_description: 'Please select the main account.',
        bank_status: 'RJCT',
        data,
      };
    }
    if (fields.openapisms !== OTP_CODE) {
      return { kind: 'state', state: 'rejected', error_code: 'authenticationFailed', error_description: 'The SMS code is wrong.', bank_status: 'RJCT', data };
    }
    if (useCase === 'otp_plus_decoupled') return decoupled(data, ctx);
    return { kind: 'state', state: 'done', bank_status: 'ACSC', data: { ...data, approved_at: ctx.now } };
  },

  async psuValidate(payment, agreed, ctx) {
    const data = payment.data ?? {};
    if (!agreed)
      return { kind: 'state', state: 'rejected', error_code: 'CancelledByUser', error_description: 'The PSU declined the payment.', bank_status: 'RJCT', data };
    return afterApproval((data.use_case as UseCase) ?? 'legacy', payment, ctx, data);
  },

  async cancel(payment, ctx) {
    const data = payment.data ?? {};
    if (payment.instructions[0]?.label.includes(CANCEL_APPROVAL_MARK)) {
      return { kind: 'cancelling', validate_uri: bankPageUri(payment, ctx, 'cancel'), data: { ...data, cancel_requested_at: ctx.now } };
    }
    return cancelled(data, ctx);
  },

  /** A quarter of a scenario step, between 100 ms and one minute. */
  pollIntervalMs(payment, ctx) {
    return Math.min(60_000, Math.max(100, Math.round(stepMs(payment, ctx) / 4)));
  },

  /** Legacy scenarios move one token per step after approval (15 min first open day, 15 s instant). */
  async status(payment, ctx) {
    const data = payment.data ?? {};
    const tokens = data.tokens as Token[][] | undefined;
    if (!Array.isArray(tokens) || !Array.isArray(tokens[0]) || typeof data.approved_at !== 'number') return null;
    const last = Math.max(...tokens.map((t) => t.length)) - 1;
    // A deferred payment executes on its execution date: its scenario starts then, not at approval.
    const executionDate = payment.execution_date_type === 'deferred' ? payment.instructions[0]?.execution_date : null;
    const start = executionDate ? Math.max(data.approved_at, Date.parse(`${executionDate}T00:00:00Z`)) : data.approved_at;
    if (ctx.now < start + stepMs(payment, ctx)) return null;
    const step = Math.min(last, Math.floor((ctx.now - start) / stepMs(payment, ctx)));
    const current = Number(data.step ?? 0);
    if (step <= current) return null;
    return stepOutcome(tokens, { ...data, step }, step);
  },
};

/** The connector with the standing-order rule applied to every answer that can approve a payment. */
export const testConnector: Connector = {
  ...baseConnector,
  bankReturn: async (payment, params, ctx) => standingOrder(payment, await baseConnector.bankReturn(payment, params, ctx)),
  resume: async (payment, ctx) => standingOrder(payment, await baseConnector.resume(payment, ctx)),
  submitFields: async (payment, fields, ctx) => standingOrder(payment, await baseConnector.submitFields(payment, fields, ctx)),
  psuValidate: async (payment, agreed, ctx) => standingOrder(payment, await baseConnector.psuValidate(payment, agreed, ctx)),
  status: async (payment, ctx) => {
    const outcome = await baseConnector.status(payment, ctx);
    return outcome ? standingOrder(payment, outcome) : null;
  },
};
