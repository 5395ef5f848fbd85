/**
 * Attempts at the bank (docs/banks.md, "The boundary"). A payment is the merchant's intent; every initiation of it at a
 * bank is one attempt row (`payment_attempts`): the bank, the bank's payment id, the connector's
 * data and sealed consent, the bank's raw status and the status-sync schedule. A fresh initiation
 * opens a new attempt and the old one stays as it was; the payment points at its current one.
 *
 * Every bank call is a `bank_calls` row of its attempt, written before the call (outcome
 * `pending`, its id is the X-Request-ID); its exchange-log row and its outcome — ok, refused,
 * unknown — are written in the transaction of the state change it led to (`settleCalls`): one
 * commit before the call, none of its own after it. A `pending` call older than its deadline is
 * what a crash between call and record leaves: unknown.
 *
 * The small API (an attempt is opened by the payment writer's claim, `claimInitiation`):
 * `currentAttempt`, `callBank`, `updateAttempt` / `recordAttempt`, `settleCalls`,
 * `attemptRecorder`, `sealConsent` / `openConsent`, and the readers for the exchange log.
 */
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { type AttemptRecorder, type CallRecord, createBankHttp } from '../connectors/kit/http.ts';
import type { BankHttp, Connector, ConnectorContext, ConnectorOutcome } from '../connectors/kit/types.ts';
import type { ConnectorRegistry } from '../connectors/registry.ts';
import type { AttemptRow, AttemptUpdate, CallRow, Database, PaymentRow } from '../store/schema.ts';
import { VersionConflict } from '../domain/errors.ts';
import { isPostgres } from '../store/db.ts';
import { precompile } from '../store/precompiled.ts';
import { openSecret, sealSecret, type Keyring } from './secret-box.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The attempt the payment follows now; null before its first initiation. */
export async function currentAttempt(db: Db, payment: Pick<PaymentRow, 'current_attempt_id'>): Promise<AttemptRow | null> {
  if (payment.current_attempt_id === null) return null;
  return (await db.selectFrom('payment_attempts').selectAll().where('id', '=', payment.current_attempt_id).executeTakeFirst()) ?? null;
}

/** An attempt's update, compiled once per set of columns (on every change's path). */
const updateAttemptColumns = precompile(
  (db, $, _shape: string, values: { set: (keyof AttemptUpdate & string)[] }) =>
    db.updateTable('payment_attempts').set($.row(values.set, '_a')).where('id', '=', $('id')),
  (values) => values.set.join(','),
);

export async function updateAttempt(db: Db, id: number, patch: AttemptUpdate): Promise<void> {
  const set = (Object.keys(patch) as (keyof AttemptUpdate & string)[]).filter((k) => patch[k] !== undefined);
  if (set.length === 0) return;
  const values: Record<string, unknown> = { id, set };
  for (const c of set) values[`${c}_a`] = patch[c];
  await updateAttemptColumns.execute(db, values as { set: typeof set });
}

/** An answer that changes nothing on the payment: the calls' outcomes and the attempt's new facts, together. */
export async function recordAttempt(
  db: Kysely<Database>,
  attemptId: number | null,
  patch: AttemptUpdate,
  calls: readonly CallRecord[],
  outcome: ConnectorOutcome | null,
): Promise<void> {
  if (calls.length === 0 && (attemptId === null || Object.keys(patch).length === 0)) return;
  await db.transaction().execute(async (trx) => {
    await settleCalls(trx, calls, outcome);
    if (attemptId !== null) await updateAttempt(trx, attemptId, patch);
  });
}

/** Seals secret consent data (a payer's token, a consent's key) on the attempt; never logged, never shown. */
export async function sealConsent(db: Db, keyring: Keyring, attemptId: number, value: Record<string, unknown>): Promise<void> {
  await updateAttempt(db, attemptId, { consent_sealed: sealSecret(keyring, JSON.stringify(value)) });
}

export function openConsent(keyring: Keyring, attempt: Pick<AttemptRow, 'consent_sealed'>): Record<string, unknown> | null {
  return attempt.consent_sealed ? (JSON.parse(openSecret(keyring, attempt.consent_sealed)) as Record<string, unknown>) : null;
}

/** What a call's row holds before it leaves: these, then `outcome` pending and nothing of its end yet. */
const CALL_START_COLUMNS = ['id', 'payment_id', 'attempt_id', 'bank_id', 'operation', 'started_at'] as const;
type CallStart = Parameters<AttemptRecorder['begin']>[0];

/**
 * A call's row, written only while its attempt is still `pending` (the fence below), compiled once
 * (on the hot path of every initiation: its query builder cost more CPU than the statement on SQLite).
 */
const insertFencedCall = precompile((db, $) =>
  db
    .insertInto('bank_calls')
    .columns([...CALL_START_COLUMNS, 'outcome'])
    .expression((eb) => {
      const claim = eb
        .selectFrom('payment_attempts')
        .select([...CALL_START_COLUMNS.map((c) => eb.val($(c)).as(c)), eb.val('pending').as('outcome')])
        .where('id', '=', $('attempt_id'))
        .where('outcome', '=', 'pending');
      return isPostgres(db) ? claim.forShare() : claim;
    }),
);

/**
 * Writes each bank call's row before it leaves. `fenced` (the calls of an initiation under a claim):
 * the row is written only while the attempt is still `pending`, read FOR SHARE on PostgreSQL, so a
 * claim the recovery pass ended (its attempt removed or made unknown, under FOR UPDATE) sends
 * nothing more, even from a process wrongly taken for dead: the call is refused before it leaves.
 */
export function attemptRecorder(db: Kysely<Database>, options: { fenced?: boolean } = {}): AttemptRecorder {
  return {
    async begin(row) {
      if (!options.fenced || row.attempt_id === null) {
        const values = { ...row, outcome: 'pending' as const, finished_at: null, http_status: null, bank_reference: null, raw_status: null, error: null };
        await db.insertInto('bank_calls').values(values).execute();
        return;
      }
      const inserted = await insertFencedCall.execute(db, row satisfies CallStart);
      if (Number(inserted.numAffectedRows ?? 0) === 0) throw new VersionConflict(row.payment_id);
    },
  };
}

/** `recorder`, calling `then` once each call's record is written (or refused), just before the call would leave. */
function thenCalling(recorder: AttemptRecorder, then?: () => void): AttemptRecorder {
  if (!then) return recorder;
  return {
    async begin(row) {
      try {
        await recorder.begin(row);
      } finally {
        then();
      }
    },
  };
}

/** What recording one call writes: its row's outcome and facts, and its exchange-log row. */
export interface CallSettlement {
  callId: string;
  call: {
    finished_at: number;
    http_status: number | null;
    error: string | null;
    outcome: CallRecord['outcome'];
    bank_reference: string | null;
    raw_status: string | null;
  };
  exchange: Insertable<Database['bank_exchanges']>;
}

/**
 * The settlement of each call of one operation: its exchange facts (time, status, redacted bodies:
 * the exchange-log row) and its outcome. The last call carries the connector's verdict (its
 * refused/unknown outcome, the bank's reference and raw status); earlier calls keep their HTTP
 * classification.
 */
export function callSettlements(calls: readonly CallRecord[], outcome: ConnectorOutcome | null): CallSettlement[] {
  return calls.map((call, i) => {
    const last = i === calls.length - 1;
    const verdict =
      last && outcome
        ? outcome.kind === 'refused'
          ? 'refused'
          : outcome.kind === 'unknown'
            ? 'unknown'
            : call.outcome === 'unknown'
              ? 'unknown'
              : call.outcome
        : call.outcome;
    const { exchange } = call;
    return {
      callId: call.callId,
      call: {
        finished_at: exchange.finished_at,
        http_status: exchange.status,
        error: exchange.error,
        outcome: verdict,
        bank_reference: last ? (outcome?.bank_reference ?? null) : null,
        raw_status: last && outcome && 'bank_status' in outcome ? (outcome.bank_status ?? null) : null,
      },
      exchange: {
        payment_id: call.paymentId,
        call_id: call.callId,
        bank_id: call.bankId,
        method: exchange.method,
        path: exchange.path,
        status: exchange.status,
        duration_ms: exchange.duration_ms,
        request_id: call.callId,
        request_body: exchange.request_body,
        response_body: exchange.response_body,
        error: exchange.error,
        created_at: exchange.finished_at,
      },
    };
  });
}

/**
 * Records each call of one operation (callSettlements) in the caller's transaction (the state
 * change the calls led to). A crash before this leaves the call `pending` without `finished_at`:
 * unknown, like a crash during the call.
 */
export async function settleCalls(db: Db, calls: readonly CallRecord[], outcome: ConnectorOutcome | null): Promise<void> {
  for (const settled of callSettlements(calls, outcome)) {
    await settleCall.execute(db, { ...settled.call, id: settled.callId });
    await insertExchange.execute(db, Object.fromEntries(EXCHANGE_COLUMNS.map((c) => [c, settled.exchange[c] ?? null])));
  }
}

/** What a call's settlement writes (its row's end, its exchange-log row): the columns, in the order the statements name them. */
export const CALL_COLUMNS = [
  'finished_at',
  'http_status',
  'error',
  'outcome',
  'bank_reference',
  'raw_status',
] as const satisfies readonly (keyof CallSettlement['call'])[];
export const EXCHANGE_COLUMNS = [
  'payment_id',
  'call_id',
  'bank_id',
  'method',
  'path',
  'status',
  'duration_ms',
  'request_id',
  'request_body',
  'response_body',
  'error',
  'created_at',
] as const satisfies readonly (keyof CallSettlement['exchange'])[];
const settleCall = precompile((db, $) => db.updateTable('bank_calls').set($.row(CALL_COLUMNS)).where('id', '=', $('id')));
const insertExchange = precompile((db, $) => db.insertInto('bank_exchanges').values($.row(EXCHANGE_COLUMNS)));

/** The attempts of one payment, first first. */
export async function listAttempts(db: Kysely<Database>, paymentId: number): Promise<AttemptRow[]> {
  return db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', paymentId).orderBy('number').execute();
}

/** Every bank call of one payment, oldest first. */
export async function listCalls(db: Kysely<Database>, paymentId: number): Promise<CallRow[]> {
  // Calls started in the same millisecond keep the order of their exchange rows.
  return db
    .selectFrom('bank_calls as c')
    .leftJoin('bank_exchanges as e', 'e.call_id', 'c.id')
    .selectAll('c')
    .where('c.payment_id', '=', paymentId)
    .orderBy('c.started_at')
    .orderBy('e.id')
    .execute();
}

export interface ExchangeView {
  id: number;
  /** The bank call (its X-Request-ID); named attempt_id in the exchange log's answer since before attempts were per initiation. */
  attempt_id: string | null;
  operation: string | null;
  outcome: string | null;
  bank_id: number | null;
  method: string;
  path: string;
  status: number | null;
  duration_ms: number;
  request_id: string;
  request_body: unknown;
  response_body: unknown;
  error: string | null;
  created_at: string;
  /** The number of the attempt (initiation) the call belongs to; null for a call outside one. */
  attempt: number | null;
}

function parseMaybe(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The stored exchange log of one payment, oldest first, bodies as stored (redacted JSON text), with each call's operation, outcome and attempt number. */
export function exchangeRows(db: Kysely<Database>, paymentId: number) {
  return db
    .selectFrom('bank_exchanges as e')
    .leftJoin('bank_calls as c', 'c.id', 'e.call_id')
    .leftJoin('payment_attempts as a', 'a.id', 'c.attempt_id')
    .select([
      'e.id',
      'e.call_id',
      'c.operation',
      'c.outcome',
      'e.bank_id',
      'e.method',
      'e.path',
      'e.status',
      'e.duration_ms',
      'e.request_id',
      'e.request_body',
      'e.response_body',
      'e.error',
      'e.created_at',
      'a.number',
    ])
    .where('e.payment_id', '=', paymentId)
    .orderBy('e.id')
    .execute();
}

/** The exchange log of one payment, oldest first, bodies parsed: what the exchange log's answer shows. */
export async function listExchanges(db: Kysely<Database>, paymentId: number): Promise<ExchangeView[]> {
  const rows = await exchangeRows(db, paymentId);
  return rows.map((r) => ({
    id: r.id,
    attempt_id: r.call_id,
    operation: r.operation ?? null,
    outcome: r.outcome ?? null,
    bank_id: r.bank_id,
    method: r.method,
    path: r.path,
    status: r.status,
    duration_ms: r.duration_ms,
    request_id: r.request_id,
    request_body: parseMaybe(r.request_body),
    response_body: parseMaybe(r.response_body),
    error: r.error,
    created_at: new Date(Number(r.created_at)).toISOString(),
    attempt: r.number === null || r.number === undefined ? null : Number(r.number),
  }));
}

/** What a bank call needs of the environment. */
export interface BankCallEnvironment {
  db: Kysely<Database>;
  clock: Clock;
  connectors: Pick<ConnectorRegistry, 'transportOf'>;
  /** Payrail's public URL: where a sandbox bank's endpoints are (`Connector.selfHosted`). */
  baseUrl?: string;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

/** What one connector operation did: its answer, and the bank calls it made (their outcomes are recorded with the answer). */
export interface Attempted {
  outcome: ConnectorOutcome | null;
  calls: CallRecord[];
}

/** The test bank has no HTTP: a connector without a transport that tries to call a bank is a bug. */
export const NO_HTTP: BankHttp = {
  async send() {
    throw new Error('this connector has no bank HTTP client');
  },
};

/**
 * Runs one connector operation of an attempt with the bank boundary in its context: every bank
 * call gets its record before it leaves, a deadline and an exchange-log row. A connector that
 * throws after a call went out leaves an unknown outcome (the bank may have acted); before any
 * call, the error.
 */
export async function callBank(
  env: BankCallEnvironment,
  connector: Connector,
  target: {
    paymentId: number;
    attemptId: number | null;
    data: Record<string, unknown> | null;
    /** The attempt is an initiation under a claim (`pending`): its calls are fenced (attemptRecorder). */
    claimed?: boolean;
    /** Called after each call's record is written (or refused), just before the call leaves: a validation's turn ends there (services/turns.ts). */
    recorded?: () => void;
  },
  context: (http: BankHttp) => ConnectorContext,
  run: (ctx: ConnectorContext) => Promise<ConnectorOutcome | null>,
): Promise<Attempted> {
  const transport = env.connectors.transportOf(connector, env.baseUrl);
  const http = transport
    ? createBankHttp({
        transport,
        recorder: thenCalling(attemptRecorder(env.db, { fenced: target.claimed === true }), target.recorded),
        clock: env.clock,
        paymentId: target.paymentId,
        attemptId: target.attemptId,
      })
    : Object.assign({ calls: [] as CallRecord[] }, NO_HTTP);
  try {
    return { outcome: await run(context(http)), calls: http.calls };
  } catch (error) {
    if (http.calls.length === 0) throw error;
    env.log?.('error', 'connector failed after calling the bank', { payment: target.paymentId, error: (error as Error).message });
    return { outcome: { kind: 'unknown', reason: `connector error: ${(error as Error).message}`.slice(0, 300), data: target.data ?? {} }, calls: http.calls };
  }
}
