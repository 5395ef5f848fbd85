/**
 * Baseline: bare `node:http` + `node:sqlite` with statements prepared once, on the same file
 * settings as Payrail (WAL, synchronous=FULL). A payment creation writes the payment, its
 * instructions, its `created` event and the idempotency row in one BEGIN IMMEDIATE … COMMIT.
 *
 *   node bench/bare-sqlite.ts DATA_DIR      (prints {port, token, paymentId, pid} once listening)
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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

const dir = process.argv[2]!;
// The same schema as Payrail's (tables and indexes), created once with its migrations.
const setup = await openStore({ dataDir: dir });
await migrate(setup);
await createClient(setup.db, { name: 'bench', redirectUris: ['https://merchant.example/payment/return'], now: Date.now() });
await setup.close();

const db = new DatabaseSync(join(dir, 'payrail.sqlite'));
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec('PRAGMA foreign_keys = ON');
db.exec('PRAGMA busy_timeout = 5000');

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const insertPayment = db.prepare(`insert into payments (${PAYMENT_COLUMNS.join(', ')}) values (${marks(PAYMENT_COLUMNS.length)}) returning id`);
const insertInstruction = db.prepare(
  `insert into payment_instructions (${INSTRUCTION_COLUMNS.join(', ')}) values (${marks(INSTRUCTION_COLUMNS.length)}) returning id`,
);
const insertEvent = db.prepare(
  `insert into payment_events (payment_id, type, from_state, to_state, data, created_at) values (?, 'created', null, 'created', null, ?)`,
);
const insertKey = db.prepare(
  `insert into idempotency_keys (client_ref, key, request_hash, status, response_status, response_body, created_at, expires_at) values (1, ?, ?, 'done', 200, ?, ?, ?)`,
);
const selectPayment = db.prepare(`select ${PAYMENT_READ} from payments where id = ? and domain_id = 1`);
const paymentExists = db.prepare('select id from payments where id = ? and domain_id = 1');
const selectInstructions = db.prepare('select * from payment_instructions where payment_id = ? order by position');
const countPayments = db.prepare('select count(*) as n from payments where domain_id = 1');
const pagePayments = db.prepare(`select ${PAYMENT_READ} from payments where domain_id = 1 order by register_date, id limit ? offset ?`);
const insertToken = db.prepare(
  `insert into tokens (token_hash, client_ref, domain_id, scopes, payment_id, expires_at, created_at) values (?, 1, 1, 'payments:validate', ?, ?, ?)`,
);
const begin = db.prepare('begin immediate');
const commit = db.prepare('commit');
const rollback = db.prepare('rollback');

function instructionsOf(ids: number[]): Map<number, Record<string, any>[]> {
  const rows = db.prepare(`select * from payment_instructions where payment_id in (${marks(ids.length)}) order by payment_id, position`).all(...ids) as Record<
    string,
    any
  >[];
  const byPayment = new Map<number, Record<string, any>[]>();
  for (const row of rows) byPayment.set(row.payment_id, [...(byPayment.get(row.payment_id) ?? []), row]);
  return byPayment;
}

const bare: BareDb = {
  createPayment(body, key, now) {
    begin.run();
    try {
      const values = paymentValues(body, now);
      const { id } = insertPayment.get(...values) as { id: number };
      const instructions = instructionValues(body, id).map((v) => ({
        ...Object.fromEntries(INSTRUCTION_COLUMNS.map((c, i) => [c, v[i]])),
        id: (insertInstruction.get(...v) as { id: number }).id,
      }));
      insertEvent.run(id, now);
      const payment = { ...Object.fromEntries(PAYMENT_COLUMNS.map((c, i) => [c, values[i]])), id };
      const response = JSON.stringify(paymentJson(payment, instructions));
      if (key !== null) insertKey.run(key, key, response, now, now + 86_400_000);
      commit.run();
      return response;
    } catch (error) {
      rollback.run();
      throw error;
    }
  },
  getPayment(id) {
    const payment = selectPayment.get(id) as Record<string, any> | undefined;
    return payment ? JSON.stringify(paymentJson(payment, selectInstructions.all(id) as Record<string, any>[])) : null;
  },
  listPayments(limit, offset) {
    const { n } = countPayments.get() as { n: number };
    const payments = pagePayments.all(limit, offset) as Record<string, any>[];
    const instructions = payments.length ? instructionsOf(payments.map((p) => p.id)) : new Map();
    return JSON.stringify({ payments: payments.map((p) => paymentJson(p, instructions.get(p.id) ?? [])), total: n });
  },
  mintToken(paymentId, now) {
    if (!paymentExists.get(paymentId)) return null;
    const { token, hash } = newScopedToken();
    insertToken.run(hash, paymentId, now + 604_800_000, now);
    return JSON.stringify({ token, scope: 'payments:validate', id_payment: paymentId, expires_in: 604800 });
  },
};

const { token } = newScopedToken();
await serveBare(bare, token, 0);
process.on('SIGTERM', () => {
  db.close();
  process.exit(0);
});
