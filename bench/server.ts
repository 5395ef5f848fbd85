/**
 * A server for the benchmark, in its own process: `payrail` (the real app: auth, validation,
 * exact amounts, the payment transaction) or `baseline` (a bare Fastify route writing the same
 * rows in the same transaction, with no authentication or validation).
 * Prints one JSON line {port, token} once listening on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { buildApp } from '../packages/server/src/http/app.ts';
import { createClient } from '../packages/server/src/services/clients.ts';
import { migrate, openStore } from '../packages/server/src/store/db.ts';

const [mode, dialect, dir] = process.argv.slice(2) as ['payrail' | 'baseline', 'sqlite' | 'postgres', string];
const pgUrl = process.env.BENCH_DATABASE_URL ?? '';

let pgSchema: string | undefined;
if (dialect === 'postgres') {
  pgSchema = `payrail_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${pgSchema}`);
  await admin.end();
}
const store = await openStore(dialect === 'sqlite' ? { dataDir: dir } : { databaseUrl: pgUrl, pgSchema, poolSize: 10 });
await migrate(store);
const client = await createClient(store.db, { name: 'bench', redirectUris: ['https://merchant.example/payment/return'], now: Date.now() });

let token = '';
let app;
if (mode === 'payrail') {
  app = await buildApp({ store });
  const response = await app.inject({
    method: 'POST', url: '/2.0/auth/token',
    payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, scope: 'payments:admin' },
  });
  token = response.json().token;
} else {
  const domain = await store.db.selectFrom('domains').select('id').executeTakeFirstOrThrow();
  const clientRow = await store.db.selectFrom('clients').select('id').executeTakeFirstOrThrow();
  app = Fastify();
  app.post('/2.0/payments', async (request) => {
    const body = request.body as { client_redirect_uri: string; client_state: string; instructions: { label: string; amount: number; currency: string; execution_date_type: string; beneficiary: unknown }[] };
    const now = Date.now();
    return store.db.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('payments').values({
        domain_id: domain.id, client_ref: clientRow.id, state: 'created', state_detail: null, action: null, error_code: null, error_description: null,
        connector_uuid: null, id_connector: null, id_connector_source: null, validate_mechanism: null, validate_uri: null, bank_payment_id: null, website: null,
        client_redirect_uri: body.client_redirect_uri, client_state: body.client_state, payer: null, payer_identification: null, payer_identity: null,
        operator_identity: null, execution_date_type: body.instructions[0]!.execution_date_type, currency: body.instructions[0]!.currency,
        total_minor: Math.round(body.instructions[0]!.amount * 100), instruction_count: 1, country: 'FR', register_date: now, validate_date: null, updated_at: now,
      }).returning('id').executeTakeFirstOrThrow();
      const instruction = body.instructions[0]!;
      await trx.insertInto('payment_instructions').values({
        payment_id: id, position: 0, reference_id: `bench-${id}`, amount_minor: Math.round(instruction.amount * 100), currency: instruction.currency, label: instruction.label,
        execution_date_type: instruction.execution_date_type, execution_date: null, beneficiary: JSON.stringify(instruction.beneficiary),
        beneficiary_identification: 'x', beneficiary_identity: null, start_date: null, end_date: null, frequency: null, state: null,
      }).execute();
      await trx.insertInto('payment_events').values({ payment_id: id, type: 'created', from_state: null, to_state: 'created', data: null, created_at: now }).execute();
      return { id, state: 'created' };
    });
  });
}
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port), token })}\n`);

const stop = async () => {
  await app.close();
  await store.close();
  if (pgSchema) {
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`drop schema ${pgSchema} cascade`);
    await admin.end();
  }
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
