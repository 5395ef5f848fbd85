/**
 * The three outcomes through the API, with a minimal connector module written here that speaks to
 * a loopback bank through the core's `ctx.http` (the far side is a real HTTP server; the core —
 * claims, attempts, apply, status sync — is the real one).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bankDescriptor } from '../src/connectors/kit/descriptor.ts';
import type {
  BankResponse,
  Connector,
  ConnectorContext,
  ConnectorModule,
  ConnectorOutcome,
  ConnectorPayment,
  PaymentSettings,
} from '../src/connectors/kit/types.ts';
import { syncDuePayments } from '../src/jobs/sync-payments.ts';
import { addBank } from '../src/services/banks.ts';
import { listCalls } from '../src/services/attempts.ts';
import { createOperator } from '../src/services/operators.ts';
import { keyringFromKeys } from '../src/services/secret-box.ts';
import { bearer, describeEachDb, paymentWithAttempt, REDIRECT_URI, setPaymentSync, syncEnvironment, type TestContext } from './support/helpers.ts';

const keyring = keyringFromKeys([Buffer.alloc(32, 9)]);
const WEBVIEW_URL = 'https://merchant.example/payment/webview';

const settings: PaymentSettings = {
  available_validate_mechanisms: ['webauth'],
  beneficiary_types: ['iban'],
  execution_date_types: ['first_open_day', 'instant'],
  execution_frequencies: [],
  maximum_number_of_instructions: 1,
  providing_payer_account: 'optional',
  partial_status_tracking: [],
  is_app_to_app_used: { android: false, ios: false },
  bank_provides_payer_account: false,
  bank_provides_payer_label: false,
  transfer_date_types_where_trusted_beneficiary_required: [],
  cancellation_available: true,
  minimum_amount: null,
  maximum_amount: null,
  minimum_date_delta_days: 1,
  maximum_date_delta_days: 365,
  currencies: ['EUR'],
  bulk_execution_date_types: [],
  bulk_providing_payer_account: 'optional',
  trusted_beneficiaries_required_for_bulk: false,
};

/** Maps a bank answer to the boundary's outcomes, as every real connector does. */
function outcomeOf(answer: BankResponse, data: Record<string, unknown>, ok: (body: Record<string, unknown>) => ConnectorOutcome): ConnectorOutcome {
  if (answer.kind === 'unknown') return { kind: 'unknown', reason: answer.reason, data };
  if (answer.status >= 500) return { kind: 'unknown', reason: `HTTP ${answer.status}`, data };
  const body = (answer.body ?? {}) as Record<string, unknown>;
  if (answer.status >= 400)
    return { kind: 'refused', error_code: String(body.code ?? 'noSpecifiedReason'), error_description: 'The bank refused.', bank_status: 'RJCT', data };
  return ok(body);
}

function stateOf(status: string, data: Record<string, unknown>): ConnectorOutcome {
  const state = status === 'ACSC' ? 'done' : status === 'RJCT' || status === 'CANC' ? 'rejected' : 'pending';
  return {
    kind: 'state',
    state,
    bank_status: status,
    ...(status === 'CANC' ? { error_code: 'CancelledByClient', error_description: 'Cancelled at the bank.' } : {}),
    data,
  };
}

const loopbackModule: ConnectorModule = {
  standard: 'loopback',
  profileKeys: { timeout_ms: 'integer: deadline' },
  settings,
  validateConfig: (raw) => (raw ?? {}) as Record<string, unknown>,
  create(bank) {
    const status = async (p: ConnectorPayment, ctx: ConnectorContext) => {
      if (!p.bank_payment_id) return null; // an initiation whose answer was lost has no id to ask about
      const answer = await ctx.http.send({ operation: 'status', method: 'GET', path: `/v1/payments/${p.bank_payment_id}/status` });
      return outcomeOf(answer, p.data ?? {}, (b) => stateOf(String(b.transactionStatus), p.data ?? {}));
    };
    const connector: Connector = {
      bank,
      descriptor: bankDescriptor(bank, settings),
      async start(p, _input, ctx) {
        const answer = await ctx.http.send({
          operation: 'initiate',
          method: 'POST',
          path: '/v1/payments',
          body: { amount: p.instructions[0]!.amount_minor, ok: ctx.returnUrls.ok },
        });
        return outcomeOf(answer, {}, (b) =>
          bank.sca_approach === 'decoupled'
            ? { kind: 'decoupled', description: 'Approve in your app.', bank_reference: String(b.paymentId), data: { id: b.paymentId } }
            : { kind: 'redirect', validate_uri: String(b.scaRedirect), bank_reference: String(b.paymentId), data: { id: b.paymentId } },
        );
      },
      bankReturn: async (p, _params, ctx) => (await status(p, ctx)) ?? { kind: 'state', state: 'pending', data: p.data ?? {} },
      resume: async (p, ctx) => (await status(p, ctx)) ?? { kind: 'decoupled', description: 'Approve in your app.', data: p.data ?? {} },
      submitFields: async (p) => ({ kind: 'refused', error_code: 'notSupported', error_description: 'no fields', data: p.data ?? {} }),
      psuValidate: async (p) => ({ kind: 'refused', error_code: 'notSupported', error_description: 'no psu validation', data: p.data ?? {} }),
      status,
      async cancel(p, ctx) {
        const answer = await ctx.http.send({ operation: 'cancel', method: 'DELETE', path: `/v1/payments/${p.bank_payment_id}` });
        if (answer.kind === 'response' && answer.status === 202)
          return { kind: 'cancelling', validate_uri: 'https://bank.example/cancel-sca', data: p.data ?? {} };
        return outcomeOf(answer, p.data ?? {}, () => stateOf('CANC', p.data ?? {}));
      },
      pollIntervalMs: () => 1000,
    };
    return connector;
  },
};

interface Hit {
  method: string;
  path: string;
  requestId: string;
}

describeEachDb(
  'bank boundary outcomes through the API',
  (ctx) => {
    const hits: Hit[] = [];
    let behave: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
    const bankServer = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits.push({ method: req.method!, path: req.url!, requestId: String(req.headers['x-request-id']) });
        behave(req, res);
      });
    });
    let base = '';
    const json = (res: ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const accept = (res: ServerResponse) =>
      json(res, 201, { transactionStatus: 'RCVD', paymentId: `bank-${hits.length}`, scaRedirect: 'https://bank.example/sca' });

    async function bank(c: TestContext, sca: 'redirect' | 'decoupled') {
      const added = await addBank(
        { db: c.store.db, keyring, clock: c.clock, modules: [loopbackModule] },
        { name: `Loopback ${sca} ${Math.random()}`, standard: 'loopback', base_url: base, sca_approach: sca, profile: { timeout_ms: 400 } },
      );
      c.app.payrail.connectors.invalidate();
      return added;
    }
    async function validate(c: TestContext, id: number, uuid: string) {
      const token = await c.scopedToken(id);
      return c.app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(token), payload: { connector_uuid: uuid, webview_url: WEBVIEW_URL } });
    }
    async function attempts(c: TestContext, id: number) {
      return (await listCalls(c.store.db, id)).map((a) => ({
        id: a.id,
        operation: a.operation,
        outcome: a.outcome,
        http_status: a.http_status,
        bank_reference: a.bank_reference,
      }));
    }
    /** Other tests' payments are left out of status sync, so each test counts only its own bank calls. */
    async function onlyDue(c: TestContext, ids: number[]) {
      await setPaymentSync(c.store.db, { notIn: ids }, { next_sync_at: null });
    }
    const initiations = () => hits.filter((h) => h.method === 'POST').length;
    const env = syncEnvironment;

    beforeAll(async () => {
      await new Promise<void>((r) => bankServer.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(bankServer.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      bankServer.closeAllConnections();
      await new Promise((r) => bankServer.close(r));
    });

    it('ok: the initiation is recorded with the bank reference; the payer return URLs are signed and bound to the payment', async () => {
      const c = ctx();
      const { uuid } = await bank(c, 'redirect');
      behave = (_req, res) => accept(res);
      const id = await c.createPayment();
      const answer = await validate(c, id, uuid);
      expect(answer.json()).toMatchObject({ state: 'validating', action: 'redirect', validate_uri: 'https://bank.example/sca', state_detail: null });
      const rows = await attempts(c, id);
      expect(rows).toEqual([{ id: hits.at(-1)!.requestId, operation: 'initiate', outcome: 'ok', http_status: 201, bank_reference: `bank-${hits.length}` }]);
      const row = await paymentWithAttempt(c.store.db, id);
      expect(row.bank_payment_id).toBe(`bank-${hits.length}`);
      expect(row.next_sync_at).toBe(c.clock.now() + 1000); // the connector's schedule
    });

    it('refused: a 4xx ends the payment rejected with the mapped code, attempt refused', async () => {
      const c = ctx();
      const { uuid } = await bank(c, 'redirect');
      behave = (_req, res) => json(res, 400, { code: 'invalidEmitter' });
      const id = await c.createPayment();
      expect((await validate(c, id, uuid)).json()).toMatchObject({ state: 'rejected', error_code: 'invalidEmitter', action: null });
      expect((await attempts(c, id)).map((a) => a.outcome)).toEqual(['refused']);
    });

    it('unknown initiation on a redirect bank: never re-sent by Payrail; the payer may start one fresh attempt, which completes once', async () => {
      const c = ctx();
      const { uuid } = await bank(c, 'redirect');
      behave = () => undefined; // the bank takes the request and never answers
      const id = await c.createPayment();
      const before = initiations();
      const lost = await validate(c, id, uuid);
      expect(lost.json()).toMatchObject({ state: 'validating', action: null, state_detail: 'initiation_unknown' });
      expect(lost.json().error_description).toMatch(/did not confirm/);
      expect((await attempts(c, id)).map((a) => a.outcome)).toEqual(['unknown']);
      // Status sync runs: nothing to ask about and nothing re-sent.
      c.clock.advance(2000);
      await onlyDue(c, [id]);
      const calls = hits.length;
      await syncDuePayments(env(c));
      expect(hits.length).toBe(calls);
      expect(initiations() - before).toBe(1);
      // The payer starts afresh: a new initiation with a new X-Request-ID.
      behave = (_req, res) => accept(res);
      const fresh = await validate(c, id, uuid);
      expect(fresh.json()).toMatchObject({ state: 'validating', action: 'redirect', state_detail: null });
      expect(initiations() - before).toBe(2);
      expect(hits.at(-1)!.requestId).not.toBe(hits.at(-2)!.requestId);
      expect((await attempts(c, id)).map((a) => a.outcome)).toEqual(['unknown', 'ok']);
      // A third validation is refused: the payment is no longer created nor unknown.
      expect((await validate(c, id, uuid)).json()).toMatchObject({ code: 'invalidState' });
      expect(initiations() - before).toBe(2);
      // The payer pays through the fresh attempt.
      const bankId = hits.length; // accept() named the fresh initiation bank-<hits>
      behave = (_req, res) => json(res, 200, { transactionStatus: 'ACSC' });
      await onlyDue(c, [id]);
      c.clock.advance(1000);
      expect(await syncDuePayments(env(c))).toBe(1);
      const paid = await c.app.inject({ method: 'GET', url: `/2.0/payments/${id}`, headers: bearer(await c.token('payments:admin')) });
      expect(paid.json()).toMatchObject({ state: 'done', bank_payment_id: `bank-${bankId}` });

      // Both attempts stay, each with its own bank payment id and its own exchanges (history is never overwritten).
      const log = (await c.app.inject({ method: 'GET', url: `/2.0/payments/${id}/exchanges`, headers: bearer(await c.token('payments:admin')) })).json();
      const [first, second] = log.payment_attempts;
      expect(log.payment_attempts).toHaveLength(2);
      expect(first).toMatchObject({ number: 1, current: false, outcome: 'unknown', bank_payment_id: null, bank_status: null, next_sync_at: null });
      expect(first.superseded_at).not.toBeNull();
      expect(second).toMatchObject({ number: 2, current: true, outcome: 'ok', bank_payment_id: `bank-${bankId}`, bank_status: 'ACSC', superseded_at: null });
      expect(first.bank_id).toBe(second.bank_id);
      expect(first.calls).toEqual([hits.at(-3)!.requestId]);
      expect(second.calls).toEqual([hits.at(-2)!.requestId, hits.at(-1)!.requestId]);
      expect(log.exchanges.map((e: { operation: string; attempt: number; request_id: string }) => `${e.attempt} ${e.operation} ${e.request_id}`)).toEqual([
        `1 initiate ${first.calls[0]}`,
        `2 initiate ${second.calls[0]}`,
        `2 status ${second.calls[1]}`,
      ]);
      expect(log.attempts.map((a: { attempt: number; outcome: string }) => `${a.attempt}:${a.outcome}`)).toEqual(['1:unknown', '2:ok', '2:ok']);

      // The dashboard's timeline shows both attempts, and which exchanges are whose.
      const operator = await createOperator(c.store.db, c.clock, `ops-${id}@example.com`);
      const form = await c.app.inject({ url: '/admin/login' });
      const nonce = /payrail_admin_login=([^;]+)/.exec(String(form.headers['set-cookie']))![1]!;
      const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1]!;
      const login = await c.app.inject({
        method: 'POST',
        url: '/admin/login',
        headers: { cookie: `payrail_admin_login=${nonce}` },
        payload: { csrf, email: operator.email, password: operator.password },
      });
      const session = /payrail_admin=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
      const page = await c.app.inject({ url: `/admin/payments/${id}`, headers: { cookie: `payrail_admin=${session}` } });
      expect(page.statusCode).toBe(200);
      const rows = [
        ...page.body.matchAll(/<tr><td class="num">(\d)( <span class="muted">\(current\)<\/span>)?<\/td><td>[^<]*<\/td>\s*<td class="mono">([^<]*)<\/td>/g),
      ].map((m) => `${m[1]}${m[2] ? ' current' : ''} ${m[3]}`);
      expect(page.body).toContain('Attempts at the bank');
      expect(rows).toEqual(['1 —', `2 current bank-${bankId}`]);
      for (const requestId of [...first.calls, ...second.calls]) expect(page.body).toContain(requestId);
    });

    it('unknown initiation on a decoupled bank: no fresh attempt, ever', async () => {
      const c = ctx();
      const { uuid } = await bank(c, 'decoupled');
      behave = (_req, res) => json(res, 502, {});
      const id = await c.createPayment();
      const before = hits.length;
      expect((await validate(c, id, uuid)).json()).toMatchObject({ state: 'validating', state_detail: 'initiation_unknown' });
      behave = (_req, res) => accept(res);
      const again = await validate(c, id, uuid);
      expect([again.statusCode, again.json().code]).toEqual([409, 'invalidState']);
      expect(hits.length - before).toBe(1);
    });

    it('two validations at once send one initiation: the payment is claimed before the bank is called', async () => {
      const c = ctx();
      const { uuid } = await bank(c, 'redirect');
      behave = (_req, res) => setTimeout(() => accept(res), 150);
      const id = await c.createPayment();
      const before = hits.length;
      const answers = await Promise.all([validate(c, id, uuid), validate(c, id, uuid), validate(c, id, uuid)]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409, 409]);
      expect(hits.length - before).toBe(1);
      expect(await attempts(c, id)).toHaveLength(1);
    });

    it('an unknown status answer changes nothing and is resolved by asking again at the next sync', async () => {
      const c = ctx();
      const { uuid } = await bank(c, 'redirect');
      behave = (_req, res) => accept(res);
      const id = await c.createPayment();
      await validate(c, id, uuid);
      await onlyDue(c, [id]);
      behave = (_req, res) => json(res, 503, {});
      c.clock.advance(1000);
      expect(await syncDuePayments(env(c))).toBe(0);
      const after = await paymentWithAttempt(c.store.db, id);
      expect(after.state).toBe('validating');
      expect(after.next_sync_at).toBeLessThanOrEqual(c.clock.now() + 5000);
      behave = (_req, res) => json(res, 200, { transactionStatus: 'ACSC' });
      c.clock.advance(5000);
      expect(await syncDuePayments(env(c))).toBe(1);
      const done = await paymentWithAttempt(c.store.db, id);
      expect(done).toMatchObject({ state: 'done', bank_status: 'ACSC' });
      expect((await attempts(c, id)).map((a) => `${a.operation}:${a.outcome}`)).toEqual(['initiate:ok', 'status:unknown', 'status:ok']);
    });

    it('cancels a pending payment at the bank; the payer approval path; a refusal is notSupported; the exchange log shows every call (admin only)', async () => {
      const c = ctx();
      const { uuid } = await bank(c, 'redirect');
      const pending = async () => {
        behave = (_req, res) => accept(res);
        const id = await c.createPayment();
        await validate(c, id, uuid);
        await onlyDue(c, [id]);
        behave = (_req, res) => json(res, 200, { transactionStatus: 'ACSP' });
        c.clock.advance(1000);
        await syncDuePayments(env(c));
        return id;
      };
      const cancelToken = await c.token('payments:cancel');
      const cancel = (id: number) =>
        c.app.inject({
          method: 'POST',
          url: `/2.0/payments/${id}`,
          headers: bearer(cancelToken),
          payload: { cancel: true, client_redirect_uri: REDIRECT_URI, client_state: 'cancel-1' },
        });
      const a = await pending();
      expect((await c.app.inject({ method: 'GET', url: `/2.0/payments/${a}`, headers: bearer(cancelToken) })).json().state).toBe('pending');
      behave = (_req, res) => res.writeHead(204).end();
      expect((await cancel(a)).json()).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient' });
      expect(hits.at(-1)).toMatchObject({ method: 'DELETE', path: `/v1/payments/bank-${hits.length - 2}` });

      const b = await pending();
      behave = (_req, res) => json(res, 202, { transactionStatus: 'ACTC' });
      expect((await cancel(b)).json()).toMatchObject({
        state: 'pending',
        state_detail: 'cancelling',
        action: 'redirect',
        validate_uri: 'https://bank.example/cancel-sca',
        client_state: 'cancel-1',
      });

      const d = await pending();
      behave = (_req, res) => json(res, 405, { tppMessages: [{ code: 'CANCELLATION_INVALID' }] });
      const refused = await cancel(d);
      expect([refused.statusCode, refused.json().code, refused.json().description]).toEqual([
        400,
        'notSupported',
        'Bad request, please check your request parameters.',
      ]);
      expect((await attempts(c, d)).map((x) => `${x.operation}:${x.outcome}`)).toEqual(['initiate:ok', 'status:ok', 'cancel:refused']);

      const admin = await c.token('payments:admin');
      const log = await c.app.inject({ method: 'GET', url: `/2.0/payments/${d}/exchanges`, headers: bearer(admin) });
      expect(log.statusCode).toBe(200);
      expect(log.json().exchanges.map((e: { operation: string; method: string; status: number }) => `${e.operation} ${e.method} ${e.status}`)).toEqual([
        'initiate POST 201',
        'status GET 200',
        'cancel DELETE 405',
      ]);
      expect(log.json().attempts.map((x: { outcome: string }) => x.outcome)).toEqual(['ok', 'ok', 'refused']);
      const readOnly = await c.token('payments:read-only');
      expect((await c.app.inject({ method: 'GET', url: `/2.0/payments/${d}/exchanges`, headers: bearer(readOnly) })).statusCode).toBe(403);
    });
  },
  { keyring, testBank: false, connectorModules: [loopbackModule] },
);
