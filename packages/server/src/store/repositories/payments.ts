/**
 * Payments in the store. Where SQLite and PostgreSQL need different statements (a creation, the
 * payment view, a list page) both versions sit side by side behind one interface, PaymentRepository
 * (payments-sqlite.ts, payments-postgres.ts), chosen once when the store opens (store/db.ts); what
 * both run alike (the single-payment reads, a list's filters and count) is here. Every query is
 * precompiled (store/precompiled.ts): built once per database and shape, then bound to its values.
 */
import type { Kysely, Transaction } from 'kysely';
import { precompile, type Slots } from '../precompiled.ts';
import { marked } from '../rows.ts';
import type { Database, InstructionRow, PaymentRow } from '../schema.ts';
import type { DoneKey } from './idempotency-keys.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface PaymentRecord {
  payment: PaymentRow;
  instructions: InstructionRow[];
}

/**
 * Which payment columns a read selects: `view`, what `GET /2.0/payments/{id}` shows; `page`, what a
 * list page reads besides (the instruction cap, the orders, the CLI's summary); false, neither.
 * Every column is named, so a new column is a compile error here until it is decided.
 */
const PAYMENT_READS = {
  id: 'view',
  state: 'view',
  state_detail: 'view',
  action: 'view',
  error_code: 'view',
  error_description: 'view',
  fields: 'view',
  validate_uri: 'view',
  connector_uuid: 'view',
  id_connector: 'view',
  id_connector_source: 'view',
  validate_mechanism: 'view',
  register_date: 'view',
  validate_date: 'view',
  bank_payment_id: 'view',
  website: 'view',
  country: 'view',
  client_redirect_uri: 'view',
  client_state: 'view',
  payer: 'view',
  payer_identity: 'view',
  operator_identity: 'view',
  instruction_count: 'page',
  total_minor: 'page',
  currency: 'page',
  execution_date_type: 'page',
  domain_id: false,
  client_ref: false,
  payer_identification: false,
  updated_at: false,
  version: false,
  webview_url: false,
  psu_ip_address: false,
  current_attempt_id: false,
} as const satisfies Record<keyof PaymentRow, 'view' | 'page' | false>;

/** The payment columns an answer shows: what the read paths (GET one, a list page) select, not the whole row. */
export const PAYMENT_VIEW_COLUMNS = marked(PAYMENT_READS, 'view' as const);
export type PaymentViewRow = Pick<PaymentRow, (typeof PAYMENT_VIEW_COLUMNS)[number]>;
/** A list page's columns: the view's and what the page needs besides (docs/performance.md, change 20). */
export const PAGE_COLUMNS = marked(PAYMENT_READS, 'view' as const, 'page' as const);
export type PageRow = Pick<PaymentRow, (typeof PAGE_COLUMNS)[number]>;

/**
 * Which columns a creation writes (false: the id, given by the database, and what keeps its default).
 * Every column is named, so a new column is a compile error here until it is decided.
 */
const PAYMENT_WRITES = {
  id: false,
  version: false,
  domain_id: true,
  client_ref: true,
  state: true,
  state_detail: true,
  action: true,
  error_code: true,
  error_description: true,
  connector_uuid: true,
  id_connector: true,
  id_connector_source: true,
  validate_mechanism: true,
  validate_uri: true,
  bank_payment_id: true,
  website: true,
  client_redirect_uri: true,
  client_state: true,
  payer: true,
  payer_identification: true,
  payer_identity: true,
  operator_identity: true,
  execution_date_type: true,
  currency: true,
  total_minor: true,
  instruction_count: true,
  country: true,
  register_date: true,
  validate_date: true,
  updated_at: true,
  webview_url: true,
  fields: true,
  psu_ip_address: false,
  current_attempt_id: false,
} as const satisfies Record<keyof PaymentRow, boolean>;
export const PAYMENT_COLUMNS = marked(PAYMENT_WRITES);

/** Which instruction columns a creation writes (all but the id). */
const INSTRUCTION_WRITES = {
  id: false,
  payment_id: true,
  position: true,
  reference_id: true,
  amount_minor: true,
  currency: true,
  label: true,
  execution_date_type: true,
  execution_date: true,
  beneficiary: true,
  beneficiary_identification: true,
  beneficiary_identity: true,
  start_date: true,
  end_date: true,
  frequency: true,
  state: true,
} as const satisfies Record<keyof InstructionRow, boolean>;
export const INSTRUCTION_COLUMNS = marked(INSTRUCTION_WRITES);

/** A new payment as written: the row without its id and version, and its instructions (`payment_id` set on writing). */
export interface NewPaymentRows {
  payment: Omit<PaymentRow, 'id' | 'version'>;
  instructions: Omit<InstructionRow, 'id'>[];
  now: number;
}

/** What a creation answers, built from the record (ids included) before it is written, and the idempotency key to store it under. */
export interface CreationAnswer {
  body: string;
  key?: DoneKey;
}

/** A list page's query: the caller's domain, its filters (the shape) and their values (store/precompiled.ts). */
export interface ListValues extends Record<string, unknown> {
  domainId: number;
  limit: number;
  offset: number;
  conditions: ListCondition[];
  orderColumn: 'id' | 'register_date' | 'validate_date' | 'state' | 'connector_uuid' | 'total_minor' | 'instruction_count' | 'execution_date_type';
  direction: 'asc' | 'desc';
}

/**
 * One condition of a list query. Which conditions a query has (and how many values an `in` takes) is
 * its shape; the values themselves are slots, so each shape is compiled once (store/precompiled.ts).
 */
export type ListCondition =
  | { column: 'register_date' | 'validate_date'; op: '>=' | '<'; slot: string }
  | {
      column: 'connector_uuid' | 'id_connector' | 'id_connector_source' | 'error_code' | 'bank_payment_id' | 'website' | 'payer_identification';
      op: '=';
      slot: string;
    }
  | { column: 'connector_uuid' | 'id_connector' | 'id_connector_source'; op: 'is null' }
  | { column: 'state' | 'execution_date_type' | 'country'; op: 'in'; slots: string[] }
  | { column: 'beneficiary_identification' | 'reference_id'; op: 'instruction'; slot: string };

/** A page of payments with their instructions (cut at PAGE_INSTRUCTIONS_MAX), and how many match in all. */
export interface Page {
  total: number;
  records: { payment: PageRow; instructions: InstructionRow[] }[];
}

/** The statements that differ between SQLite and PostgreSQL, one implementation for each. */
export interface PaymentRepository {
  /**
   * Writes the payment, its instructions and its `created` event at once (one transaction), with the
   * answer under its idempotency key when `answer` gives one, so a crash can never leave a payment
   * whose key would not replay it. Null (nothing written) when another request stored an answer under
   * the key first. Nothing is read back: the record is the values written and the ids given.
   */
  create(
    db: Kysely<Database>,
    rows: NewPaymentRows,
    answer: (record: PaymentRecord) => CreationAnswer,
  ): Promise<{ record: PaymentRecord; body: string } | null>;
  /** A payment of the domain with its instructions (every column), or undefined. */
  readRecord(db: Db, domainId: number, id: number): Promise<PaymentRecord | undefined>;
  /** What `GET /2.0/payments/{id}` shows of a payment of the domain (the view's columns), or undefined. */
  readView(db: Kysely<Database>, domainId: number, id: number): Promise<{ payment: PaymentViewRow; instructions: InstructionRow[] } | undefined>;
  /** One page of a list. */
  readPage(db: Kysely<Database>, values: ListValues): Promise<Page>;
}

const repositories = new WeakMap<object, PaymentRepository>();

/** Chooses the database's implementation, once, when the store opens (its transactions share it). */
export function setPaymentRepository(db: Kysely<Database>, repository: PaymentRepository): void {
  repositories.set(db.getExecutor().adapter, repository);
}

/** The implementation the store chose for this database (or a transaction on it). */
export function paymentRepository(db: Db): PaymentRepository {
  const repository = repositories.get(db.getExecutor().adapter);
  if (!repository) throw new Error('no payment repository for this database (open it with openStore)');
  return repository;
}

/** The shape of a query written for a number of rows (instructions, a page's ids): `values.count`. */
export const byCount = (values: Record<string, unknown>) => values.count as number;

/** A payment's `created` event, as slots: the payment's `id` and `now`. */
export const createdEventRow = ($: Slots) => ({
  payment_id: $('id'),
  type: 'created' as const,
  from_state: null,
  to_state: 'created' as const,
  data: null,
  created_at: $('now'),
});

/** The caller's payment by id (as `p`): what every single-payment read selects from. */
export const paymentOfDomain = (db: Kysely<Database>, $: Slots) =>
  db.selectFrom('payments as p').where('p.id', '=', $('id')).where('p.domain_id', '=', $('domainId'));

const selectPayment = precompile((db, $) => paymentOfDomain(db, $).selectAll());
export const selectInstructions = precompile((db, $) =>
  db.selectFrom('payment_instructions').selectAll().where('payment_id', '=', $('id')).orderBy('position'),
);
const selectPaymentState = precompile((db, $) => paymentOfDomain(db, $).select(['p.id', 'p.state']));

/** A payment row (without its instructions) of the domain, or undefined. */
export async function readPaymentRow(db: Db, domainId: number, id: number): Promise<PaymentRow | undefined> {
  return (await selectPayment.execute(db, { id, domainId })).rows[0];
}

/** A payment's instructions in position order. */
export async function readInstructions(db: Db, id: number): Promise<InstructionRow[]> {
  return (await selectInstructions.execute(db, { id })).rows;
}

/** The id and state of a payment of the domain, or undefined. */
export async function readPaymentState(db: Db, domainId: number, id: number): Promise<Pick<PaymentRow, 'id' | 'state'> | undefined> {
  return (await selectPaymentState.execute(db, { id, domainId })).rows[0];
}

/**
 * A page holds at most this many instructions in all: 1000 payments of 1000 instructions would be
 * hundreds of megabytes in one answer. A page cut short by it says so in `limit`-less terms: fewer
 * payments than asked, `total` unchanged; the next page starts at offset + payments.length.
 */
export const PAGE_INSTRUCTIONS_MAX = 5000;

/** How many payments of a page to keep: while their instructions stay within PAGE_INSTRUCTIONS_MAX, the first always. */
export function withinInstructionCap(payments: readonly { instruction_count: number }[]): number {
  let kept = 0;
  for (let used = 0; kept < payments.length; kept++) {
    used += payments[kept]!.instruction_count;
    if (kept > 0 && used > PAGE_INSTRUCTIONS_MAX) break;
  }
  return kept;
}

export function listShape(values: ListValues): string {
  const parts = values.conditions.map((c) => `${c.column} ${c.op}${c.op === 'in' ? c.slots.length : ''}`);
  return `${parts.join(',')}|${values.orderColumn} ${values.direction}`;
}

function filteredPayments(db: Kysely<Database>, $: Slots, conditions: readonly ListCondition[]) {
  let q = db.selectFrom('payments').where('domain_id', '=', $('domainId'));
  for (const c of conditions) {
    if (c.op === 'is null') q = q.where(c.column, 'is', null);
    else if (c.op === 'in')
      q = q.where(
        c.column,
        'in',
        c.slots.map((slot) => $(slot)),
      );
    else if (c.op === 'instruction')
      q = q.where('id', 'in', (eb) => eb.selectFrom('payment_instructions').select('payment_id').where(c.column, '=', $(c.slot)));
    else q = q.where(c.column, c.op, $(c.slot));
  }
  return q;
}

// The list's two queries, compiled once per shape (filters set, `in` sizes, order).
const countPayments = precompile(
  (db, $, _shape: string, values: ListValues) => filteredPayments(db, $, values.conditions).select((eb) => eb.fn.countAll<number>().as('n')),
  listShape,
);

/** How many payments match a list's filters. */
export async function countMatching(db: Db, values: ListValues): Promise<number> {
  return Number((await countPayments.execute(db, values)).rows[0]!.n);
}

/** A page of payments (PAGE_COLUMNS), in the list's order. */
export function pageOfPayments(db: Kysely<Database>, $: Slots, values: ListValues) {
  return filteredPayments(db, $, values.conditions)
    .select(PAGE_COLUMNS)
    .orderBy(values.orderColumn, values.direction)
    .orderBy('id', values.direction)
    .limit($('limit'))
    .offset($('offset'));
}
