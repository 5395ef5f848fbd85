/**
 * Payments on SQLite. No round trips here: a creation is one transaction of several statements
 * (which the group commit makes durable with others: store/sqlite/group-commit.ts), a view is the
 * payment and its instructions read at once, a page its payments then their instructions.
 */
import { precompile } from '../precompiled.ts';
import type { InstructionRow } from '../schema.ts';
import { insertDoneKey } from './idempotency-keys.ts';
import {
  byCount,
  countMatching,
  createdEventRow,
  INSTRUCTION_COLUMNS,
  PAYMENT_COLUMNS,
  PAYMENT_VIEW_COLUMNS,
  type PaymentRecord,
  type PaymentRepository,
  pageOfPayments,
  paymentOfDomain,
  readInstructions,
  readPaymentRow,
  listShape,
  type ListValues,
  selectInstructions,
  withinInstructionCap,
} from './payments.ts';

const insertPayment = precompile((db, $) => db.insertInto('payments').values($.row(PAYMENT_COLUMNS)).returning('id'));
// One statement for all instructions; their ids come back with their positions.
const insertInstructions = precompile(
  (db, $, count: number) =>
    db
      .insertInto('payment_instructions')
      .values(Array.from({ length: count }, (_, i) => $.row(INSTRUCTION_COLUMNS, `_${i}`)))
      .returning(['id', 'position']),
  byCount,
);
const insertCreatedEvent = precompile((db, $) => db.insertInto('payment_events').values(createdEventRow($)));

/** Thrown inside a creation's transaction to roll it back: another request stored an answer under the key first. */
class KeyTaken extends Error {}

const selectPaymentView = precompile((db, $) => paymentOfDomain(db, $).select(PAYMENT_VIEW_COLUMNS));

const pagePayments = precompile((db, $, _shape: string, values: ListValues) => pageOfPayments(db, $, values), listShape);
// The instructions of a page of payments, compiled once per page size.
const selectPageInstructions = precompile(
  (db, $, count: number) =>
    db
      .selectFrom('payment_instructions')
      .selectAll()
      .where(
        'payment_id',
        'in',
        Array.from({ length: count }, (_, i) => $(`id${i}`)),
      )
      .orderBy('payment_id')
      .orderBy('position'),
  byCount,
);

export const sqlitePayments: PaymentRepository = {
  async create(db, { payment, instructions, now }, answer) {
    try {
      return await db.transaction().execute(async (trx) => {
        const { id } = (await insertPayment.execute(trx, payment)).rows[0]!;
        const values: Record<string, unknown> = { count: instructions.length };
        instructions.forEach((row, index) => {
          row.payment_id = id;
          for (const column of INSTRUCTION_COLUMNS) values[`${column}_${index}`] = row[column];
        });
        const ids = new Map((await insertInstructions.execute(trx, values)).rows.map((r) => [r.position, r.id]));
        await insertCreatedEvent.execute(trx, { id, now });
        const record: PaymentRecord = {
          payment: { id, version: 0, ...payment },
          instructions: instructions.map((row) => ({ id: ids.get(row.position)!, ...row })),
        };
        const { body, key } = answer(record);
        if (key && !(await insertDoneKey(trx, key))) throw new KeyTaken();
        return { record, body };
      });
    } catch (error) {
      if (error instanceof KeyTaken) return null;
      throw error;
    }
  },

  async readRecord(db, domainId, id) {
    const [payment, instructions] = await Promise.all([readPaymentRow(db, domainId, id), readInstructions(db, id)]);
    return payment && { payment, instructions };
  },

  async readView(db, domainId, id) {
    const [payments, instructions] = await Promise.all([selectPaymentView.execute(db, { id, domainId }), selectInstructions.execute(db, { id })]);
    const payment = payments.rows[0];
    return payment && { payment, instructions: instructions.rows };
  },

  async readPage(db, values) {
    const [total, page] = await Promise.all([countMatching(db, values), pagePayments.execute(db, values)]);
    const payments = page.rows;
    payments.length = withinInstructionCap(payments);
    const ids = payments.map((p) => p.id);
    const instructions = ids.length
      ? (await selectPageInstructions.execute(db, { count: ids.length, ...Object.fromEntries(ids.map((id, i) => [`id${i}`, id])) })).rows
      : [];
    const byPayment = new Map<number, InstructionRow[]>();
    for (const instruction of instructions) {
      const bucket = byPayment.get(instruction.payment_id) ?? [];
      bucket.push(instruction);
      byPayment.set(instruction.payment_id, bucket);
    }
    return { total, records: payments.map((payment) => ({ payment, instructions: byPayment.get(payment.id) ?? [] })) };
  },
};
