/**
 * Attempt records and the exchange log (design §6). An attempt row is written before every bank
 * call (outcome `pending`), its exchange facts when the call ends, and its outcome — ok, refused,
 * unknown — in the transaction of the state change it led to (`settleAttempts`). A `pending`
 * attempt older than its deadline is what a crash between call and record leaves: unknown.
 */
import type { Kysely, Transaction } from 'kysely';
import type { AttemptRecorder, CallRecord } from '../connectors/kit/http.ts';
import type { ConnectorOutcome } from '../connectors/kit/types.ts';
import type { AttemptRow, Database } from '../store/schema.ts';

export function attemptRecorder(db: Kysely<Database>, log?: (msg: string, data: Record<string, unknown>) => void): AttemptRecorder {
  return {
    async begin(row) {
      await db
        .insertInto('payment_attempts')
        .values({ ...row, outcome: 'pending', finished_at: null, http_status: null, bank_reference: null, raw_status: null, error: null })
        .execute();
    },
    async end(row) {
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('payment_attempts')
            .set({ finished_at: row.finished_at, http_status: row.status, error: row.error })
            .where('id', '=', row.attempt_id)
            .execute();
          await trx
            .insertInto('bank_exchanges')
            .values({
              payment_id: row.payment_id,
              attempt_id: row.attempt_id,
              bank_id: row.bank_id,
              method: row.method,
              path: row.path,
              status: row.status,
              duration_ms: row.duration_ms,
              request_id: row.attempt_id,
              request_body: row.request_body,
              response_body: row.response_body,
              error: row.error,
              created_at: row.finished_at,
            })
            .execute();
        });
      } catch (error) {
        // The call is done; losing its log line must not turn its answer into a failure.
        log?.('exchange log write failed', { attempt: row.attempt_id, error: (error as Error).message });
      }
    },
  };
}

/**
 * Records the outcome of each call of one operation. The last call carries the connector's
 * verdict (its refused/unknown outcome, the bank's reference and raw status); earlier calls keep
 * their HTTP classification.
 */
export async function settleAttempts(
  db: Kysely<Database> | Transaction<Database>,
  calls: readonly CallRecord[],
  outcome: ConnectorOutcome | null,
): Promise<void> {
  for (const [i, call] of calls.entries()) {
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
    await db
      .updateTable('payment_attempts')
      .set({
        outcome: verdict,
        bank_reference: last ? (outcome?.bank_reference ?? null) : null,
        raw_status: last && outcome && 'bank_status' in outcome ? (outcome.bank_status ?? null) : null,
      })
      .where('id', '=', call.attemptId)
      .execute();
  }
}

export async function listAttempts(db: Kysely<Database>, paymentId: number): Promise<AttemptRow[]> {
  // Attempts started in the same millisecond keep the order of their exchange rows.
  return db
    .selectFrom('payment_attempts as a')
    .leftJoin('bank_exchanges as e', 'e.attempt_id', 'a.id')
    .selectAll('a')
    .where('a.payment_id', '=', paymentId)
    .orderBy('a.started_at')
    .orderBy('e.id')
    .execute();
}

export interface ExchangeView {
  id: number;
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
}

function parseMaybe(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The exchange log of one payment, oldest first, with each call's attempt operation and outcome. */
export async function listExchanges(db: Kysely<Database>, paymentId: number): Promise<ExchangeView[]> {
  const rows = await db
    .selectFrom('bank_exchanges as e')
    .leftJoin('payment_attempts as a', 'a.id', 'e.attempt_id')
    .select([
      'e.id',
      'e.attempt_id',
      'a.operation',
      'a.outcome',
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
    ])
    .where('e.payment_id', '=', paymentId)
    .orderBy('e.id')
    .execute();
  return rows.map((r) => ({
    ...r,
    operation: r.operation ?? null,
    outcome: r.outcome ?? null,
    request_body: parseMaybe(r.request_body),
    response_body: parseMaybe(r.response_body),
    created_at: new Date(Number(r.created_at)).toISOString(),
  }));
}
