/**
 * Issue 10, item 5: a periodic payment is a standing order. After approval it is `pending`; each
 * occurrence executes on its business day and is announced by a signed webhook; it ends at
 * end_date. The sandbox clock (POST /2.0/sandbox/clock) shows a simulated year in seconds.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import type { JobEnvironment } from '../src/jobs/environment.ts';
import { deliverDueWebhooks } from '../src/webhooks/delivery.ts';
import { changePayment } from '../src/services/payment-changes.ts';
import { scheduledDate } from '../src/services/standing-orders.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import { bearer, describeEachDb, guideBody } from './support/helpers.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describeEachDb(
  'standing orders and the sandbox clock',
  (ctx) => {
    const received: Received[] = [];
    const server: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200);
        response.end();
      });
    });
    let hookUrl = '';
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/standing`;
    });
    afterAll(async () => new Promise((resolve) => server.close(resolve)));

    const api = async (method: 'GET' | 'POST', path: string, payload?: object, token?: string) =>
      ctx().app.inject({ method, url: `/2.0${path}`, headers: bearer(token ?? (await ctx().token('payments:admin'))), ...(payload ? { payload } : {}) });

    function monthly(start: string, end: string | null, frequency = 'monthly') {
      const body = guideBody('first_open_day');
      const instruction = body.instructions[0]! as Record<string, unknown>;
      instruction.execution_date_type = 'periodic';
      Object.assign(instruction, { start_date: start, frequency, ...(end ? { end_date: end } : {}) });
      return body;
    }

    async function approve(body: Record<string, unknown>): Promise<number> {
      const id = await ctx().createPayment(body);
      const token = await ctx().scopedToken(id);
      const validating = await api(
        'POST',
        `/payments/${id}`,
        { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own', fields: { use_case_pay: 'redirect' } },
        token,
      );
      expect(validating.statusCode, validating.body).toBe(200);
      const callback = new URL(validating.json().validate_uri);
      expect((await ctx().app.inject({ url: callback.pathname + callback.search })).statusCode).toBe(303);
      return id;
    }

    it('a monthly payment shows twelve occurrences over a simulated year, each announced by a signed webhook, and stops at end_date', async () => {
      const c = ctx();
      const hook = await api('POST', '/webhooks', { url: hookUrl, event: 'PAYMENT_STATE_UPDATED' });
      expect(hook.statusCode, hook.body).toBe(200);
      const secret = hook.json().secret_key as string;
      const env: JobEnvironment = { db: c.store.db, dialect: c.store.dialect, clock: c.clock, keyring: c.app.payrail.keyring, allowPrivateWebhooks: true };

      // The clock is 2026-01-15; twelve monthly occurrences from 2 February 2026 to 2 January 2027.
      const id = await approve(monthly('2026-02-02', '2027-01-31'));
      const approved = (await api('GET', `/payments/${id}`)).json();
      expect(approved.state).toBe('pending'); // a standing order is active, not done
      const before = (await api('GET', `/payments/${id}/occurrences`)).json();
      expect(before.occurrences.slice(0, 2)).toEqual([
        { sequence: 1, due_date: '2026-02-02', execution_date: '2026-02-02', state: 'scheduled', executed_at: null },
        { sequence: 2, due_date: '2026-03-02', execution_date: '2026-03-02', state: 'scheduled', executed_at: null },
      ]);

      let executed = 0;
      for (let month = 0; month < 13; month++) {
        const moved = await api('POST', '/sandbox/clock', { advance_days: 31 });
        expect(moved.statusCode, moved.body).toBe(200);
        executed += moved.json().occurrences_executed as number;
        for (let n = await deliverDueWebhooks(env); n > 0; n = await deliverDueWebhooks(env));
      }
      expect(executed).toBe(12);
      const clockNow = (await api('GET', '/sandbox/clock')).json();
      expect(clockNow).toMatchObject({ offset_seconds: 13 * 31 * 86_400 });
      expect(Date.parse(clockNow.now)).toBe(ctx().clock.now());
      const after = (await api('GET', `/payments/${id}/occurrences`)).json();
      expect(after.total).toBe(12);
      expect(after.occurrences.every((o: { state: string }) => o.state === 'done')).toBe(true);
      // Business days: 2 May 2026 and 2 January 2027 are Saturdays, executed the next Monday.
      expect(after.occurrences[3]).toMatchObject({ due_date: '2026-05-02', execution_date: '2026-05-04' });
      expect(after.occurrences[11]).toMatchObject({ due_date: '2027-01-02', execution_date: '2027-01-04' });
      expect((await api('GET', `/payments/${id}`)).json().state).toBe('done');

      const bodies = received.map((r) => JSON.parse(r.body) as Record<string, any>).filter((b) => b.id === id);
      const announced = bodies.filter((b) => b.occurrence).map((b) => b.occurrence.sequence);
      expect(announced).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(bodies.at(-1)).toMatchObject({ state: 'done' });
      for (const r of received) {
        expect(
          verifyWebhookSignature(secret, 'POST', '/hooks/standing', String(r.headers['bi-signature-date']), r.body, String(r.headers['bi-signature'])),
        ).toBe(true);
      }
      // Nothing more after end_date, however far the clock goes.
      expect((await api('POST', '/sandbox/clock', { advance_days: 400 })).json().occurrences_executed).toBe(0);
    });

    it('a cancelled standing order executes nothing more; the clock needs an admin token and only moves forward', async () => {
      const start = new Date(ctx().clock.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      const id = await approve(monthly(start, null, 'weekly'));
      expect((await api('POST', '/sandbox/clock', { advance_days: 70 })).json().occurrences_executed).toBeGreaterThan(0);
      const count = (await api('GET', `/payments/${id}/occurrences`)).json().occurrences.filter((o: { state: string }) => o.state === 'done').length;
      // Cancelling a pending payment at the bank is issue 10 item 4 (another branch); whatever path
      // cancels it, the payment leaves `pending` through the state machine, as here.
      const row = await ctx().store.db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      await changePayment({ db: ctx().store.db, clock: ctx().clock, notifier: ctx().app.payrail.notifier }, row, {
        state: 'rejected',
        patch: { error_code: 'CancelledByClient' },
      });
      await api('POST', '/sandbox/clock', { advance_days: 70 });
      expect((await api('GET', `/payments/${id}/occurrences`)).json().occurrences.filter((o: { state: string }) => o.state === 'done').length).toBe(count);

      const readOnly = await ctx().token('payments:read-only');
      expect((await api('POST', '/sandbox/clock', { advance_days: 1 }, readOnly)).statusCode).toBe(403);
      expect((await api('POST', '/sandbox/clock', { advance_days: -1 })).json()).toMatchObject({ code: 'invalidValue', field: 'advance_days' });
    });

    it('schedules the nine frequencies from start_date, keeping month ends', () => {
      expect(scheduledDate('2026-01-31', 'monthly', 1)).toBe('2026-02-28');
      expect(scheduledDate('2026-01-31', 'monthly', 2)).toBe('2026-03-31');
      expect(scheduledDate('2026-01-31', 'quarterly', 1)).toBe('2026-04-30');
      expect(scheduledDate('2026-01-15', 'daily', 20)).toBe('2026-02-04');
      expect(scheduledDate('2026-01-15', 'two-weekly', 2)).toBe('2026-02-12');
      expect(scheduledDate('2026-01-15', 'two-monthly', 1)).toBe('2026-03-15');
      expect(scheduledDate('2026-01-15', 'four-monthly', 1)).toBe('2026-05-15');
      expect(scheduledDate('2026-01-15', 'semiannually', 1)).toBe('2026-07-15');
      expect(scheduledDate('2024-02-29', 'yearly', 1)).toBe('2025-02-28');
      expect(scheduledDate('2026-01-15', 'weekly', 1)).toBe('2026-01-22');
    });
  },
  { sandboxClock: true, allowPrivateWebhooks: true },
);
