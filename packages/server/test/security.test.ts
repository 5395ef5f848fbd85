/**
 * Issue 12 hardening, on SQLite and PostgreSQL: forged Host and proxies, webhook SSRF at registration
 * and delivery, bounded pages, abuse limits, edge inputs, payment-scoped token renewal, sealed secrets.
 * Every receiver is on loopback; no test sends traffic beyond it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDueWebhooks } from '../src/webhooks/delivery.ts';
import { buildApp, type PayrailApp } from '../src/http/app.ts';
import { enqueueStateChange } from '../src/webhooks/endpoints.ts';
import { isPublicAddress, isRefusal, publicOnlyLookup, REFUSED_ADDRESS } from '../src/webhooks/address-policy.ts';
import { bearer, describeEachDb, expectErrorBody, guideBody, REDIRECT_URI } from './support/helpers.ts';

function receiver() {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    request.resume();
    request.on('end', () => response.writeHead(200).end('internal secret'));
  });
  return {
    hits,
    start: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeEachDb(
  'security hardening',
  (ctx) => {
    const apps: PayrailApp[] = [];
    const hook = receiver();
    let port = 0;
    let admin = '';

    /** Another app on the same store, with other options (the test's clock and keyring are shared). */
    async function appWith(options: Parameters<typeof buildApp>[0] extends infer O ? Partial<O> : never): Promise<PayrailApp> {
      const app = await buildApp({ store: ctx().store, clock: ctx().clock, ...options });
      await app.ready();
      apps.push(app);
      return app;
    }

    beforeAll(async () => {
      port = await hook.start();
      admin = await ctx().token('payments:admin');
    });
    afterAll(async () => {
      await hook.stop();
      for (const app of apps) await app.close();
    });

    const get = (url: string, headers: Record<string, string> = {}, app = ctx().app) =>
      app.inject({ method: 'GET', url, headers: { ...bearer(admin), ...headers } });
    const post = (url: string, payload: unknown, app = ctx().app, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url, headers: { ...bearer(admin), ...headers }, payload: payload as Record<string, unknown> });

    // ---- origin and proxies ----
    it('refuses a forged Host when no public URL is set, and never builds a link on it', async () => {
      const forged = await get('/2.0/payments?limit=1', { host: 'evil.example' });
      expect(forged.statusCode).toBe(400);
      expectErrorBody(forged.json());
      expect(forged.json()).toMatchObject({ code: 'invalidValue', field: 'host' });
      // The webview entry (which builds links) is refused the same way.
      const entry = await ctx().app.inject({ method: 'GET', url: '/2.0/auth/webview/payment?client_id=x', headers: { host: 'evil.example:443' } });
      expect(entry.statusCode).toBe(400);
      for (const host of ['localhost:3000', '127.0.0.1', '[::1]:8080']) expect((await get('/2.0/payments?limit=1', { host })).statusCode).toBe(200);
    });

    it('believes X-Forwarded-Host only from a configured proxy, and checks it too', async () => {
      const plain = await appWith({ allowedHosts: ['pay.example'] });
      // Without trust, the forwarded header is ignored: the Host (localhost) is judged, not pay.example.
      expect((await get('/2.0/payments?limit=1', { 'x-forwarded-host': 'pay.example' }, plain)).statusCode).toBe(400);
      const proxied = await appWith({ allowedHosts: ['pay.example'], trustProxy: ['127.0.0.1'] });
      expect((await get('/2.0/payments?limit=1', { 'x-forwarded-host': 'pay.example' }, proxied)).statusCode).toBe(200);
      expect((await get('/2.0/payments?limit=1', { 'x-forwarded-host': 'evil.example' }, proxied)).statusCode).toBe(400);
    });

    it('with an https public URL: any Host is harmless, links use the public URL, HSTS on every answer, Secure cookies', async () => {
      const app = await appWith({ publicUrl: 'https://pay.example' });
      const id = await ctx().createPayment();
      const code = await ctx().scopedToken(id);
      const entry = await app.inject({
        method: 'GET',
        headers: { host: 'evil.example' },
        url: `/2.0/auth/webview/payment?client_id=${ctx().client.client_id}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code=${code}&payment_id=${id}`,
      });
      expect(entry.statusCode).toBe(303);
      expect(entry.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      // The webview sets no cookie (its CSRF tokens are bound to the payment's code); any cookie would be Secure.
      for (const cookie of [entry.headers['set-cookie'] ?? []].flat()) expect(cookie).toMatch(/; Secure/);
      const flow = await app.inject({ method: 'GET', url: entry.headers.location!, headers: { host: 'evil.example' } });
      expect(flow.body).not.toContain('evil.example');
      const login = await app.inject({ method: 'GET', url: '/admin/login' });
      const cookies = [login.headers['set-cookie'] ?? []].flat();
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) expect(cookie).toMatch(/; Secure/);
      const plainLogin = [(await ctx().app.inject({ method: 'GET', url: '/admin/login' })).headers['set-cookie'] ?? []].flat();
      for (const cookie of plainLogin) expect(cookie).not.toMatch(/; Secure/);
      const error = await app.inject({ method: 'GET', url: '/2.0/nowhere', headers: { host: 'evil.example' } });
      expect(error.statusCode).toBe(404);
      expect(error.headers['strict-transport-security']).toBeDefined();
      // Without an https public URL there is no HSTS.
      expect((await get('/2.0/payments?limit=1')).headers['strict-transport-security']).toBeUndefined();
    });

    // ---- webhook SSRF ----
    it('refuses webhook URLs on loopback, private, link-local, CGNAT, metadata and other non-public addresses', async () => {
      const strict = await appWith({ allowPrivateWebhooks: false });
      const refused = [
        `http://127.0.0.1:${port}/hook`,
        'http://localhost/hook',
        'http://api.localhost/hook',
        'http://10.1.2.3/hook',
        'http://172.16.0.1/hook',
        'http://192.168.1.1/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[fd00:ec2::254]/hook',
        'http://100.64.0.1/hook',
        'http://0.0.0.0/hook',
        'http://[::1]/hook',
        'http://[::ffff:127.0.0.1]/hook',
        'http://[fe80::1]/hook',
        'http://224.0.0.1/hook',
        'http://2130706433/hook',
        'http://0x7f.1/hook',
      ];
      for (const url of refused) {
        const response = await post('/2.0/webhooks', { url }, strict);
        expect(response.statusCode, url).toBe(400);
        expect(response.json(), url).toMatchObject({ code: 'invalidValue', field: 'url' });
      }
      // A public address literal is accepted (nothing is sent at registration).
      const ok = await post('/2.0/webhooks', { url: 'https://93.184.215.14/hook' }, strict);
      expect(ok.statusCode).toBe(200);
      await ctx().app.inject({ method: 'DELETE', url: `/2.0/webhooks/${ok.json().id}`, headers: bearer(admin) });
      expect(hook.hits).toEqual([]);
    });

    it('refuses delivery to a non-public address after resolution, without connecting or storing an answer', async () => {
      const c = ctx();
      const endpoints: number[] = [];
      for (const host of ['127.0.0.1', 'localhost']) {
        // Registered while private addresses were allowed (development), delivered by a strict worker.
        const created = await post('/2.0/webhooks', { url: `http://${host}:${port}/${host}` });
        expect(created.statusCode).toBe(200);
        endpoints.push(created.json().id);
      }
      const id = await c.createPayment();
      const payment = await c.store.db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      await c.store.db.transaction().execute((trx) => enqueueStateChange(trx, payment, c.clock.now()));
      await deliverDueWebhooks({ db: c.store.db, dialect: c.store.dialect, clock: c.clock, keyring: c.app.payrail.keyring, allowPrivateWebhooks: false });
      expect(hook.hits).toEqual([]);
      const log = (await get(`/2.0/webhooks/deliveries?payment_id=${id}`)).json().deliveries as {
        endpoint_id: number;
        last_error: string;
        last_status_code: number | null;
        attempts_log: { error: string }[];
      }[];
      expect(log).toHaveLength(2);
      for (const delivery of log) {
        expect(delivery.last_error).toBe(REFUSED_ADDRESS);
        expect(delivery.last_status_code).toBeNull();
        expect(JSON.stringify(delivery)).not.toContain('internal secret');
      }
      for (const endpoint of endpoints) await c.app.inject({ method: 'DELETE', url: `/2.0/webhooks/${endpoint}`, headers: bearer(admin) });
    });

    // ---- bounded work ----
    it('bounds a list of 10,000 payments in size and memory; limit is capped', async () => {
      const c = ctx();
      const base = await c.store.db
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', await c.createPayment())
        .executeTakeFirstOrThrow();
      const instruction = await c.store.db.selectFrom('payment_instructions').selectAll().where('payment_id', '=', base.id).executeTakeFirstOrThrow();
      const { id: _id, ...paymentValues } = base;
      const { id: _iid, ...instructionValues } = instruction;
      for (let batch = 0; batch < 20; batch++) {
        const ids = await c.store.db
          .insertInto('payments')
          .values(Array.from({ length: 500 }, () => paymentValues))
          .returning('id')
          .execute();
        await c.store.db
          .insertInto('payment_instructions')
          .values(ids.map((r) => ({ ...instructionValues, payment_id: r.id })))
          .execute();
      }
      global.gc?.();
      const before = process.memoryUsage().heapUsed;
      const list = await get('/2.0/payments');
      const grown = process.memoryUsage().heapUsed - before;
      expect(list.statusCode).toBe(200);
      const body = list.json();
      expect(body.total).toBeGreaterThanOrEqual(10_001);
      expect(body.payments.length).toBeLessThanOrEqual(1000);
      expect(list.body.length).toBeLessThan(3 * 1024 * 1024);
      expect(grown).toBeLessThan(200 * 1024 * 1024);
      for (const limit of ['1001', '100000', '0', '-1']) {
        const response = await get(`/2.0/payments?limit=${limit}`);
        expect(response.statusCode, limit).toBe(400);
        expect(response.json()).toMatchObject({ field: 'limit' });
      }
      expect((await get('/2.0/webhooks/deliveries?limit=99999')).statusCode).toBe(400);
    }, 120_000);

    it('cuts a page at 5,000 instructions; a payment body over 1 MiB and other bodies over 64 KiB get 413 with the Powens body', async () => {
      const bulk = guideBody('first_open_day');
      const one = (bulk.instructions as Record<string, unknown>[])[0]!;
      const instructions = Array.from({ length: 1000 }, (_, i) => ({ ...one, label: `Line ${i}`, beneficiary_identity: null }));
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) ids.push(await ctx().createPayment({ ...bulk, instructions }));
      const page = (await get(`/2.0/payments?order_by=instruction_count&reverse=true&limit=10`)).json();
      expect(page.payments.length).toBe(5);
      expect(page.payments.every((p: { instructions: unknown[] }) => p.instructions.length === 1000)).toBe(true);
      const huge = await post('/2.0/payments', { ...bulk, client_state: 'x'.repeat(1100 * 1024) });
      expect(huge.statusCode).toBe(413);
      expectErrorBody(huge.json());
      const config = await post('/2.0/config', { 'payment.max_amount': 'x'.repeat(70 * 1024) });
      expect(config.statusCode).toBe(413);
      expect(config.json()).toMatchObject({ code: 'payloadTooLarge' });
    }, 120_000);

    // ---- abuse limits ----
    it('answers a token brute force with 429, Retry-After and the Powens body, per client and per address', async () => {
      // Counts live in the shared rate_limits table: start a fresh window, with a client of its own.
      ctx().clock.advance(61_000);
      const app = await appWith({ rateLimits: { tokenFailuresPerClient: 5, tokenFailuresPerAddress: 1000, windowMs: 60_000 } });
      const client = await ctx().newClient();
      const attempt = (secret: string, id = client.client_id) =>
        app.inject({
          method: 'POST',
          url: '/2.0/auth/token',
          payload: { grant_type: 'client_credentials', client_id: id, client_secret: secret, scope: 'payments:admin' },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await attempt(`guess-${i}`)).statusCode);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const blocked = await attempt(client.client_secret);
      expect(blocked.statusCode).toBe(429); // even the right secret, until the window ends
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expectErrorBody(blocked.json());
      expect(blocked.json().code).toBe('tooManyRequests');
      // Another client is not blocked by this one's limit; after the window the right secret works.
      expect((await attempt('wrong', 'another-client')).statusCode).toBe(401);
      ctx().clock.advance(61_000);
      expect((await attempt(client.client_secret)).statusCode).toBe(200);
      const perAddress = await appWith({ rateLimits: { tokenFailuresPerClient: 1000, tokenFailuresPerAddress: 3, windowMs: 60_000 } });
      ctx().clock.advance(61_000);
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        codes.push(
          (
            await perAddress.inject({
              method: 'POST',
              url: '/2.0/auth/token',
              payload: { grant_type: 'client_credentials', client_id: `c${i}`, client_secret: 's', scope: 'payments:admin' },
            })
          ).statusCode,
        );
      }
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      admin = await ctx().token('payments:admin');
    });

    it('limits the webview form posts per address', async () => {
      const app = await appWith({ rateLimits: { webviewPerAddress: 2, windowMs: 60_000 } });
      ctx().clock.advance(61_000);
      const codes: number[] = [];
      for (let i = 0; i < 4; i++)
        codes.push((await app.inject({ method: 'POST', url: '/2.0/auth/webview/en/flow', payload: { w: 'x', csrf: 'y', op: 'cancel' } })).statusCode);
      expect(codes).toEqual([400, 400, 429, 429]);
    });

    it('a payment-scoped token never extends itself and cannot mint once the payment is final', async () => {
      const c = ctx();
      const id = await c.createPayment();
      const scoped = await c.scopedToken(id);
      c.clock.advance(24 * 3600 * 1000);
      const minted = await post(`/2.0/payments/${id}/scopedtoken`, { scope: 'payments:validate' }, c.app, bearer(scoped));
      expect(minted.statusCode).toBe(200);
      expect(minted.json().expires_in).toBe(6 * 24 * 3600);
      await c.store.db.updateTable('payments').set({ state: 'done' }).where('id', '=', id).execute();
      const after = await post(`/2.0/payments/${id}/scopedtoken`, { scope: 'payments:validate' }, c.app, bearer(minted.json().token));
      expect(after.statusCode).toBe(403);
      expectErrorBody(after.json());
      admin = await c.token('payments:admin');
    });

    // ---- edge inputs ----
    it('answers order_by=__proto__, constructor, toString… with a 400 naming order_by', async () => {
      for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        const response = await get(`/2.0/payments?order_by=${key}`);
        expect(response.statusCode, key).toBe(400);
        expect(response.json(), key).toMatchObject({ code: 'invalidValue', field: 'order_by' });
      }
    });

    it('answers POST /config with inherited property names with a 400 naming the key', async () => {
      for (const key of ['constructor', 'toString', '__defineGetter__']) {
        const response = await post('/2.0/config', { [key]: '1' });
        expect(response.statusCode, key).toBe(400);
        expect(response.json(), key).toMatchObject({ code: 'invalidValue', field: key });
      }
    });

    it('refuses a max_amount with more decimals than a currency has at config time; payments compare exactly', async () => {
      const response = await post('/2.0/config', { 'payment.max_amount': '10.123' });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ field: 'payment.max_amount' });
      expect((await post('/2.0/config', { 'payment.max_amount': '50.95' })).statusCode).toBe(200);
      expect((await post('/2.0/payments', guideBody())).statusCode).toBe(200); // 50.90 ≤ 50.95
      const above = guideBody('first_open_day');
      (above.instructions as Record<string, unknown>[])[0]!.amount = 51;
      expect((await post('/2.0/payments', above)).json()).toMatchObject({ field: 'instructions' });
      expect((await post('/2.0/config', { 'payment.max_amount': '' })).statusCode).toBe(200);
    });

    it('refuses lone UTF-16 surrogates and bidi controls in labels shown to payers', async () => {
      const lone = JSON.stringify(guideBody()).replace('"label":"Test"', '"label":"Te\\ud800st"');
      const surrogate = await ctx().app.inject({
        method: 'POST',
        url: '/2.0/payments',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        payload: lone,
      });
      expect(surrogate.statusCode).toBe(400);
      expect(surrogate.json()).toMatchObject({ code: 'invalidValue', field: 'instructions[0].label' });
      for (const control of ['\u202e', '\u2066', '\u200f', '\u061c']) {
        const body = guideBody();
        (body.instructions as Record<string, unknown>[])[0]!.label = `Order ${control}24.05`;
        const response = await post('/2.0/payments', body);
        expect(response.statusCode).toBe(400);
        expect(response.json()).toMatchObject({ field: 'instructions[0].label' });
        const beneficiary = guideBody();
        ((beneficiary.instructions as Record<string, unknown>[])[0]!.beneficiary as Record<string, unknown>).label = `ACME${control}`;
        expect((await post('/2.0/payments', beneficiary)).json()).toMatchObject({ field: 'instructions[0].beneficiary.label' });
      }
    });

    it('carries a webview state of 2,000 characters through every form', async () => {
      const c = ctx();
      const id = await c.createPayment();
      const code = await c.scopedToken(id);
      const state = 'é'.repeat(1000) + '\u0001'.repeat(500) + '🙂'.repeat(250);
      expect([...state].length).toBeLessThanOrEqual(2000);
      const entry = await c.app.inject({
        method: 'GET',
        url: `/2.0/auth/webview/payment?client_id=${c.client.client_id}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code=${code}&payment_id=${id}&state=${encodeURIComponent(state)}`,
      });
      expect(entry.statusCode).toBe(303);
      const page = await c.app.inject({ method: 'GET', url: entry.headers.location! });
      expect(page.statusCode).toBe(200);
      const form = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page.body)?.[1]?.replace(/&amp;/g, '&');
      const cancel = await c.app.inject({
        method: 'POST',
        url: '/2.0/auth/webview/en/flow',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ w: form('w')!, csrf: form('csrf')!, op: 'cancel' }).toString(),
      });
      expect(cancel.statusCode).toBe(200);
      const back = new URL(/https:\/\/merchant\.example[^"]+/.exec(cancel.body)![0].replace(/&amp;/g, '&'));
      expect(back.searchParams.get('state')).toBe(state);
    });

    // ---- secrets at rest ----
    it('stores webhook HMAC keys and the signing key sealed, never in clear text', async () => {
      const c = ctx();
      const created = (await post('/2.0/webhooks', { url: `http://127.0.0.1:${port}/sealed` })).json();
      const endpoints = await c.store.db.selectFrom('webhook_endpoints').select('secret').execute();
      const secrets = await c.store.db.selectFrom('installation_secrets').select('value').execute();
      for (const value of [...endpoints.map((e) => e.secret), ...secrets.map((s) => s.value)]) expect(value).toMatch(/^kek1\./);
      const all = JSON.stringify([endpoints, secrets]);
      expect(all).not.toContain(created.secret_key);
      expect(all).not.toContain(c.app.payrail.secret);
      await c.app.inject({ method: 'DELETE', url: `/2.0/webhooks/${created.id}`, headers: bearer(admin) });
    });
  },
  { testConnectorStepMs: 60_000 },
);

describe('webhook address policy', () => {
  it('judges addresses: only global unicast is public', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111']) expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '198.18.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      'fc00::1',
      '::ffff:10.0.0.1',
      '64:ff9b::a00:1',
      '2002:a00:1::',
      'not an ip',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('fails the connection lookup of a name that resolves to a non-public address, in both callback forms', async () => {
    const one = await new Promise<unknown>((resolve) => publicOnlyLookup('localhost', {}, (error) => resolve(error)));
    expect(isRefusal(one)).toBe(true);
    const all = await new Promise<unknown>((resolve) => publicOnlyLookup('localhost', { all: true } as never, (error) => resolve(error)));
    expect(isRefusal(all)).toBe(true);
  });
});
