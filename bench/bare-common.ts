/**
 * What the two bare baselines (bare-sqlite.ts, bare-pg.ts) share: the HTTP plumbing on `node:http`,
 * the rows a payment creation writes, and a response of the same shape as Payrail's.
 *
 * A baseline does no validation and no query building: it is what the bare stack can do with the
 * same durable work. It checks the bearer token against the one it holds in memory (the cost of a
 * perfect token cache), so it is never slower for lack of a cache Payrail may have.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAYMENT_VIEW_COLUMNS } from '../packages/server/src/store/repositories/payments.ts';

export interface BareDb {
  createPayment(body: PaymentBody, idempotencyKey: string | null, now: number): Promise<string> | string;
  getPayment(id: number): Promise<string | null> | string | null;
  listPayments(limit: number, offset: number): Promise<string> | string;
  mintToken(paymentId: number, now: number): Promise<string | null> | string | null;
}

export interface PaymentBody {
  client_redirect_uri: string;
  client_state?: string | null;
  instructions: {
    label: string;
    amount: number;
    currency: string;
    execution_date_type: string;
    beneficiary: { identification: string };
    beneficiary_identity?: unknown;
  }[];
  payer_identity?: unknown;
}

/** The columns a payment creation writes, in this order, for both baselines. */
export const PAYMENT_COLUMNS = [
  'domain_id',
  'client_ref',
  'state',
  'connector_uuid',
  'id_connector',
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
  'updated_at',
] as const;
export const INSTRUCTION_COLUMNS = [
  'payment_id',
  'position',
  'reference_id',
  'amount_minor',
  'currency',
  'label',
  'execution_date_type',
  'beneficiary',
  'beneficiary_identification',
  'beneficiary_identity',
] as const;

/**
 * The payment columns a read selects, for both baselines: those the answer shows (the same list as
 * Payrail's reads), not `*`, so that a baseline does not read more than a careful server would.
 */
export const PAYMENT_READ = PAYMENT_VIEW_COLUMNS.join(', ');

export function paymentValues(body: PaymentBody, now: number): (string | number | null)[] {
  const first = body.instructions[0]!;
  const total = body.instructions.reduce((sum, i) => sum + Math.round(i.amount * 100), 0);
  return [
    1,
    1,
    'created',
    null,
    null,
    body.client_redirect_uri,
    body.client_state ?? null,
    null,
    null,
    body.payer_identity ? JSON.stringify(body.payer_identity) : null,
    null,
    first.execution_date_type,
    first.currency,
    total,
    body.instructions.length,
    'FR',
    now,
    now,
  ];
}

export function instructionValues(body: PaymentBody, paymentId: number): (string | number | null)[][] {
  return body.instructions.map((i, position) => [
    paymentId,
    position,
    randomBytes(8).toString('hex'),
    Math.round(i.amount * 100),
    i.currency,
    i.label,
    i.execution_date_type,
    JSON.stringify(i.beneficiary),
    i.beneficiary.identification,
    i.beneficiary_identity ? JSON.stringify(i.beneficiary_identity) : null,
  ]);
}

function dateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A Payment resource with the same fields as Payrail's, from rows (snake_case columns). */
export function paymentJson(p: Record<string, any>, instructions: Record<string, any>[]): Record<string, unknown> {
  return {
    id: p.id,
    state: p.state,
    state_detail: p.state_detail ?? null,
    action: p.action ?? null,
    error_code: p.error_code ?? null,
    error_description: p.error_description ?? null,
    fields: [],
    validate_uri: p.validate_uri ?? null,
    connector_uuid: p.connector_uuid,
    id_connector: p.id_connector,
    id_connector_source: p.id_connector_source ?? null,
    validate_mechanism: p.validate_mechanism ?? null,
    register_date: dateTime(Number(p.register_date)),
    validate_date: null,
    bank_payment_id: p.bank_payment_id ?? null,
    website: p.website ?? null,
    country: p.country,
    client_redirect_uri: p.client_redirect_uri,
    client_state: p.client_state,
    payer: p.payer ? JSON.parse(p.payer) : null,
    payer_identity: p.payer_identity ? JSON.parse(p.payer_identity) : null,
    operator_identity: p.operator_identity ? JSON.parse(p.operator_identity) : null,
    instructions: instructions.map((i) => ({
      id: i.id,
      reference_id: i.reference_id,
      amount: Number(i.amount_minor) / 100,
      currency: { id: i.currency, symbol: '€', prefix: false, crypto: false, precision: 2, marketcap: null, datetime: null, name: 'Euro' },
      label: i.label,
      execution_date_type: i.execution_date_type,
      execution_date: i.execution_date ?? null,
      exec_date: null,
      start_date: i.start_date ?? null,
      end_date: i.end_date ?? null,
      frequency: i.frequency ?? null,
      beneficiary: JSON.parse(i.beneficiary),
      beneficiary_identity: i.beneficiary_identity ? JSON.parse(i.beneficiary_identity) : null,
      state: i.state ?? null,
    })),
  };
}

export function newScopedToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: createHash('sha256').update(token).digest('hex') };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Serves the four measured routes on 127.0.0.1 and prints one JSON line {port, token, paymentId}. */
export async function serveBare(db: BareDb, token: string, paymentId: number): Promise<void> {
  const expected = `Bearer ${token}`;
  const server = createServer(async (request, response) => {
    try {
      if (request.headers.authorization !== expected) return send(response, 401, '{"code":"unauthorized"}');
      const url = new URL(request.url ?? '/', 'http://x');
      const match = /^\/2\.0\/payments(?:\/(\d+)(\/scopedtoken)?)?$/.exec(url.pathname);
      if (!match) return send(response, 404, '{"code":"notFound"}');
      const now = Date.now();
      if (request.method === 'POST' && !match[1]) {
        const body = JSON.parse(await readBody(request)) as PaymentBody;
        const key = request.headers['idempotency-key'];
        return send(response, 200, await db.createPayment(body, typeof key === 'string' ? key : null, now));
      }
      if (request.method === 'GET' && !match[1]) {
        return send(response, 200, await db.listPayments(Number(url.searchParams.get('limit') ?? 50), Number(url.searchParams.get('offset') ?? 0)));
      }
      if (request.method === 'GET' && !match[2]) {
        const body = await db.getPayment(Number(match[1]));
        return body === null ? send(response, 404, '{"code":"notFound"}') : send(response, 200, body);
      }
      if (request.method === 'POST' && match[2]) {
        await readBody(request);
        const body = await db.mintToken(Number(match[1]), now);
        return body === null ? send(response, 404, '{"code":"notFound"}') : send(response, 200, body);
      }
      return send(response, 405, '{"code":"methodNotAllowed"}');
    } catch (error) {
      process.stderr.write(`bare server: ${(error as Error).message}\n`);
      send(response, 500, '{"code":"internalError"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port, token, paymentId, pid: process.pid })}\n`);
}
