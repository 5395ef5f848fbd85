/**
 * Baseline: bare `node:http` + plain `pg` (a pool of 10, named prepared statements) on the same
 * schema as Payrail. A payment creation writes the payment, its instructions, its `created` event
 * and the idempotency row in one BEGIN … COMMIT on one pooled connection.
 *
 *   node bench/bare-pg.ts DATABASE_URL      (prints {port, token, paymentId, pid} once listening)
 */
import pg from 'pg';
import { createClient } from '../packages/server/src/services/clients.ts';
import { migrate, openStore } from '../packages/server/src/store/db.ts';
import {
  INSTRUCTION_COLUMNS,
  instructionValues,
  newScopedToken,
  PAYMENT_COLUMNS,
  PAYMENT_READ,
  paymentJson,
  paymentValues,
  serveBare,
  type BareDb,
} from './bare-common.ts';

const url = process.argv[2]!;
const setup = await openStore({ databaseUrl: url, poolSize: 1 });
await migrate(setup);
await createClient(setup.db, { name: 'bench', redirectUris: ['https://merchant.example/payment/return'], now: Date.now() });
await setup.close();

pg.types.setTypeParser(20, Number);
const pool = new pg.Pool({ connectionString: url, max: 10 });
const marks = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');
const q = (name: string, text: string) => (values: unknown[]) => ({ name, text, values });
const insertPayment = q('insert_payment', `insert into payments (${PAYMENT_COLUMNS.join(', ')}) values (${marks(PAYMENT_COLUMNS.length)}) returning id`);
const insertInstruction = q(
  'insert_instruction',
  `insert into payment_instructions (${INSTRUCTION_COLUMNS.join(', ')}) values (${marks(INSTRUCTION_COLUMNS.length)}) returning id`,
);
const insertEvent = q(
  'insert_event',
  `insert into payment_events (payment_id, type, from_state, to_state, data, created_at) values ($1, 'created', null, 'created', null, $2)`,
);
const insertKey = q(
  'insert_key',
  `insert into idempotency_keys (client_ref, key, request_hash, status, response_status, response_body, created_at, expires_at) values (1, $1, $2, 'done', 200, $3, $4, $5)`,
);
const selectPayment = q('select_payment', `select ${PAYMENT_READ} from payments where id = $1 and domain_id = 1`);
const paymentExists = q('payment_exists', 'select id from payments where id = $1 and domain_id = 1');
const selectInstructions = q('select_instructions', 'select * from payment_instructions where payment_id = $1 order by position');
const countPayments = q('count_payments', 'select count(*) as n from payments where domain_id = 1');
const pagePayments = q('page_payments', `select ${PAYMENT_READ} from payments where domain_id = 1 order by register_date, id limit $1 offset $2`);
const pageInstructions = q('page_instructions', 'select * from payment_instructions where payment_id = any($1::bigint[]) order by payment_id, position');
const insertToken = q(
  'insert_token',
  `insert into tokens (token_hash, client_ref, domain_id, scopes, payment_id, expires_at, created_at) values ($1, 1, 1, 'payments:validate', $2, $3, $4)`,
);

const bare: BareDb = {
  async createPayment(body, key, now) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const values = paymentValues(body, now);
      const { id } = (await client.query(insertPayment(values))).rows[0] as { id: number };
      const instructions = [];
      for (const v of instructionValues(body, id)) {
        const row = (await client.query(insertInstruction(v))).rows[0] as { id: number };
        instructions.push({ ...Object.fromEntries(INSTRUCTION_COLUMNS.map((c, i) => [c, v[i]])), id: row.id });
      }
      await client.query(insertEvent([id, now]));
      const payment = { ...Object.fromEntries(PAYMENT_COLUMNS.map((c, i) => [c, values[i]])), id };
      const response = JSON.stringify(paymentJson(payment, instructions));
      if (key !== null) await client.query(insertKey([key, key, response, now, now + 86_400_000]));
      await client.query('commit');
      return response;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  },
  async getPayment(id) {
    const [payment, instructions] = await Promise.all([pool.query(selectPayment([id])), pool.query(selectInstructions([id]))]);
    return payment.rows[0] ? JSON.stringify(paymentJson(payment.rows[0], instructions.rows)) : null;
  },
  async listPayments(limit, offset) {
    const [count, page] = await Promise.all([pool.query(countPayments([])), pool.query(pagePayments([limit, offset]))]);
    const ids = page.rows.map((p) => p.id);
    const rows = ids.length ? (await pool.query(pageInstructions([ids]))).rows : [];
    const byPayment = new Map<number, Record<string, any>[]>();
    for (const row of rows) byPayment.set(row.payment_id, [...(byPayment.get(row.payment_id) ?? []), row]);
    return JSON.stringify({ payments: page.rows.map((p) => paymentJson(p, byPayment.get(p.id) ?? [])), total: Number(count.rows[0].n) });
  },
  async mintToken(paymentId, now) {
    if ((await pool.query(paymentExists([paymentId]))).rows.length === 0) return null;
    const { token, hash } = newScopedToken();
    await pool.query(insertToken([hash, paymentId, now + 604_800_000, now]));
    return JSON.stringify({ token, scope: 'payments:validate', id_payment: paymentId, expires_in: 604800 });
  },
};

const { token } = newScopedToken();
await serveBare(bare, token, 0);
process.on('SIGTERM', () => {
  void pool.end().finally(() => process.exit(0));
});
