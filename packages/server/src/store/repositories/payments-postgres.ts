/**
 * Payments on PostgreSQL, where each round trip costs a write and a read on the socket and the
 * parsing on both sides (docs/performance.md, changes 14, 16, 21): a creation is two statements, a
 * view one (the instructions as one JSON array), a page one besides its count.
 */
import { type Kysely, sql } from 'kysely';
import { precompile, type Slots } from '../precompiled.ts';
import type { Database, InstructionRow } from '../schema.ts';
import { doneKeyRow } from './idempotency-keys.ts';
import {
  byCount,
  countMatching,
  createdEventRow,
  INSTRUCTION_COLUMNS,
  PAGE_INSTRUCTIONS_MAX,
  PAYMENT_COLUMNS,
  PAYMENT_VIEW_COLUMNS,
  type PaymentRecord,
  type PaymentRepository,
  pageOfPayments,
  paymentOfDomain,
  listShape,
  type ListValues,
  withinInstructionCap,
} from './payments.ts';

// A creation is two round trips instead of six (BEGIN, four inserts, COMMIT). The ids are taken from
// the identity sequences first (no transaction needed: a sequence never gives a value twice, and an
// unused one is only a gap, as a rollback leaves). Then every row is written by one statement, which
// PostgreSQL runs as one transaction: the payment, its instructions and its event are data-modifying
// CTEs of the insert of the idempotency row (or of the event, without a key), so that a key stored
// first by a concurrent request fails the whole statement (unique violation) and nothing of this
// payment is written.
const reserveIds = precompile((db, $) => {
  const query = sql<{ n: number; id: number }>`select s.n, case when s.n = 0 then nextval(pg_get_serial_sequence('payments', 'id'))
    else nextval(pg_get_serial_sequence('payment_instructions', 'id')) end as id from generate_series(0, ${$('count')}::int) as s(n)`;
  return { compile: () => query.compile(db) };
});

const PG_ROWS = (db: Kysely<Database>, $: Slots, count: number) =>
  db
    .with('p', (q) => q.insertInto('payments').values({ id: $('id'), ...$.row(PAYMENT_COLUMNS) }))
    .with('i', (q) =>
      q.insertInto('payment_instructions').values(Array.from({ length: count }, (_, i) => ({ id: $(`id_${i}`), ...$.row(INSTRUCTION_COLUMNS, `_${i}`) }))),
    );
const insertAllRows = precompile((db, $, count: number) => PG_ROWS(db, $, count).insertInto('payment_events').values(createdEventRow($)), byCount);
const insertAllRowsKeyed = precompile(
  (db, $, count: number) =>
    PG_ROWS(db, $, count)
      .with('e', (q) => q.insertInto('payment_events').values(createdEventRow($)))
      .insertInto('idempotency_keys')
      .values(doneKeyRow($)),
  byCount,
);

function isUniqueViolationOn(error: unknown, table: string): boolean {
  return (error as { code?: string; table?: string } | null)?.code === '23505' && (error as { table?: string }).table === table;
}

/** A payment's instructions in position order as one JSON array, so that one statement reads a payment with them. */
const INSTRUCTIONS_JSON = sql<InstructionRow[] | null>`(select json_agg(i order by i.position) from payment_instructions i where i.payment_id = p.id)`;

// The payment with its instructions in one statement, as a list page reads them: one round trip and
// one pooled connection per read instead of two.
const selectPaymentViewWithInstructions = precompile((db, $) =>
  paymentOfDomain(db, $).select(PAYMENT_VIEW_COLUMNS).select(INSTRUCTIONS_JSON.as('instructions_json')),
);

// Every column of the payment with its instructions, in one statement (what an action reads).
const selectPaymentWithInstructions = precompile((db, $) => paymentOfDomain(db, $).selectAll('p').select(INSTRUCTIONS_JSON.as('instructions_json')));

// The page with its instructions, in one statement (one round trip fewer, and one JSON array per
// payment to parse instead of a row per instruction). Each payment carries its instructions only
// while the page's running total of instructions stays within PAGE_INSTRUCTIONS_MAX (the first
// payment always): the cut readPage makes, so that no instruction past it is read.
const pagePaymentsWithInstructions = precompile((db, $, _shape: string, values: ListValues) => {
  const order = sql`order by p.${sql.ref(values.orderColumn)} ${sql.raw(values.direction)}, p.id ${sql.raw(values.direction)}`;
  const instructions = sql<InstructionRow[] | null>`case when row_number() over (${order}) = 1
      or sum(p.instruction_count) over (${order} rows between unbounded preceding and current row) <= ${PAGE_INSTRUCTIONS_MAX}
      then ${INSTRUCTIONS_JSON} end`;
  return db
    .selectFrom(pageOfPayments(db, $, values).as('p'))
    .selectAll('p')
    .select(instructions.as('instructions_json'))
    .orderBy(`p.${values.orderColumn}`, values.direction)
    .orderBy('p.id', values.direction);
}, listShape);

export const postgresPayments: PaymentRepository = {
  async create(db, { payment, instructions, now }, answer) {
    // Row 0 holds the payment's id, row n the id of the instruction at index n - 1.
    const reserved = new Map((await reserveIds.execute(db, { count: instructions.length })).rows.map((r) => [r.n, r.id]));
    const id = reserved.get(0)!;
    const values: Record<string, unknown> = { count: instructions.length, id, ...payment, now };
    const record: PaymentRecord = {
      payment: { id, version: 0, ...payment },
      instructions: instructions.map((row, index) => {
        row.payment_id = id;
        const instructionId = reserved.get(index + 1)!;
        values[`id_${index}`] = instructionId;
        for (const column of INSTRUCTION_COLUMNS) values[`${column}_${index}`] = row[column];
        return { id: instructionId, ...row };
      }),
    };
    const { body, key } = answer(record);
    try {
      if (key) {
        Object.assign(values, key);
        await insertAllRowsKeyed.execute(db, values);
      } else {
        await insertAllRows.execute(db, values);
      }
    } catch (error) {
      if (key && isUniqueViolationOn(error, 'idempotency_keys')) return null;
      throw error;
    }
    return { record, body };
  },

  async readRecord(db, domainId, id) {
    const row = (await selectPaymentWithInstructions.execute(db, { id, domainId })).rows[0];
    if (!row) return undefined;
    const { instructions_json, ...payment } = row;
    return { payment, instructions: instructions_json ?? [] };
  },

  async readView(db, domainId, id) {
    const payment = (await selectPaymentViewWithInstructions.execute(db, { id, domainId })).rows[0];
    return payment && { payment, instructions: payment.instructions_json ?? [] };
  },

  async readPage(db, values) {
    const [total, page] = await Promise.all([countMatching(db, values), pagePaymentsWithInstructions.execute(db, values)]);
    const rows = page.rows.slice(0, withinInstructionCap(page.rows));
    return { total, records: rows.map((payment) => ({ payment, instructions: payment.instructions_json ?? [] })) };
  },
};
