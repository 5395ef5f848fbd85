/**
 * What every payment action shares: its environment, the connector's view of a payment and its
 * current attempt, and the bank call of an attempt (services/attempts.ts runs it).
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../domain/clock.ts';
import { ApiError } from '../../domain/errors.ts';
import type { ConnectorRegistry } from '../../connectors/registry.ts';
import type { BankHttp, Connector, ConnectorAccount, ConnectorContext, ConnectorOutcome, ConnectorPayment } from '../../connectors/kit/types.ts';
import type { AttemptRow, Database, PaymentRow } from '../../store/schema.ts';
import { type Attempted, callBank, currentAttempt, NO_HTTP } from '../attempts.ts';
import { getPayment, type PaymentRecord } from '../payments.ts';
import { bankReturnUrls, sign } from '../signed-urls.ts';
import { consentVault } from '../consent-vault.ts';
import { readJson } from '../../store/rows.ts';
import { NO_TURN, type Turn, type TurnPhase, type ValidationTurns } from '../turns.ts';
import type { WorkNotifier } from '../work-notifier.ts';

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
  /** Validations' turns before and after their bank call (services/turns.ts); none: no turns (jobs, the CLI). */
  turns?: ValidationTurns;
  /** This process's id (services/instances.ts), recorded on the claims it makes; null when it registered none (tests, the CLI). */
  instanceId?: string | null;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

/** The caller's turn in the lane of `phase` (services/turns.ts), or at once when the environment has no turns. */
export function takeTurn(env: Pick<ActionEnvironment, 'turns'>, phase: TurnPhase): Promise<Turn> {
  return env.turns ? env.turns[phase].take() : Promise.resolve(NO_TURN);
}

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
    vault: consentVault(env.secret),
  };
}

function account(json: string | null): ConnectorAccount | null {
  if (!json) return null;
  const a = JSON.parse(json) as {
    scheme_name: string;
    identification: string;
    label?: string | null;
    issuer?: string | null;
    bic?: string | null;
    postal_address?: ConnectorAccount['postal_address'];
  };
  return {
    scheme_name: a.scheme_name,
    identification: a.identification,
    label: a.label ?? null,
    bic: a.bic ?? a.issuer ?? null,
    ...(a.postal_address ? { postal_address: a.postal_address } : {}),
  };
}

/** The connector's view of a payment and of its current attempt (the bank's id, the connector's data). */
export function connectorPayment(record: PaymentRecord, attempt: AttemptRow | null = null): ConnectorPayment {
  const { payment, instructions } = record;
  return {
    id: payment.id,
    state: payment.state,
    action: payment.action,
    state_detail: payment.state_detail,
    execution_date_type: payment.execution_date_type,
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
      frequency: i.frequency,
    })),
    payer: account(payment.payer),
    psu_ip_address: payment.psu_ip_address ?? null,
    bank_payment_id: attempt ? attempt.bank_payment_id : payment.bank_payment_id,
    data: attempt?.connector_data ? readJson(attempt.connector_data) : null,
    consent: attempt?.consent_sealed ?? null,
  };
}

/** A payment, its instructions and its current attempt, as an action reads them. */
export interface ActionTarget {
  record: PaymentRecord;
  attempt: AttemptRow | null;
}

export async function loadTarget(db: Kysely<Database>, domainId: number, paymentId: number): Promise<ActionTarget> {
  const record = await getPayment(db, domainId, paymentId);
  return { record, attempt: await currentAttempt(db, record.payment) };
}

/** The payment's connector; a removed bank's too, so that its payments still finish. */
export async function connectorOf(env: ActionEnvironment, payment: PaymentRow): Promise<Connector> {
  const connector = payment.connector_uuid ? await env.connectors.byUuid(payment.connector_uuid, { any: true }) : undefined;
  if (!connector) throw new ApiError('invalidState', 'the payment has no connector yet');
  return connector;
}

/** Runs one connector operation for the payment's attempt (each bank call recorded before it leaves; `recorded` hears when each record is written). */
export function atBank(
  env: ActionEnvironment,
  connector: Connector,
  snapshot: ConnectorPayment,
  attempt: AttemptRow | null,
  run: (ctx: ConnectorContext) => Promise<ConnectorOutcome | null>,
  recorded?: () => void,
): Promise<Attempted> {
  return callBank(
    env,
    connector,
    { paymentId: snapshot.id, attemptId: attempt?.id ?? null, data: snapshot.data, claimed: attempt?.outcome === 'pending', ...(recorded ? { recorded } : {}) },
    (http) => connectorContext(env, snapshot.id, http),
    run,
  );
}
