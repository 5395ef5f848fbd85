/**
 * Fair background work, on every database: an endpoint that never answers holds at most its own
 * slots; another endpoint's deliveries and status sync go on within 2 seconds. A bank that fails
 * is asked again with growing delays, and its payments show as `failed` to operators.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { TEST_CONNECTOR_UUID, testConnector } from '../src/connectors/test-connector.ts';
import { readBacklog, SYNC_FAILED_AFTER } from '../src/store/backlog.ts';
import { startJobs } from '../src/jobs/runner.ts';
import { syncDuePayments, type SyncEnvironment } from '../src/jobs/sync-payments.ts';
import { listFailedSyncs, retrySync } from '../src/services/sync-status.ts';
import { bearer, describeEachDb, guideBody, paymentWithAttempt } from './support/helpers.ts';
import { waitFor } from './support/processes.ts';

const STEP_MS = 1000;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describeEachDb(
  'fair background work',
  (ctx) => {
    const hanging: ServerResponse[] = [];
    const hangServer = createServer((_request, response) => void hanging.push(response)); // never answers
    const arrivals = new Map<number, number>(); // payment id → when the healthy endpoint got its first webhook
    const okServer = createServer((request, response) => {
      let body = '';
      request.on('data', (c) => (body += c));
      request.on('end', () => {
        const id = JSON.parse(body).id as number;
        if (!arrivals.has(id)) arrivals.set(id, Date.now());
        response.writeHead(200).end();
      });
    });
    let env: SyncEnvironment;
    let admin = '';

    beforeAll(async () => {
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
          baseUrl: 'http://localhost',
          testStepMs: STEP_MS,
          connectors: c.app.payrail.connectors,
          notifier: c.app.payrail.notifier,
        },
      };
      admin = await c.token('payments:admin');
      for (const url of [await listen(hangServer), await listen(okServer)]) {
        const r = await c.app.inject({ method: 'POST', url: '/2.0/webhooks', headers: bearer(admin), payload: { url } });
        expect(r.statusCode, r.body).toBe(200);
      }
    });
    afterAll(async () => {
      for (const response of hanging) response.destroy();
      hangServer.closeAllConnections();
      await Promise.all([hangServer, okServer].map((s) => new Promise((resolve) => s.close(resolve))));
    });

    async function validate(id: number) {
      const token = await ctx().scopedToken(id);
      const r = await ctx().app.inject({
        method: 'POST',
        url: `/2.0/payments/${id}`,
        headers: bearer(token),
        payload: { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own' },
      });
      expect(r.statusCode, r.body).toBe(200);
      return r.json() as { validate_uri: string };
    }

    it('a hanging endpoint delays neither another endpoint (≤ 2 s) nor status sync', async () => {
      const c = ctx();
      const jobs = startJobs({ ...env, deliveryTimeoutMs: 6_000 }, { pollMs: 200, webhookEndpointConcurrency: 2 });
      try {
        const changed = new Map<number, number>();
        const ids: number[] = [];
        for (let n = 0; n < 5; n++) {
          const body = guideBody('first_open_day');
          body.instructions[0]!.label = 'pdng/done - Order';
          const id = await c.createPayment(body);
          const validating = await validate(id);
          changed.set(id, Date.now());
          ids.push(id);
          if (n === 0) {
            // The payer approves at the bank: pending now, and done after one step, found by status sync.
            const u = new URL(validating.validate_uri);
            await c.app.inject({
              method: 'POST',
              url: u.pathname,
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              payload: new URLSearchParams({ ...Object.fromEntries(u.searchParams), decision: 'approve' }).toString(),
            });
          }
        }
        await waitFor('every webhook at the healthy endpoint', () => (ids.every((id) => arrivals.has(id)) ? true : undefined), 10_000);
        const delays = ids.map((id) => arrivals.get(id)! - changed.get(id)!);
        expect(Math.max(...delays), `delays ${delays.join(', ')} ms`).toBeLessThan(2_000);
        // The hanging endpoint holds its two slots, no more.
        expect(hanging.length).toBe(2);

        c.clock.advance(STEP_MS);
        const due = Date.now();
        await waitFor(
          'status sync to carry the approved payment to done',
          async () => {
            const r = await c.app.inject({ method: 'GET', url: `/2.0/payments/${ids[0]}`, headers: bearer(admin) });
            return r.json().state === 'done' ? true : undefined;
          },
          5_000,
        );
        expect(Date.now() - due).toBeLessThan(2_000);
        expect(hanging.length).toBe(2); // still hanging meanwhile
      } finally {
        await jobs.stop();
      }
    });

    it('retries a failing bank with exponential backoff and jitter, shows the payment as failed, heals when the bank answers', async () => {
      const c = ctx();
      const body = guideBody('first_open_day');
      body.instructions[0]!.label = 'pdng/done - Order';
      const id = await c.createPayment(body);
      const validating = await validate(id);
      const u = new URL(validating.validate_uri);
      await c.app.inject({
        method: 'POST',
        url: u.pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ...Object.fromEntries(u.searchParams), decision: 'approve' }).toString(),
      });
      // The bank stops answering (its API times out): the connector's status call fails.
      const outage = vi.spyOn(testConnector, 'status').mockRejectedValue(new Error('bank API timed out'));
      try {
        const gaps: number[] = [];
        for (let n = 1; n <= SYNC_FAILED_AFTER; n++) {
          const row = await paymentWithAttempt(c.store.db, id);
          c.clock.set(row.next_sync_at!);
          await syncDuePayments(env);
          const after = await paymentWithAttempt(c.store.db, id);
          expect(after).toMatchObject({ sync_failures: n, sync_error: 'bank API timed out', state: 'pending' });
          gaps.push(after.next_sync_at! - c.clock.now());
        }
        // 5 s × 2^(n−1), ×0.5–1.5 jitter.
        gaps.forEach((gap, i) => {
          expect(gap).toBeGreaterThanOrEqual(5_000 * 2 ** i * 0.5);
          expect(gap).toBeLessThanOrEqual(5_000 * 2 ** i * 1.5);
        });
        expect(gaps[SYNC_FAILED_AFTER - 1]!).toBeGreaterThan(gaps[0]! * 4);
        // (The first test's payments, still validating, met the same outage.)
        const failed = await listFailedSyncs(c.store.db);
        expect(failed).toContainEqual(
          expect.objectContaining({ id, sync_failures: SYNC_FAILED_AFTER, sync_error: 'bank API timed out', connector_uuid: TEST_CONNECTOR_UUID }),
        );
        expect((await readBacklog(c.store.db, c.clock.now())).syncFailed).toBe(failed.length);

        // The bank is back; an operator asks again at once.
        outage.mockRestore();
        await retrySync(c.store.db, c.clock, id);
        c.clock.advance(STEP_MS);
        await syncDuePayments(env);
        const healed = await paymentWithAttempt(c.store.db, id);
        expect(healed).toMatchObject({ state: 'done', sync_failures: 0, sync_error: null });
        expect((await listFailedSyncs(c.store.db)).map((p) => p.id)).not.toContain(id);
      } finally {
        outage.mockRestore();
      }
    });

    it('a change the state machine forbids is a sync failure with backoff, not a conflict retried at once', async () => {
      const c = ctx();
      const body = guideBody('first_open_day');
      body.instructions[0]!.label = 'pdng/done - Order';
      const id = await c.createPayment(body);
      const u = new URL((await validate(id)).validate_uri);
      await c.app.inject({
        method: 'POST',
        url: u.pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ...Object.fromEntries(u.searchParams), decision: 'approve' }).toString(),
      });
      // A confused bank answers a pending payment with a new SCA redirect: pending → validating is not a transition.
      const confused = vi.spyOn(testConnector, 'status').mockResolvedValue({ kind: 'redirect', validate_uri: 'https://bank.example/sca', data: {} });
      try {
        const before = await paymentWithAttempt(c.store.db, id);
        expect(before.state).toBe('pending');
        c.clock.set(before.next_sync_at!);
        await syncDuePayments(env);
        const after = await paymentWithAttempt(c.store.db, id);
        expect(after).toMatchObject({ state: 'pending', version: before.version, sync_failures: 1, sync_error: 'a pending payment cannot become validating' });
        // Backoff (5 s × 0.5–1.5), where a version conflict would be looked at again after 1 s.
        expect(after.next_sync_at! - c.clock.now()).toBeGreaterThanOrEqual(2_500);
      } finally {
        confused.mockRestore();
      }
    });
  },
  { testConnectorStepMs: STEP_MS, allowPrivateWebhooks: true },
);
