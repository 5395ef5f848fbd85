/** Payment use cases: create (one transaction with its event row), read, list; the statements are the store's (store/repositories/payments.ts). */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { parseDateOrDateTime } from '../domain/dates.ts';
import { ApiError, invalid } from '../domain/errors.ts';
import { EXECUTION_DATE_TYPES } from '../domain/payment-request.ts';
import type { NewPayment } from '../domain/payment-request.ts';
import { PAYMENT_STATES } from '../domain/states.ts';
import {
  type ListCondition,
  type ListValues,
  PAGE_INSTRUCTIONS_MAX,
  type PaymentRecord,
  type PaymentViewRow,
  paymentRepository,
  readPaymentRow,
  readPaymentState,
} from '../store/repositories/payments.ts';
import { toJson } from '../store/rows.ts';
import type { Database, InstructionRow, PaymentRow } from '../store/schema.ts';
import { doneKeyValues } from './idempotency.ts';
import { paymentView } from './payment-view.ts';
import type { Principal } from './tokens.ts';

export type { PaymentRecord };

/** A concurrent request with the same idempotency key committed first: nothing was written, the caller replays its answer. */
export class IdempotencyKeyTaken extends Error {}

/**
 * Writes the payment, its instructions and its `created` event in one transaction (see
 * PaymentRepository.create). With an idempotency key, the response body is stored under the key in
 * the same transaction; if another request stored an answer under the key first, nothing is written
 * and IdempotencyKeyTaken is thrown (the caller replays). Nothing is read back: the response is built
 * from the values written and the ids returned.
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
    payer: input.payer ? toJson(input.payer) : null,
    payer_identification: input.payer?.identification ?? null,
    payer_identity: input.payer_identity ? toJson(input.payer_identity) : null,
    operator_identity: input.operator_identity ? toJson(input.operator_identity) : null,
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
    beneficiary: toJson(i.beneficiary),
    beneficiary_identification: i.beneficiary.identification,
    beneficiary_identity: i.beneficiary_identity ? toJson(i.beneficiary_identity) : null,
    start_date: i.start_date,
    end_date: i.end_date,
    frequency: i.frequency,
    state: null,
  }));
  const idempotency = options.idempotency;
  const created = await paymentRepository(db).create(db, { payment, instructions, now }, (record) => {
    const body = JSON.stringify(paymentView(record.payment, record.instructions, options.showSensitive));
    return idempotency ? { body, key: doneKeyValues(now, principal.clientRef, idempotency.key, idempotency.hash, 200, body) } : { body };
  });
  if (!created) throw new IdempotencyKeyTaken();
  return created;
}

function found<T>(row: T | undefined, id: number): T {
  if (!row) throw new ApiError('notFound', `payment ${id} does not exist`, { field: 'id' });
  return row;
}

/** A payment row (without its instructions) of the caller's domain, or notFound. */
export async function findPayment(db: Kysely<Database>, domainId: number, id: number): Promise<PaymentRow> {
  return found(await readPaymentRow(db, domainId, id), id);
}

/** The id and state of a payment of the caller's domain (what minting a token for it checks), or notFound. */
export async function findPaymentState(db: Kysely<Database>, domainId: number, id: number): Promise<Pick<PaymentRow, 'id' | 'state'>> {
  return found(await readPaymentState(db, domainId, id), id);
}

/** What `GET /2.0/payments/{id}` shows of a payment of the caller's domain (the view's columns only), or notFound. */
export async function readPaymentView(
  db: Kysely<Database>,
  domainId: number,
  id: number,
): Promise<{ payment: PaymentViewRow; instructions: InstructionRow[] }> {
  return found(await paymentRepository(db).readView(db, domainId, id), id);
}

/** A payment of the caller's domain with its instructions, or notFound (one statement on PostgreSQL). */
export async function getPayment(db: Kysely<Database>, domainId: number, id: number): Promise<PaymentRecord> {
  return found(await paymentRepository(db).readRecord(db, domainId, id), id);
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
} as const satisfies Record<string, ListValues['orderColumn']>;

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
export { PAGE_INSTRUCTIONS_MAX };

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

  const { total, records } = await paymentRepository(db).readPage(db, values);
  return { total, limit, offset, records };
}

export { paymentView };
