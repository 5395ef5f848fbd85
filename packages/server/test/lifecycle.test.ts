/**
 * The payment lifecycle after approval: status sync, expiry, configuration, and signed webhooks
 * delivered to a real receiver on 127.0.0.1, on every database.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import type { JobEnvironment } from '../src/jobs/environment.ts';
import { retryDelayMs } from '../src/store/lease.ts';
import { deliverDueWebhooks } from '../src/webhooks/delivery.ts';
import { expireDuePayments } from '../src/jobs/expire-payments.ts';
import { syncDuePayments } from '../src/jobs/sync-payments.ts';
import type { ActionEnvironment } from '../src/services/payment-actions.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import { bearer, describeEachDb, guideBody, type TestContext } from './support/helpers.ts';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  raw: Buffer;
  body: string;
}

/** A merchant's webhook receiver on loopback, whose answers the test decides. */
class Receiver {
  received: Received[] = [];
  answer: (n: number) => number = () => 200;
  server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      this.received.push({ path: request.url ?? '', headers: request.headers, raw, body });
      response.writeHead(this.answer(this.received.length));
      response.end();
    });
  });
  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/payrail`;
  }
  async stop() {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const STEP_MS = 1000;

describeEachDb(
  'payment lifecycle and webhooks',
  (ctx) => {
    const receiver = new Receiver();
    let url = '';
    let admin = '';
    let secret = '';
    let env: JobEnvironment & { actions: ActionEnvironment };

    beforeAll(async () => {
      url = await receiver.start();
      const c = ctx();
      env = {
        db: c.store.db,
        dialect: c.store.dialect,
        clock: c.clock,
        keyring: c.app.payrail.keyring,
        allowPrivateWebhooks: true,
        actions: {
          db: c.store.db,
          clock: c.clock,
          secret: c.app.payrail.secret,
          baseUrl: 'http://localhost:80',
          testStepMs: STEP_MS,
          connectors: c.app.payrail.connectors,
          notifier: c.app.payrail.notifier,
        },
      };
    });
    afterAll(async () => receiver.stop());

    const api = async (method: 'GET' | 'POST' | 'DELETE', path: string, payload?: object, token?: string) =>
      ctx().app.inject({ method, url: `/2.0${path}`, headers: bearer(token ?? admin), ...(payload ? { payload } : {}) });
    const freshAdmin = async () => (admin = await ctx().token('payments:admin'));

    async function validate(c: TestContext, id: number, useCase: string | null) {
      const token = await c.scopedToken(id);
      const response = await api(
        'POST',
        `/payments/${id}`,
        { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own', fields: useCase ? { use_case_pay: useCase } : {} },
        token,
      );
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    }
    async function approveAtBank(validateUri: string) {
      const u = new URL(validateUri);
      const form = new URLSearchParams({ ...Object.fromEntries(u.searchParams), decision: 'approve' });
      await ctx().app.inject({ method: 'POST', url: u.pathname, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
    }
    const deliverAll = async () => {
      let total = 0;
      for (let n = await deliverDueWebhooks(env); n > 0; n = await deliverDueWebhooks(env)) total += n;
      return total;
    };
    const states = (from: number) => receiver.received.slice(from).map((r) => JSON.parse(r.body).state);

    it('registers an endpoint (admin only) and shows its secret once', async () => {
      await freshAdmin();
      const readOnly = await ctx().token('payments:read-only');
      expect((await api('POST', '/webhooks', { url }, readOnly)).statusCode).toBe(403);
      expect((await api('POST', '/webhooks', { url: 'ftp://x' })).json()).toMatchObject({ code: 'invalidValue', field: 'url' });
      const created = await api('POST', '/webhooks', { url, event: 'PAYMENT_STATE_UPDATED' });
      expect(created.json()).toMatchObject({ id: expect.any(Number), url, event: 'PAYMENT_STATE_UPDATED', enabled: true, secret_key: expect.any(String) });
      secret = created.json().secret_key;
      const list = (await api('GET', '/webhooks')).json();
      expect(list.webhooks).toHaveLength(1);
      expect(JSON.stringify(list)).not.toContain(secret);
    });

    it('carries a pdng/done first-open-day payment created → validating → pending → done, one signed webhook per change', async () => {
      const from = receiver.received.length;
      const body = guideBody('first_open_day');
      body.instructions[0]!.label = 'pdng/done - Order 42';
      const id = await ctx().createPayment(body);
      const validating = await validate(ctx(), id, null);
      expect(validating.state).toBe('validating');
      await approveAtBank(validating.validate_uri);
      expect((await api('GET', `/payments/${id}`)).json().state).toBe('pending');
      expect(await syncDuePayments(env)).toBe(0); // not yet: one step is 1 s
      ctx().clock.advance(STEP_MS);
      expect(await syncDuePayments(env)).toBe(1);
      expect((await api('GET', `/payments/${id}`)).json().state).toBe('done');
      expect(await deliverAll()).toBe(3);
      const got = receiver.received.slice(from);
      expect(states(from)).toEqual(['validating', 'pending', 'done']);
      for (const r of got) {
        expect(r.path).toBe('/hooks/payrail');
        expect(r.headers['content-type']).toBe('application/json');
        const date = String(r.headers['bi-signature-date']);
        expect(date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
        expect(verifyWebhookSignature(secret, 'POST', '/hooks/payrail', date, r.body, String(r.headers['bi-signature']))).toBe(true);
        expect(verifyWebhookSignature(secret, 'POST', '/hooks/payrail', date, r.body.replace('50.9', '59.9'), String(r.headers['bi-signature']))).toBe(false);
        const payload = JSON.parse(r.body);
        expect(payload).toMatchObject({ id, id_webhook_data: expect.any(Number), instructions: [{ label: 'pdng/done - Order 42' }] });
        expect(r.body).toContain('"amount":50.9000000000');
      }
      expect(new Set(got.map((r) => JSON.parse(r.body).id_webhook_data)).size).toBe(3);
    });

    it('retries a receiver that fails, in order, logs each attempt, and replays on demand', async () => {
      const from = receiver.received.length;
      receiver.answer = (n) => (n <= from + 2 ? 500 : 200);
      const id = await ctx().createPayment(guideBody('instant'));
      const validating = await validate(ctx(), id, 'redirect');
      await ctx().app.inject({ url: new URL(validating.validate_uri).pathname + new URL(validating.validate_uri).search }); // visiting approves → done
      expect(await deliverAll()).toBe(0); // first attempt: 500
      expect(receiver.received.length).toBe(from + 1); // the later change waits behind the failed one
      ctx().clock.advance(retryDelayMs(1, 1)); // the longest first delay
      expect(await deliverAll()).toBe(0); // second attempt: 500
      ctx().clock.advance(retryDelayMs(2, 1));
      expect(await deliverAll()).toBe(2);
      expect(states(from)).toEqual(['validating', 'validating', 'validating', 'done']);
      receiver.answer = () => 200;
      const log = (await api('GET', `/webhooks/deliveries?payment_id=${id}`)).json().deliveries.filter((d: { url: string }) => d.url === url);
      expect(log).toHaveLength(2);
      const first = log.find((d: { id: number }) => d.id === Math.min(...log.map((x: { id: number }) => x.id)));
      expect(first).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200 });
      expect(first.attempts_log.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 200]);
      expect(first.attempts_log.every((a: { duration_ms: number }) => a.duration_ms >= 0)).toBe(true);
      const replay = await api('POST', `/webhooks/deliveries/${first.id}/replay`);
      expect(replay.statusCode).toBe(200);
      const before = receiver.received.length;
      expect(await deliverAll()).toBe(1);
      expect(JSON.parse(receiver.received[before]!.body).id_webhook_data).toBe(first.id_webhook_data);
      expect((await api('POST', '/webhooks/deliveries/999999/replay')).statusCode).toBe(404);
    });

    it('delivers to a receiver that was down once it comes back', async () => {
      const down = new Receiver();
      const downUrl = await down.start();
      const port = Number(new URL(downUrl).port);
      await down.stop(); // nothing listens there now
      const endpoint = (await api('POST', '/webhooks', { url: downUrl })).json();
      const id = await ctx().createPayment(guideBody('instant'));
      await validate(ctx(), id, 'decoupled');
      await deliverAll();
      const failed = (await api('GET', `/webhooks/deliveries?payment_id=${id}`))
        .json()
        .deliveries.find((d: { endpoint_id: number }) => d.endpoint_id === endpoint.id);
      expect(failed).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
      expect(failed.last_error).toBeTruthy();
      const back = new Receiver();
      await back.start(port);
      ctx().clock.advance(retryDelayMs(1, 1));
      await deliverAll();
      expect(back.received.map((r) => JSON.parse(r.body).state)).toEqual(['validating']);
      await back.stop();
      await api('DELETE', `/webhooks/${endpoint.id}`);
    });

    it('retries a receiver that answers nothing (timeout) until it answers again', async () => {
      let hang = 2;
      const held: import('node:http').ServerResponse[] = [];
      const silent = createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          if (hang-- > 0)
            held.push(response); // accepts, never answers
          else response.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const endpoint = (await api('POST', '/webhooks', { url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/quiet` })).json();
      const shortTimeout = { ...env, deliveryTimeoutMs: 300 };
      const id = await ctx().createPayment(guideBody('instant'));
      await validate(ctx(), id, 'decoupled');
      const log = async () =>
        (await api('GET', `/webhooks/deliveries?payment_id=${id}`)).json().deliveries.find((d: { endpoint_id: number }) => d.endpoint_id === endpoint.id);
      for (let attempt = 1; attempt <= 2; attempt++) {
        await deliverDueWebhooks(shortTimeout);
        expect(await log()).toMatchObject({ status: 'pending', attempts: attempt, last_error: 'timeout', last_status_code: null });
        ctx().clock.advance(retryDelayMs(attempt, 1));
      }
      await deliverDueWebhooks(shortTimeout);
      const done = await log();
      expect(done).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200 });
      expect(done.attempts_log.map((a: { error: string | null }) => a.error)).toEqual(['timeout', 'timeout', null]);
      for (const response of held) response.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await api('DELETE', `/webhooks/${endpoint.id}`);
      await deliverAll();
    });

    it('in legacy mode announces only background changes; gzip when asked', async () => {
      const config = await api('POST', '/config', { 'payment.state_updated_webhook.systematic': '0', 'webhooks.compression.enabled': '1' });
      expect(config.json()).toMatchObject({ 'payment.state_updated_webhook.systematic': '0', 'webhooks.compression.enabled': '1' });
      const from = receiver.received.length;
      const body = guideBody('instant');
      body.instructions[0]!.label = 'pdng/done - Legacy';
      const id = await ctx().createPayment(body);
      const validating = await validate(ctx(), id, null);
      await approveAtBank(validating.validate_uri); // interactive: validating, pending
      ctx().clock.advance(STEP_MS);
      await syncDuePayments(env); // background: done
      await deliverAll();
      expect(states(from)).toEqual(['done']);
      const r = receiver.received[from]!;
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(verifyWebhookSignature(secret, 'POST', '/hooks/payrail', String(r.headers['bi-signature-date']), r.body, String(r.headers['bi-signature']))).toBe(
        true,
      );
      await api('POST', '/config', { 'payment.state_updated_webhook.systematic': '1', 'webhooks.compression.enabled': '0' });
    });

    it('expires payments with no final state after payment.manual_expire_time_days', async () => {
      await api('POST', '/config', { 'payment.manual_expire_time_days': '5' });
      const stale = await ctx().createPayment(guideBody('instant'));
      const deferred = guideBody('deferred');
      deferred.instructions[0]!.execution_date = ctx().clock.now() > 0 ? new Date(ctx().clock.now() + 10 * 86400_000).toISOString().slice(0, 10) : '';
      const later = await ctx().createPayment(deferred);
      ctx().clock.advance(5 * 86400_000 + 1000);
      await freshAdmin();
      expect(await expireDuePayments(env)).toBeGreaterThanOrEqual(1);
      expect((await api('GET', `/payments/${stale}`)).json()).toMatchObject({ state: 'expired', error_code: 'noAnswerFromCustomer' });
      expect((await api('GET', `/payments/${later}`)).json().state).toBe('created'); // its execution date is still ahead
      ctx().clock.advance(11 * 86400_000);
      await freshAdmin();
      await expireDuePayments(env);
      expect((await api('GET', `/payments/${later}`)).json().state).toBe('expired');
      await api('POST', '/config', { 'payment.manual_expire_time_days': '30' });
    });

    it('reads and sets the configuration; refuses unknown keys and bad values; enforces payment.max_amount', async () => {
      await freshAdmin();
      expect((await api('GET', '/config')).json()).toMatchObject({
        'payment.manual_expire_time_days': '30',
        'payment.auto_confirmation': '1',
        'payment.max_amount': '',
      });
      expect((await api('POST', '/config', { 'payment.unknown': '1' })).json()).toMatchObject({ code: 'invalidValue', field: 'payment.unknown' });
      expect((await api('POST', '/config', { 'payment.auto_confirmation': 'yes' })).json()).toMatchObject({
        code: 'invalidValue',
        field: 'payment.auto_confirmation',
      });
      expect((await api('GET', '/config', undefined, await ctx().token('payments:read-only'))).statusCode).toBe(403);
      await api('POST', '/config', { 'payment.max_amount': '50' });
      const over = await api('POST', '/payments', guideBody());
      expect(over.json()).toMatchObject({ code: 'invalidValue', field: 'instructions' });
      await api('POST', '/config', { 'payment.max_amount': '' });
      expect((await api('POST', '/payments', guideBody())).statusCode).toBe(200);
    });

    it('with auto_confirmation off, stops at action confirm until the client answers', async () => {
      await api('POST', '/config', { 'payment.auto_confirmation': '0' });
      const visit = (uri: string) => ctx().app.inject({ url: new URL(uri).pathname + new URL(uri).search });
      const yes = await ctx().createPayment(guideBody('instant'));
      await visit((await validate(ctx(), yes, 'redirect')).validate_uri);
      expect((await api('GET', `/payments/${yes}`)).json()).toMatchObject({ state: 'validating', action: 'confirm' });
      expect((await api('POST', `/payments/${yes}`, { confirm: true })).json()).toMatchObject({ state: 'done', action: null });
      const no = await ctx().createPayment(guideBody('instant'));
      await visit((await validate(ctx(), no, 'redirect')).validate_uri);
      expect((await api('POST', `/payments/${no}`, { confirm: false })).json()).toMatchObject({ state: 'rejected', error_code: 'confirmationRefused' });
      const direct = await ctx().createPayment(guideBody('instant'));
      await visit((await validate(ctx(), direct, 'redirect_no_confirmation')).validate_uri);
      expect((await api('GET', `/payments/${direct}`)).json().state).toBe('done');
      await api('POST', '/config', { 'payment.auto_confirmation': '1' });
      await deliverAll();
    });

    it('announces a bulk payment only when the payment state changes, not on each instruction', async () => {
      const from = receiver.received.length;
      const body = guideBody('first_open_day'); // steps of STEP_MS (instant ones are 1/60 of that)
      body.instructions[0]!.label = 'pdng/pdng/done - A';
      body.instructions.push({ ...structuredClone(body.instructions[0]!), label: 'pdng/done - B' });
      const id = await ctx().createPayment(body);
      await approveAtBank((await validate(ctx(), id, null)).validate_uri);
      ctx().clock.advance(STEP_MS);
      await syncDuePayments(env); // A pending, B done: the payment stays pending
      const middle = (await api('GET', `/payments/${id}`)).json();
      expect(middle).toMatchObject({ state: 'pending', instructions: [{ state: 'pending' }, { state: 'done' }] });
      ctx().clock.advance(STEP_MS);
      await syncDuePayments(env);
      expect((await api('GET', `/payments/${id}`)).json()).toMatchObject({ state: 'done', instructions: [{ state: 'done' }, { state: 'done' }] });
      await deliverAll();
      expect(states(from)).toEqual(['validating', 'pending', 'done']);
    });

    it('never syncs one payment twice at once', async () => {
      const body = guideBody('instant');
      body.instructions[0]!.label = 'pdng/done - Race';
      const id = await ctx().createPayment(body);
      await approveAtBank((await validate(ctx(), id, null)).validate_uri);
      ctx().clock.advance(STEP_MS);
      const results = await Promise.all([syncDuePayments(env), syncDuePayments(env), syncDuePayments(env)]);
      expect(results.reduce((a, b) => a + b, 0)).toBe(1);
      const events = await ctx().store.db.selectFrom('payment_events').select('to_state').where('payment_id', '=', id).where('to_state', '=', 'done').execute();
      expect(events).toHaveLength(1);
      await deliverAll();
    });
  },
  { testConnectorStepMs: STEP_MS },
);

describe('retry delays', () => {
  it('grow exponentially with jitter, capped at one hour', () => {
    expect(retryDelayMs(1, 0.5)).toBe(5_000);
    expect(retryDelayMs(2, 0.5)).toBe(10_000);
    expect(retryDelayMs(20, 0.5)).toBe(3_600_000);
    expect(retryDelayMs(1, 0)).toBe(2_500);
    expect(retryDelayMs(1, 1)).toBe(7_500);
  });
});
