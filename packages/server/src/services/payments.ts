/** Payment use cases: create (one transaction with its event row), read, list. */
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { parseDateOrDateTime } from '../domain/dates.ts';
import { ApiError, invalid } from '../domain/errors.ts';
import { EXECUTION_DATE_TYPES } from '../domain/payment-request.ts';
import type { NewPayment } from '../domain/payment-request.ts';
import { PAYMENT_STATES } from '../domain/states.ts';
import type { Database, InstructionRow, PaymentRow } from '../store/schema.ts';
import { isPostgres } from '../store/db.ts';
import { precompile, type Slots } from '../store/precompiled.ts';
import { doneKeyRow, doneKeyValues, recordIdempotentResponse } from './idempotency.ts';
import { PAYMENT_VIEW_COLUMNS, type PaymentViewRow, paymentView } from './payment-view.ts';
import type { Principal } from './tokens.ts';

export interface PaymentRecord {
  payment: PaymentRow;
  instructions: InstructionRow[];
}

const PAYMENT_COLUMNS = [
  'domain_id',
  'client_ref',
  'state',
  'state_detail',
  'action',
  'error_code',
  'error_description',
  'connector_uuid',
  'id_connector',
  'id_connector_source',
  'validate_mechanism',
  'validate_uri',
  'bank_payment_id',
  'website',
  'client_redirect_uri',
  'client_state',
  'payer',
  'payer_identification',
  'payer_identity',
  'operator_identity',
  'execution_date_type',
  'currency',
  'total_minor',
  'instruction_count',
  'country',
  'register_date',
  'validate_date',
  'updated_at',
  'webview_url',
  'fields',
] as const satisfies readonly (keyof Omit<PaymentRow, 'id' | 'version'>)[];
const INSTRUCTION_COLUMNS = [
  'payment_id',
  'position',
  'reference_id',
  'amount_minor',
  'currency',
  'label',
  'execution_date_type',
  'execution_date',
  'beneficiary',
  'beneficiary_identification',
  'beneficiary_identity',
  'start_date',
  'end_date',
  'frequency',
  'state',
] as const satisfies readonly (keyof Omit<InstructionRow, 'id'>)[];

/** The shape of a query written for a number of rows (instructions, a page's ids): `values.count`. */
const byCount = (values: Record<string, unknown>) => values.count as number;

/** A payment's `created` event, as slots: the payment's `id` and `now`. */
const createdEventRow = ($: Slots) => ({
  payment_id: $('id'),
  type: 'created' as const,
  from_state: null,
  to_state: 'created' as const,
  data: null,
  created_at: $('now'),
});

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

/** A concurrent request with the same idempotency key committed first: this one rolls back and replays it. */
export class IdempotencyKeyTaken extends Error {}

// PostgreSQL: a creation is two round trips instead of six (BEGIN, four inserts, COMMIT). The ids
// are taken from the identity sequences first (no transaction needed: a sequence never gives a value
// twice, and an unused one is only a gap, as a rollback leaves). Then every row is written by one
// statement, which PostgreSQL runs as one transaction: the payment, its instructions and its event
// are data-modifying CTEs of the insert of the idempotency row (or of the event, without a key), so
// that a key stored first by a concurrent request fails the whole statement (unique violation) and
// nothing of this payment is written. Each round trip costs a write and a read on the socket and the
// parsing on both sides, which made most of a creation's CPU on PostgreSQL (docs/performance.md).
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

/**
 * Writes the payment, its instructions and its `created` event in one transaction. With an
 * idempotency key, the response body is stored under the key in the same transaction, so a crash can
 * never leave a payment whose key would not replay it; if another request stored an answer under
 * the key first, the transaction rolls back and IdempotencyKeyTaken is thrown (the caller replays).
 * Nothing is read back: the response is built from the values written and the ids returned.
 */
export async function createPayment(
  db: Kysely<Database>,
  clock: Clock,
  principal: Principal,
  input: NewPayment,
  options: { showSensitive: boolean; idempotency?: { key: string; hash: string } },
): Promise<{ record: PaymentRecord; body: string }> {
  const now = clock.now();
  const payment: Omit<PaymentRow, 'id' | 'version'> = {
    domain_id: principal.domainId,
    client_ref: principal.clientRef,
    state: 'created',
    state_detail: null,
    action: null,
    error_code: null,
    error_description: null,
    connector_uuid: input.connector_uuid,
    id_connector: input.id_connector,
    id_connector_source: null,
    validate_mechanism: null,
    validate_uri: null,
    bank_payment_id: null,
    website: null,
    client_redirect_uri: input.client_redirect_uri,
    client_state: input.client_state,
    payer: input.payer ? JSON.stringify(input.payer) : null,
    payer_identification: input.payer?.identification ?? null,
    payer_identity: input.payer_identity ? JSON.stringify(input.payer_identity) : null,
    operator_identity: input.operator_identity ? JSON.stringify(input.operator_identity) : null,
    execution_date_type: input.execution_date_type,
    currency: input.currency,
    total_minor: input.total_minor,
    instruction_count: input.instructions.length,
    country: input.country,
    register_date: now,
    validate_date: null,
    updated_at: now,
    webview_url: null,
    fields: null,
    psu_ip_address: null,
    current_attempt_id: null,
  };
  const instructions = input.instructions.map((i) => ({
    payment_id: 0,
    position: i.position,
    reference_id: i.reference_id,
    amount_minor: i.amount_minor,
    currency: i.currency,
    label: i.label,
    execution_date_type: i.execution_date_type,
    execution_date: i.execution_date,
    beneficiary: JSON.stringify(i.beneficiary),
    beneficiary_identification: i.beneficiary.identification,
    beneficiary_identity: i.beneficiary_identity ? JSON.stringify(i.beneficiary_identity) : null,
    start_date: i.start_date,
    end_date: i.end_date,
    frequency: i.frequency,
    state: null,
  }));
  if (isPostgres(db)) {
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
    const body = JSON.stringify(paymentView(record.payment, record.instructions, options.showSensitive));
    const idempotency = options.idempotency;
    try {
      if (idempotency) {
        Object.assign(values, doneKeyValues(now, principal.clientRef, idempotency.key, idempotency.hash, 200, body));
        await insertAllRowsKeyed.execute(db, values);
      } else {
        await insertAllRows.execute(db, values);
      }
    } catch (error) {
      if (idempotency && isUniqueViolationOn(error, 'idempotency_keys')) throw new IdempotencyKeyTaken();
      throw error;
    }
    return { record, body };
  }
  return db.transaction().execute(async (trx) => {
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
    const body = JSON.stringify(paymentView(record.payment, record.instructions, options.showSensitive));
    const idempotency = options.idempotency;
    if (idempotency && !(await recordIdempotentResponse(trx, clock, principal.clientRef, idempotency.key, idempotency.hash, 200, body))) {
      throw new IdempotencyKeyTaken();
    }
    return { record, body };
  });
}

/** The caller's payment by id (as `p`): what every single-payment read below selects from. */
const paymentOfDomain = (db: Kysely<Database>, $: Slots) => db.selectFrom('payments as p').where('p.id', '=', $('id')).where('p.domain_id', '=', $('domainId'));

/** A payment's instructions in position order as one JSON array (PostgreSQL), so that one statement reads a payment with them. */
const INSTRUCTIONS_JSON = sql<InstructionRow[] | null>`(select json_agg(i order by i.position) from payment_instructions i where i.payment_id = p.id)`;

const selectPayment = precompile((db, $) => paymentOfDomain(db, $).selectAll());
const selectInstructions = precompile((db, $) => db.selectFrom('payment_instructions').selectAll().where('payment_id', '=', $('id')).orderBy('position'));

function found<T>(row: T | undefined, id: number): T {
  if (!row) throw new ApiError('notFound', `payment ${id} does not exist`, { field: 'id' });
  return row;
}

/** A payment row (without its instructions) of the caller's domain, or notFound. */
export async function findPayment(db: Kysely<Database>, domainId: number, id: number): Promise<PaymentRow> {
  return found((await selectPayment.execute(db, { id, domainId })).rows[0], id);
}

const selectPaymentState = precompile((db, $) => paymentOfDomain(db, $).select(['p.id', 'p.state']));

/** The id and state of a payment of the caller's domain (what minting a token for it checks), or notFound. */
export async function findPaymentState(db: Kysely<Database>, domainId: number, id: number): Promise<{ id: number; state: string }> {
  return found((await selectPaymentState.execute(db, { id, domainId })).rows[0], id);
}

const selectPaymentView = precompile((db, $) => paymentOfDomain(db, $).select(PAYMENT_VIEW_COLUMNS));

// PostgreSQL: the payment with its instructions in one statement, as a list page reads them: one round
// trip and one pooled connection per read instead of two.
const selectPaymentViewWithInstructions = precompile((db, $) =>
  paymentOfDomain(db, $).select(PAYMENT_VIEW_COLUMNS).select(INSTRUCTIONS_JSON.as('instructions_json')),
);

/** What `GET /2.0/payments/{id}` shows of a payment of the caller's domain (the view's columns only), or notFound. */
export async function readPaymentView(
  db: Kysely<Database>,
  domainId: number,
  id: number,
): Promise<{ payment: PaymentViewRow; instructions: InstructionRow[] }> {
  if (isPostgres(db)) {
    const payment = found((await selectPaymentViewWithInstructions.execute(db, { id, domainId })).rows[0], id);
    return { payment, instructions: payment.instructions_json ?? [] };
  }
  const [payments, instructions] = await Promise.all([selectPaymentView.execute(db, { id, domainId }), selectInstructions.execute(db, { id })]);
  return { payment: found(payments.rows[0], id), instructions: instructions.rows };
}

/** A payment of the caller's domain, or notFound. Both reads are sent at once (one round trip on PostgreSQL's pool). */
export async function getPayment(db: Kysely<Database>, domainId: number, id: number): Promise<PaymentRecord> {
  const [payment, instructions] = await Promise.all([findPayment(db, domainId, id), selectInstructions.execute(db, { id })]);
  return { payment, instructions: instructions.rows };
}

export const ORDER_BY = {
  id: 'id',
  register_date: 'register_date',
  validate_date: 'validate_date',
  state: 'state',
  connectors: 'connector_uuid',
  amount: 'total_minor',
  instruction_count: 'instruction_count',
  execution_date_type: 'execution_date_type',
} as const;

export interface ListQuery {
  limit?: string;
  offset?: string;
  reverse?: string;
  filter?: string;
  min_date?: string;
  max_date?: string;
  connector_uuid?: string;
  id_connector?: string;
  id_connector_source?: string;
  state?: string;
  error_code?: string;
  bank_payment_id?: string;
  website?: string;
  payer_identification?: string;
  beneficiary_identification?: string;
  reference_id?: string;
  execution_date_type?: string;
  order_by?: string;
  country?: string;
}

export const LIST_LIMIT_MAX = 1000;
/**
 * A page holds at most this many instructions in all: 1000 payments of 1000 instructions would be
 * hundreds of megabytes in one answer. A page cut short by it says so in `limit`-less terms: fewer
 * payments than asked, `total` unchanged; the next page starts at offset + payments.length.
 */
export const PAGE_INSTRUCTIONS_MAX = 5000;

export function parseBoolean(value: string | undefined, field: string): boolean {
  if (value === undefined || value === '') return false;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw invalid(field, 'must be true or false');
}

function parseInteger(value: string, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d{1,16}$/.test(value)) throw invalid(field, 'must be a whole number');
  const n = Number(value);
  if (n < min || n > max) throw invalid(field, `must be between ${min} and ${max}`);
  return n;
}

function list(value: string, field: string, allowed?: readonly string[]): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw invalid(field, 'must not be empty');
  if (allowed) for (const item of items) if (!allowed.includes(item)) throw invalid(field, `must be one of ${allowed.join(', ')}`);
  return items;
}

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

/**
 * One condition of a list query. Which conditions a query has (and how many values an `in` takes) is
 * its shape; the values themselves are slots, so each shape is compiled once (store/precompiled.ts).
 */
type ListCondition =
  | { column: 'register_date' | 'validate_date'; op: '>=' | '<'; slot: string }
  | {
      column: 'connector_uuid' | 'id_connector' | 'id_connector_source' | 'error_code' | 'bank_payment_id' | 'website' | 'payer_identification';
      op: '=';
      slot: string;
    }
  | { column: 'connector_uuid' | 'id_connector' | 'id_connector_source'; op: 'is null' }
  | { column: 'state' | 'execution_date_type' | 'country'; op: 'in'; slots: string[] }
  | { column: 'beneficiary_identification' | 'reference_id'; op: 'instruction'; slot: string };

interface ListValues extends Record<string, unknown> {
  domainId: number;
  limit: number;
  offset: number;
  conditions: ListCondition[];
  orderColumn: (typeof ORDER_BY)[keyof typeof ORDER_BY];
  direction: 'asc' | 'desc';
}

function listShape(values: ListValues): string {
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
/**
 * A list page's columns, not the whole row: what its answer shows, what the instruction cap counts,
 * what a page may be ordered by, and the total the CLI's summary prints (total_minor, currency).
 */
const PAGE_COLUMNS = [...PAYMENT_VIEW_COLUMNS, 'instruction_count', 'total_minor', 'currency', 'execution_date_type'] as const;

function pageOfPayments(db: Kysely<Database>, $: Slots, values: ListValues) {
  return filteredPayments(db, $, values.conditions)
    .select(PAGE_COLUMNS)
    .orderBy(values.orderColumn, values.direction)
    .orderBy('id', values.direction)
    .limit($('limit'))
    .offset($('offset'));
}
const pagePayments = precompile((db, $, _shape: string, values: ListValues) => pageOfPayments(db, $, values), listShape);

// PostgreSQL: the page with its instructions, in one statement (one round trip fewer, and one JSON
// array per payment to parse instead of a row per instruction). Each payment carries its instructions
// only while the page's running total of instructions stays within PAGE_INSTRUCTIONS_MAX (the first
// payment always): the cut listPayments makes, so that no instruction past it is read.
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

/** How many payments of a page to keep: while their instructions stay within PAGE_INSTRUCTIONS_MAX, the first always. */
function withinInstructionCap(payments: readonly { instruction_count: number }[]): number {
  let kept = 0;
  for (let used = 0; kept < payments.length; kept++) {
    used += payments[kept]!.instruction_count;
    if (kept > 0 && used > PAGE_INSTRUCTIONS_MAX) break;
  }
  return kept;
}

export async function listPayments(db: Kysely<Database>, domainId: number, query: ListQuery) {
  const limit = query.limit === undefined || query.limit === '' ? LIST_LIMIT_MAX : parseInteger(query.limit, 'limit', 1, LIST_LIMIT_MAX);
  const offset = query.offset === undefined || query.offset === '' ? 0 : parseInteger(query.offset, 'offset', 0);
  const reverse = parseBoolean(query.reverse, 'reverse');
  const dateColumn = query.filter === undefined || query.filter === '' ? 'register_date' : query.filter;
  if (dateColumn !== 'register_date' && dateColumn !== 'validate_date') throw invalid('filter', 'must be register_date or validate_date');
  const orderKey = query.order_by === undefined || query.order_by === '' ? 'register_date' : query.order_by;
  if (!Object.hasOwn(ORDER_BY, orderKey)) throw invalid('order_by', `must be one of ${Object.keys(ORDER_BY).join(', ')}`);
  const orderColumn = ORDER_BY[orderKey as keyof typeof ORDER_BY];

  const values: ListValues = { domainId, limit, offset, conditions: [], orderColumn, direction: reverse ? 'desc' : 'asc' };
  const { conditions } = values;
  const equal = (column: Extract<ListCondition, { op: '=' }>['column'], value: unknown) => {
    conditions.push({ column, op: '=', slot: column });
    values[column] = value;
  };
  const among = (column: Extract<ListCondition, { op: 'in' }>['column'], items: readonly string[]) => {
    // Repeated values are dropped: they change nothing but the number of compiled shapes.
    const slots = [...new Set(items)].map((item, i) => {
      values[`${column}${i}`] = item;
      return `${column}${i}`;
    });
    conditions.push({ column, op: 'in', slots });
  };
  for (const bound of ['min_date', 'max_date'] as const) {
    const text = query[bound];
    if (text === undefined || text === '') continue;
    const at = parseDateOrDateTime(text);
    if (at === null) throw invalid(bound, 'must be a date YYYY-MM-DD or a date-time YYYY-MM-DD HH:MM:SS');
    conditions.push({ column: dateColumn, op: bound === 'min_date' ? '>=' : '<', slot: bound });
    values[bound] = at;
  }
  if (query.connector_uuid !== undefined && query.connector_uuid !== '') {
    if (query.connector_uuid === 'null') conditions.push({ column: 'connector_uuid', op: 'is null' });
    else equal('connector_uuid', query.connector_uuid.toLowerCase());
  }
  for (const param of ['id_connector', 'id_connector_source'] as const) {
    const value = query[param];
    if (value === undefined || value === '') continue;
    if (value === 'null') conditions.push({ column: param, op: 'is null' });
    else equal(param, parseInteger(value, param, 0));
  }
  if (query.state) among('state', list(query.state, 'state', PAYMENT_STATES));
  if (query.execution_date_type) among('execution_date_type', list(query.execution_date_type, 'execution_date_type', EXECUTION_DATE_TYPES));
  if (query.country) among('country', list(query.country.toUpperCase(), 'country'));
  for (const param of ['error_code', 'bank_payment_id', 'website'] as const) {
    const value = query[param];
    if (value !== undefined && value !== '') equal(param, value);
  }
  if (query.payer_identification) equal('payer_identification', query.payer_identification.replace(/[\s-]/g, '').toUpperCase());
  for (const param of ['beneficiary_identification', 'reference_id'] as const) {
    const raw = query[param];
    if (raw === undefined || raw === '') continue;
    conditions.push({ column: param, op: 'instruction', slot: param });
    values[param] = param === 'beneficiary_identification' ? raw.replace(/[\s-]/g, '').toUpperCase() : raw;
  }

  if (isPostgres(db)) {
    const [countRow, page] = await Promise.all([countPayments.execute(db, values), pagePaymentsWithInstructions.execute(db, values)]);
    const rows = page.rows.slice(0, withinInstructionCap(page.rows));
    const records = rows.map((payment) => ({ payment, instructions: payment.instructions_json ?? [] }));
    return { total: Number(countRow.rows[0]!.n), limit, offset, records };
  }
  const [countRow, page] = await Promise.all([countPayments.execute(db, values), pagePayments.execute(db, values)]);
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
  return {
    total: Number(countRow.rows[0]!.n),
    limit,
    offset,
    records: payments.map((payment) => ({ payment, instructions: byPayment.get(payment.id) ?? [] })),
  };
}

export { paymentView };
