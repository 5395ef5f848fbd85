/**
 * Standing orders (periodic payments, docs/reference/powens-pay-api.md §11): once the payer approves, the payment stays
 * `pending` while the order is active; each occurrence executes on its date (moved to the next
 * business day of the currency's calendar), is recorded in `payment_occurrences` and announced by
 * a signed webhook; the order ends (`done`) after the last occurrence on or before `end_date`, or
 * when it is cancelled (the payment leaves `pending`, so nothing more executes).
 */
import { type Kysely, sql } from 'kysely';
import { onOrAfterBusinessDay } from '../domain/calendar.ts';
import { utcDate } from '../domain/dates.ts';
import type { ExecutionFrequency } from '../domain/payment-request.ts';
import { isPostgres } from '../store/db.ts';
import type { Database, InstructionRow, PaymentRow } from '../store/schema.ts';
import type { ActionEnvironment } from './payment-actions.ts';
import { changePayment } from './payment-changes.ts';
import { enqueueStateChange } from '../webhooks/endpoints.ts';

const MONTHS: Partial<Record<ExecutionFrequency, number>> = {
  monthly: 1,
  'two-monthly': 2,
  quarterly: 3,
  'four-monthly': 4,
  semiannually: 6,
  yearly: 12,
};
const DAYS: Partial<Record<ExecutionFrequency, number>> = { daily: 1, weekly: 7, 'two-weekly': 14 };

/** The n-th date of the schedule (n = 0 is start_date); month ends are kept (31 Jan → 28 Feb → 31 Mar). */
export function scheduledDate(start: string, frequency: ExecutionFrequency, n: number): string {
  const [year, month, day] = start.split('-').map(Number) as [number, number, number];
  const days = DAYS[frequency];
  if (days !== undefined) return new Date(Date.UTC(year, month - 1, day + n * days)).toISOString().slice(0, 10);
  const months = (MONTHS[frequency] ?? 1) * n;
  const lastDay = new Date(Date.UTC(year, month - 1 + months + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month - 1 + months, Math.min(day, lastDay))).toISOString().slice(0, 10);
}

export interface Occurrence {
  sequence: number;
  due_date: string;
  execution_date: string;
  state: 'scheduled' | 'done';
  executed_at: number | null;
}

/** The occurrence with this 1-based sequence, or null when the schedule has ended before it. */
function occurrenceAt(instruction: InstructionRow, sequence: number): { due_date: string; execution_date: string } | null {
  if (!instruction.start_date || !instruction.frequency) return null;
  const due = scheduledDate(instruction.start_date, instruction.frequency as ExecutionFrequency, sequence - 1);
  if (instruction.end_date && due > instruction.end_date) return null;
  return { due_date: due, execution_date: onOrAfterBusinessDay(due, instruction.currency) };
}

/**
 * What `GET /2.0/payments/{id}/occurrences` shows: the executed occurrences, then the next ones
 * scheduled (up to `upcoming`), while the order is active.
 */
export async function listOccurrences(db: Kysely<Database>, payment: PaymentRow, instruction: InstructionRow, upcoming = 12): Promise<Occurrence[]> {
  const rows = await db.selectFrom('payment_occurrences').selectAll().where('payment_id', '=', payment.id).orderBy('sequence').execute();
  const list: Occurrence[] = rows.map((r) => ({
    sequence: r.sequence,
    due_date: r.due_date,
    execution_date: r.execution_date,
    state: r.state as 'done',
    executed_at: r.executed_at,
  }));
  if (payment.execution_date_type !== 'periodic' || !['created', 'validating', 'pending'].includes(payment.state)) return list;
  for (let sequence = rows.length + 1; sequence <= rows.length + upcoming; sequence++) {
    const next = occurrenceAt(instruction, sequence);
    if (!next) break;
    list.push({ sequence, ...next, state: 'scheduled', executed_at: null });
  }
  return list;
}

/** Executes every occurrence due by the clock's today, on every active standing order (bounded). */
export async function executeDueOccurrences(env: ActionEnvironment, limit = 100): Promise<number> {
  const orders = await env.db
    .selectFrom('payments')
    .selectAll()
    .where('execution_date_type', '=', 'periodic')
    .where('state', '=', 'pending')
    .orderBy('id')
    .limit(limit)
    .execute();
  let executed = 0;
  for (const payment of orders) executed += await catchUp(env, payment);
  return executed;
}

/** One order: every due occurrence in turn (a jump of the sandbox clock executes each one), then its end. */
async function catchUp(env: ActionEnvironment, payment: PaymentRow, maxOccurrences = 400): Promise<number> {
  const instruction = await env.db.selectFrom('payment_instructions').selectAll().where('payment_id', '=', payment.id).orderBy('position').executeTakeFirst();
  if (!instruction) return 0;
  const today = utcDate(env.clock.now());
  const done = await env.db
    .selectFrom('payment_occurrences')
    .select((eb) => eb.fn.max('sequence').as('last'))
    .where('payment_id', '=', payment.id)
    .executeTakeFirst();
  let sequence = Number(done?.last ?? 0) + 1;
  let executed = 0;
  for (; executed < maxOccurrences; sequence++) {
    const next = occurrenceAt(instruction, sequence);
    if (!next) {
      // The schedule is over: the standing order is done (announced like every state change).
      await changePayment(env, payment, {
        state: 'done',
        patch: {},
        detail: { standing_order: 'ended', occurrences: sequence - 1 },
        source: 'background',
      });
      break;
    }
    if (next.execution_date > today) break;
    if (!(await recordOccurrence(env, payment, { sequence, ...next }))) break;
    executed++;
  }
  return executed;
}

/** Writes one occurrence and its webhook in one transaction; false when another process did it first. */
async function recordOccurrence(
  env: ActionEnvironment,
  payment: PaymentRow,
  occurrence: { sequence: number; due_date: string; execution_date: string },
): Promise<boolean> {
  const now = env.clock.now();
  try {
    await env.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('payment_occurrences')
        .values({ payment_id: payment.id, ...occurrence, state: 'done', executed_at: now })
        .execute();
      const view = { ...occurrence, state: 'done', executed_at: new Date(now).toISOString() };
      const queued = await enqueueStateChange(trx, payment, now, { occurrence: view });
      if (queued > 0 && isPostgres(env.db)) await sql`notify payrail_jobs`.execute(trx);
    });
  } catch (error) {
    // The unique (payment_id, sequence) key: another process executed it. Anything else is real.
    if (/unique|duplicate/i.test((error as Error).message)) return false;
    throw error;
  }
  env.notifier.workQueued();
  return true;
}
