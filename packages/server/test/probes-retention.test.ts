/**
 * /health, /ready and /metrics, and the retention purge, on every database (an injected clock).
 */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.ts';
import { purgeExpired } from '../src/jobs/purge-expired.ts';
import { bankCallObserved } from '../src/telemetry/metrics.ts';
import type { ManualClock } from '../src/domain/clock.ts';
import type { DeliveryStatus } from '../src/store/schema.ts';
import { bearer, databases, describeEachDb, expectErrorBody, giveAttempt, setPaymentSync } from './support/helpers.ts';
import { openIsolatedStore } from './support/stores.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const DAY = 24 * 3600 * 1000;

describeEachDb('health, readiness and metrics', (ctx) => {
  it('answers /health without the database and /ready with each check', async () => {
    const health = await ctx().app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', version: expect.any(String), uptime_seconds: expect.any(Number) });
    const ready = await ctx().app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode, ready.body).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { database: { ok: true }, migrations: { ok: true, missing: [] }, backlog: { ok: true, due: 0, threshold: 10_000 } },
    });
  });

  it('fails /ready when the job backlog is over the threshold', async () => {
    const c = ctx();
    const app = await buildApp({ store: c.store, clock: c.clock, probes: { readyMaxBacklog: 1 } });
    try {
      const id = await c.createPayment();
      // Two payments waiting for status sync now: over a threshold of one.
      await c.store.db.updateTable('payments').set({ state: 'pending', connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf' }).where('id', '=', id).execute();
      await giveAttempt(c.store.db, id, { connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf', next_sync_at: c.clock.now() - 5_000 });
      const other = await c.createPayment();
      await c.store.db
        .updateTable('payments')
        .set({ state: 'pending', connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf' })
        .where('id', '=', other)
        .execute();
      await giveAttempt(c.store.db, other, { connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf', next_sync_at: c.clock.now() });
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        status: 'not_ready',
        checks: { database: { ok: true }, backlog: { ok: false, due: 2, status_sync: 2, threshold: 1, oldest_age_seconds: 5 } },
      });
      await c.store.db.updateTable('payments').set({ state: 'done' }).where('id', 'in', [id, other]).execute();
      await setPaymentSync(c.store.db, { in: [id, other] }, { next_sync_at: null });
    } finally {
      await app.close();
    }
  });

  it('serves Prometheus metrics only with the configured token, or when configured open', async () => {
    const c = ctx();
    const app = await buildApp({ store: c.store, clock: c.clock, probes: { metrics: 'token', metricsToken: METRICS_TOKEN } });
    try {
      await c.createPayment();
      await app.inject({ method: 'GET', url: '/2.0/payments', headers: bearer(await c.token('payments:admin')) });
      bankCallObserved('test-bank', 'status', 'success', 0.042);
      for (const headers of [{}, bearer('wrong-token-0123456789abcdef'), bearer(await c.token('payments:admin'))]) {
        const refused = await app.inject({ method: 'GET', url: '/metrics', headers });
        expect(refused.statusCode).toBe(401);
        expectErrorBody(refused.json());
      }
      const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.headers['content-type']).toContain('text/plain');
      const text = metrics.body;
      expect(text).toMatch(/payrail_http_request_duration_seconds_bucket\{[^}]*route="\/2\.0\/payments"/);
      expect(text).toMatch(/payrail_payments\{state="created"\} [1-9]/);
      expect(text).toMatch(/payrail_job_backlog\{kind="webhook_delivery"\} 0/);
      expect(text).toMatch(/payrail_job_oldest_age_seconds\{kind="status_sync"\} /);
      expect(text).toMatch(/payrail_bank_call_duration_seconds_count\{bank="test-bank",operation="status",outcome="success"\} [1-9]/);
      expect(text).toContain('payrail_webhook_deliveries_total');
      expect(text).toContain('payrail_process_resident_memory_bytes');
    } finally {
      await app.close();
    }
    const open = await buildApp({ store: c.store, clock: c.clock, probes: { metrics: 'open' } });
    const off = await buildApp({ store: c.store, clock: c.clock, probes: { metrics: 'off' } });
    try {
      expect((await open.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await off.inject({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) })).statusCode).toBe(404);
      // By default a token is required and none is configured: nobody reads them.
      expect((await c.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    } finally {
      await open.close();
      await off.close();
    }
  });
});

describe('/ready when the database is gone', () => {
  for (const { dialect, url } of databases()) {
    it(`answers 503 naming the database [${dialect}]`, async () => {
      const { store, drop } = await openIsolatedStore(dialect, url);
      const app = await buildApp({ store });
      try {
        expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
        await store.close(); // the database is gone for this process
        const ready = await app.inject({ method: 'GET', url: '/ready' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({ status: 'not_ready', checks: { database: { ok: false, error: expect.any(String) } } });
        expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200); // alive: do not restart it for that
      } finally {
        await app.close();
        await drop().catch(() => undefined);
      }
    });
  }
});

describeEachDb('retention', (ctx) => {
  it('purges expired tokens and idempotency keys, and deliveries that ended before the retention, never pending ones', async () => {
    const c = ctx();
    const clock = c.clock as ManualClock;
    const admin = await c.token('payments:admin');
    const paymentId = await c.createPayment();
    await c.app.inject({
      method: 'POST',
      url: '/2.0/payments',
      headers: { ...bearer(admin), 'idempotency-key': 'retention-1' },
      payload: (await import('./support/helpers.ts')).guideBody(),
    });
    const { id: domainId } = await c.store.db.selectFrom('domains').select('id').executeTakeFirstOrThrow();
    const { id: endpointId } = await c.store.db
      .insertInto('webhook_endpoints')
      .values({ domain_id: domainId, url: 'https://merchant.example/hook', event: 'PAYMENT_STATE_UPDATED', secret: 'x', enabled: 1, created_at: clock.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const delivery = async (status: DeliveryStatus, at: number) => {
      const { id: dataId } = await c.store.db
        .insertInto('webhook_data')
        .values({ domain_id: domainId, payment_id: paymentId, event: 'PAYMENT_STATE_UPDATED', body: '{}', created_at: at })
        .returning('id')
        .executeTakeFirstOrThrow();
      const { id } = await c.store.db
        .insertInto('webhook_deliveries')
        .values({
          data_id: dataId,
          endpoint_id: endpointId,
          payment_id: paymentId,
          status,
          attempts: 1,
          next_attempt_at: at,
          locked_until: null,
          delivered_at: status === 'delivered' ? at : null,
          last_status_code: 200,
          last_error: null,
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await c.store.db.insertInto('webhook_attempts').values({ delivery_id: id, attempted_at: at, status_code: 200, duration_ms: 5, error: null }).execute();
      return id;
    };
    const old = await delivery('delivered', clock.now());
    const oldFailed = await delivery('failed', clock.now());
    const stillPending = await delivery('pending', clock.now());
    const count = async (table: 'tokens' | 'idempotency_keys') =>
      Number(
        (
          await c.store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('tokens')).toBeGreaterThan(0);
    expect(await count('idempotency_keys')).toBe(1);

    // Nothing has expired yet.
    expect(await purgeExpired(c.store.db, clock, 30)).toEqual({ tokens: 0, idempotencyKeys: 0, deliveries: 0, attempts: 0, webhookData: 0 });

    clock.advance(31 * DAY);
    const recent = await delivery('delivered', clock.now());
    const purged = await purgeExpired(c.store.db, clock, 30);
    expect(purged).toMatchObject({ deliveries: 2, attempts: 2, webhookData: 2, idempotencyKeys: 1 });
    expect(purged.tokens).toBeGreaterThan(0);
    expect(await count('tokens')).toBe(0);
    expect(await count('idempotency_keys')).toBe(0);
    const left = (await c.store.db.selectFrom('webhook_deliveries').select('id').execute()).map((r) => r.id);
    expect(left).toContain(stillPending);
    expect(left).toContain(recent);
    expect(left).not.toContain(old);
    expect(left).not.toContain(oldFailed);
    // The payments themselves are never purged.
    expect(await c.store.db.selectFrom('payments').select('id').where('id', '=', paymentId).executeTakeFirst()).toBeDefined();
    // A new token works after the purge.
    expect((await c.app.inject({ method: 'GET', url: '/2.0/payments', headers: bearer(await c.token('payments:admin')) })).statusCode).toBe(200);
  });
});
