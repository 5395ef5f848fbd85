/** What the dashboard reads: payments across domains, a payment's timeline, health figures. */
import { type Kysely, sql } from 'kysely';
import { parseDateOrDateTime } from '../domain/dates.ts';
import { invalid } from '../domain/errors.ts';
import { parseAmount } from '../domain/money.ts';
import { isPaymentState, PAYMENT_STATES } from '../domain/states.ts';
import { exchangeRows, listAttempts } from '../services/attempts.ts';
import type { Database } from '../store/schema.ts';
import { readJson } from '../store/rows.ts';

export const PAGE_SIZE = 50;
const DAY_MS = 86_400_000;

export interface PaymentFilters {
  id?: string;
  state?: string;
  client_state?: string;
  amount?: string;
  currency?: string;
  min_date?: string;
  max_date?: string;
  domain?: string;
  page?: string;
}

/** Payments matching the filters, newest first, one page; a bad filter is a 400 naming it. */
export async function searchPayments(db: Kysely<Database>, filters: PaymentFilters) {
  let q = db.selectFrom('payments as p').innerJoin('domains as d', 'd.id', 'p.domain_id');
  if (filters.id) {
    if (!/^\d{1,15}$/.test(filters.id)) throw invalid('id', 'must be a payment id');
    q = q.where('p.id', '=', Number(filters.id));
  }
  if (filters.state) {
    if (!isPaymentState(filters.state)) throw invalid('state', `must be one of ${PAYMENT_STATES.join(', ')}`);
    q = q.where('p.state', '=', filters.state);
  }
  if (filters.client_state) q = q.where('p.client_state', '=', filters.client_state);
  if (filters.amount) {
    const currency = (filters.currency || 'EUR').toUpperCase();
    q = q.where('p.total_minor', '=', parseAmount(filters.amount, currency, 'amount')).where('p.currency', '=', currency);
  }
  for (const bound of ['min_date', 'max_date'] as const) {
    const text = filters[bound];
    if (!text) continue;
    const at = parseDateOrDateTime(text);
    if (at === null) throw invalid(bound, 'must be a date YYYY-MM-DD');
    q = bound === 'min_date' ? q.where('p.register_date', '>=', at) : q.where('p.register_date', '<', at);
  }
  if (filters.domain) q = q.where('d.name', '=', filters.domain);
  const page = filters.page && /^\d{1,6}$/.test(filters.page) ? Math.max(1, Number(filters.page)) : 1;
  const [count, rows] = await Promise.all([
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    q
      .select(['p.id', 'p.state', 'p.total_minor', 'p.currency', 'p.client_state', 'p.register_date', 'p.connector_uuid', 'd.name as domain'])
      .orderBy('p.register_date', 'desc')
      .orderBy('p.id', 'desc')
      .limit(PAGE_SIZE)
      .offset((page - 1) * PAGE_SIZE)
      .execute(),
  ]);
  return {
    total: Number(count.n),
    page,
    rows: rows.map((r) => ({ ...r, id: Number(r.id), total_minor: Number(r.total_minor), register_date: Number(r.register_date) })),
  };
}

export async function paymentTimeline(db: Kysely<Database>, id: number) {
  const payment = await db
    .selectFrom('payments as p')
    .innerJoin('domains as d', 'd.id', 'p.domain_id')
    .selectAll('p')
    .select('d.name as domain')
    .where('p.id', '=', id)
    .executeTakeFirst();
  if (!payment) return null;
  const [instructions, events, exchanges, deliveries, bankAttempts] = await Promise.all([
    db.selectFrom('payment_instructions').selectAll().where('payment_id', '=', id).orderBy('position').execute(),
    db.selectFrom('payment_events').selectAll().where('payment_id', '=', id).orderBy('id').execute(),
    bankExchangesOf(db, id),
    db
      .selectFrom('webhook_deliveries as w')
      .innerJoin('webhook_endpoints as e', 'e.id', 'w.endpoint_id')
      .select(['w.id', 'w.status', 'w.attempts', 'w.created_at', 'w.delivered_at', 'w.last_status_code', 'w.data_id', 'e.url'])
      .where('w.payment_id', '=', id)
      .orderBy('w.id')
      .execute(),
    listAttempts(db, id),
  ]);
  const ids = deliveries.map((d) => d.id);
  const attempts = ids.length ? await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', ids).orderBy('id').execute() : [];
  const bodies = deliveries.length
    ? await db
        .selectFrom('webhook_data')
        .select(['id', 'body'])
        .where(
          'id',
          'in',
          deliveries.map((d) => d.data_id),
        )
        .execute()
    : [];
  return {
    payment,
    instructions,
    events,
    exchanges,
    /** Every initiation at a bank, with how many of the exchanges are its own. */
    attempts: bankAttempts.map((a) => ({
      ...a,
      current: payment.current_attempt_id !== null && Number(payment.current_attempt_id) === Number(a.id),
      calls: exchanges.filter((x) => x.attempt !== null && Number(x.attempt) === Number(a.number)).length,
    })),
    deliveries: deliveries.map((d) => {
      const body = bodies.find((b) => b.id === d.data_id)?.body;
      return {
        ...d,
        announced: (body === undefined ? null : readJson(body).state) ?? null,
        attempts: attempts.filter((a) => a.delivery_id === d.id),
      };
    }),
  };
}

/** Every call to the payment's bank (the bank boundary's log; bodies already redacted there). */
async function bankExchangesOf(db: Kysely<Database>, paymentId: number) {
  return (await exchangeRows(db, paymentId)).map(({ number, ...row }) => ({ ...row, attempt: number ?? null }));
}

export interface DayPoint {
  day: number;
  count: number;
  /** done / final (null without a final payment that day). */
  rate: number | null;
}

/** Payments per day, and the share of final payments that succeeded, for the last `days` days. */
export async function dailyVolume(db: Kysely<Database>, now: number, days = 14): Promise<DayPoint[]> {
  const first = Math.floor(now / DAY_MS) - days + 1;
  const rows = await db
    .selectFrom('payments')
    .select([sql<number>`register_date / ${sql.lit(DAY_MS)}`.as('day'), 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('register_date', '>=', first * DAY_MS)
    .groupBy([sql`register_date / ${sql.lit(DAY_MS)}`, 'state'])
    .execute();
  return Array.from({ length: days }, (_, i) => {
    const day = first + i;
    const mine = rows.filter((r) => Math.floor(Number(r.day)) === day);
    const count = mine.reduce((sum, r) => sum + Number(r.n), 0);
    const done = mine.filter((r) => ['done', 'accepted'].includes(r.state)).reduce((s, r) => s + Number(r.n), 0);
    const final = mine.filter((r) => ['done', 'accepted', 'rejected', 'expired', 'partial'].includes(r.state)).reduce((s, r) => s + Number(r.n), 0);
    return { day, count, rate: final ? done / final : null };
  });
}

/** Average webhook attempt duration per day (ms; null on days without attempts). */
export async function dailyWebhookLatency(db: Kysely<Database>, now: number, days = 14): Promise<{ day: number; avg: number | null; count: number }[]> {
  const first = Math.floor(now / DAY_MS) - days + 1;
  const rows = await db
    .selectFrom('webhook_attempts')
    .select([
      sql<number>`attempted_at / ${sql.lit(DAY_MS)}`.as('day'),
      (eb) => eb.fn.avg<number>('duration_ms').as('avg'),
      (eb) => eb.fn.countAll<number>().as('n'),
    ])
    .where('attempted_at', '>=', first * DAY_MS)
    .groupBy(sql`attempted_at / ${sql.lit(DAY_MS)}`)
    .execute();
  return Array.from({ length: days }, (_, i) => {
    const row = rows.find((r) => Math.floor(Number(r.day)) === first + i);
    return { day: first + i, avg: row ? Number(row.avg) : null, count: row ? Number(row.n) : 0 };
  });
}

/** Each endpoint with its success rate over 7 days, its last error and its backlog. */
export async function endpointHealth(db: Kysely<Database>, now: number) {
  const endpoints = await db
    .selectFrom('webhook_endpoints as e')
    .innerJoin('domains as d', 'd.id', 'e.domain_id')
    .select(['e.id', 'e.url', 'e.event', 'e.enabled', 'd.name as domain'])
    .orderBy('e.id')
    .execute();
  return Promise.all(
    endpoints.map(async (e) => {
      const attempts = db.selectFrom('webhook_attempts as a').innerJoin('webhook_deliveries as w', 'w.id', 'a.delivery_id').where('w.endpoint_id', '=', e.id);
      const [totals, lastError, backlog] = await Promise.all([
        attempts
          .where('a.attempted_at', '>=', now - 7 * DAY_MS)
          .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>(sql`case when a.error is null then 1 else 0 end`).as('ok')])
          .executeTakeFirstOrThrow(),
        attempts.where('a.error', 'is not', null).select(['a.error', 'a.attempted_at', 'a.status_code']).orderBy('a.id', 'desc').limit(1).executeTakeFirst(),
        db
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('endpoint_id', '=', e.id)
          .where('status', '=', 'pending')
          .executeTakeFirstOrThrow(),
      ]);
      const n = Number(totals.n);
      return {
        ...e,
        enabled: Number(e.enabled) === 1,
        rate: n ? Number(totals.ok) / n : null,
        attempts: n,
        lastError: lastError ?? null,
        backlog: Number(backlog.n),
      };
    }),
  );
}

export async function clientsWithRedirects(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('clients as c')
    .innerJoin('domains as d', 'd.id', 'c.domain_id')
    .select(['c.client_id', 'c.name', 'c.redirect_uris', 'c.created_at', 'd.name as domain'])
    .orderBy('c.id')
    .execute();
  return rows.map((r) => ({ ...r, redirect_uris: readJson(r.redirect_uris) }));
}

/** Configured banks (never their key material) with their calls of the last 24 hours by outcome. */
export async function configuredBanks(db: Kysely<Database>, now: number) {
  const banks = await db
    .selectFrom('banks')
    .select(['id', 'uuid', 'name', 'standard', 'base_url', 'country', 'created_at'])
    .where('removed_at', 'is', null)
    .orderBy('name')
    .execute();
  const outcomes = await db
    .selectFrom('bank_calls')
    .select(['bank_id', 'outcome', (eb) => eb.fn.countAll<number>().as('n')])
    .where('started_at', '>=', now - DAY_MS)
    .groupBy(['bank_id', 'outcome'])
    .execute();
  return banks.map((b) => {
    const of = (outcome: string) => Number(outcomes.find((o) => Number(o.bank_id) === Number(b.id) && o.outcome === outcome)?.n ?? 0);
    return { ...b, ok: of('ok'), refused: of('refused'), unknown: of('unknown') };
  });
}

/** Payments per connector over 30 days, and how many succeeded. */
export async function connectorUsage(db: Kysely<Database>, now: number) {
  const rows = await db
    .selectFrom('payments')
    .select(['connector_uuid', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('register_date', '>=', now - 30 * DAY_MS)
    .where('connector_uuid', 'is not', null)
    .groupBy(['connector_uuid', 'state'])
    .execute();
  return (uuid: string) => {
    const mine = rows.filter((r) => r.connector_uuid === uuid);
    return { count: mine.reduce((s, r) => s + Number(r.n), 0), done: mine.filter((r) => r.state === 'done').reduce((s, r) => s + Number(r.n), 0) };
  };
}

export async function domainConfigs(db: Kysely<Database>) {
  const domains = await db.selectFrom('domains').select(['id', 'name']).orderBy('id').execute();
  const values = await db.selectFrom('domain_config').selectAll().execute();
  return domains.map((d) => ({ ...d, values: Object.fromEntries(values.filter((v) => Number(v.domain_id) === Number(d.id)).map((v) => [v.key, v.value])) }));
}
