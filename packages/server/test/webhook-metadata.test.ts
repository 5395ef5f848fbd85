/**
 * Issue 24 (3): cloud metadata services are refused as webhook and token URLs in every mode — at
 * registration (`POST /2.0/webhooks`, `POST /2.0/webhooks/auth`, `payrail webhook add`) and at
 * delivery, in whatever spelling, and when a name resolves to them at connection time. Development
 * still reaches loopback and private receivers. Nothing here sends traffic beyond loopback.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDueWebhooks } from '../src/webhooks/delivery.ts';
import { buildApp, type PayrailApp } from '../src/http/app.ts';
import { enqueueStateChange } from '../src/webhooks/endpoints.ts';
import { classifyAddress, guardedLookup, isRefusal, REFUSED_ADDRESS, refusedWebhookHost } from '../src/webhooks/address-policy.ts';
import { bearer, describeEachDb, expectErrorBody } from './support/helpers.ts';
import { BIN } from './support/processes.ts';

/** Every spelling of a metadata service we know of. */
const METADATA_URLS = [
  'http://169.254.169.254/latest/meta-data/',
  'http://[::ffff:169.254.169.254]/latest/meta-data/',
  'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
  'http://2852039166/latest/meta-data/',
  'http://0xa9fea9fe/latest/meta-data/',
  'http://0251.0376.0251.0376/latest/meta-data/',
  'http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/',
  'http://169.254.43518/latest/meta-data/',
  'http://169.254.169.254./latest/meta-data/',
  'http://[::169.254.169.254]/latest/meta-data/',
  'http://[64:ff9b::169.254.169.254]/latest/meta-data/',
  'http://[64:ff9b:1::a9fe:a9fe]/latest/meta-data/',
  'http://[::ffff:0:a9fe:a9fe]/latest/meta-data/',
  'http://[2002:a9fe:a9fe::1]/latest/meta-data/',
  'http://[fe80::a9fe:a9fe]/latest/meta-data/',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://169.254.170.2/v2/credentials',
  'http://100.100.100.200/latest/meta-data/',
  'http://192.0.0.192/opc/v2/instance/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://METADATA.google.internal./computeMetadata/v1/',
  'http://metadata/computeMetadata/v1/',
  'http://instance-data/latest/meta-data/',
];

function receiver() {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    request.resume();
    request.on('end', () => response.writeHead(200).end('ok'));
  });
  return {
    hits,
    start: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeEachDb('webhook URLs never reach a cloud metadata service', (ctx) => {
  const hook = receiver();
  let port = 0;
  let admin = '';
  let production: PayrailApp;

  beforeAll(async () => {
    port = await hook.start();
    admin = await ctx().token('payments:admin');
    production = await buildApp({ store: ctx().store, clock: ctx().clock, allowPrivateWebhooks: false });
    await production.ready();
  });
  afterAll(async () => {
    await production.close();
    await hook.stop();
  });
  const post = (app: PayrailApp, url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, headers: bearer(admin), payload: payload as Record<string, unknown> });

  it('refuses every spelling at registration in development and in production, with a 400 naming the field', async () => {
    for (const app of [ctx().app, production]) {
      for (const url of METADATA_URLS) {
        const response = await post(app, '/2.0/webhooks', { url });
        expect(response.statusCode, url).toBe(400);
        expectErrorBody(response.json());
        expect(response.json(), url).toMatchObject({ code: 'invalidValue', field: 'url' });
        const token = await post(app, '/2.0/webhooks/auth', { type: 'oauth', name: 'm', config: { url, client_id: 'c', client_secret: 's' } });
        expect(token.statusCode, url).toBe(400);
        expect(token.json(), url).toMatchObject({ code: 'invalidValue', field: 'config.url' });
      }
    }
    const refused = await post(ctx().app, '/2.0/webhooks', { url: METADATA_URLS[0] });
    expect(refused.json().description).toContain('169.254.169.254');
  });

  it('development still registers and delivers to loopback; metadata URLs stored earlier are refused at delivery without connecting', async () => {
    const c = ctx();
    const loopback = await post(c.app, '/2.0/webhooks', { url: `http://127.0.0.1:${port}/dev` });
    expect(loopback.statusCode).toBe(200);
    const named = await post(c.app, '/2.0/webhooks', { url: `http://localhost:${port}/named` });
    expect(named.statusCode).toBe(200);
    // Endpoints an older version accepted in development: their URLs are rewritten in the store.
    const stale: number[] = [];
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://metadata.google.internal/']) {
      const created = await post(c.app, '/2.0/webhooks', { url: `http://127.0.0.1:${port}/stale` });
      await c.store.db.updateTable('webhook_endpoints').set({ url }).where('id', '=', created.json().id).execute();
      stale.push(created.json().id);
    }
    const id = await c.createPayment();
    const payment = await c.store.db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await c.store.db.transaction().execute((trx) => enqueueStateChange(trx, payment, c.clock.now()));
    await deliverDueWebhooks({ db: c.store.db, dialect: c.store.dialect, clock: c.clock, keyring: c.app.payrail.keyring, allowPrivateWebhooks: true });
    expect(hook.hits.sort()).toEqual(['/dev', '/named']);
    const log = (await c.app.inject({ method: 'GET', url: `/2.0/webhooks/deliveries?payment_id=${id}`, headers: bearer(admin) })).json().deliveries as {
      endpoint_id: number;
      last_error: string | null;
      last_status_code: number | null;
    }[];
    for (const endpoint of stale) {
      const delivery = log.find((d) => d.endpoint_id === endpoint);
      expect(delivery?.last_error, String(endpoint)).toBe(REFUSED_ADDRESS);
      expect(delivery?.last_status_code).toBeNull();
    }
    for (const endpoint of [loopback.json().id, named.json().id, ...stale])
      await c.app.inject({ method: 'DELETE', url: `/2.0/webhooks/${endpoint}`, headers: bearer(admin) });
  });
});

describe('metadata addresses in the address policy', () => {
  it('classifies metadata, link-local and IPv4-carrying IPv6 forms as refused; loopback and private as private', () => {
    for (const address of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      '::a9fe:a9fe',
      '64:ff9b::a9fe:a9fe',
      '2002:a9fe:a9fe::',
      'fe80::1',
      'fd00:ec2::254',
      '100.100.100.200',
      '192.0.0.192',
    ])
      expect(classifyAddress(address), address).toBe('refused');
    for (const address of ['127.0.0.1', '::1', '10.0.0.1', '192.168.1.1', 'fd12:3456::1', '100.64.0.1', '::ffff:127.0.0.1'])
      expect(classifyAddress(address), address).toBe('private');
    expect(classifyAddress('93.184.215.14')).toBe('public');
  });

  it('refuses at registration a name that resolves to a metadata address, in development too', async () => {
    const resolvesTo = (addresses: string[]) => async () => addresses;
    expect(await refusedWebhookHost(new URL('http://hooks.example/'), true, resolvesTo(['127.0.0.1']))).toBeNull();
    expect(await refusedWebhookHost(new URL('http://hooks.example/'), true, resolvesTo(['10.0.0.1', '169.254.169.254']))).toContain('169.254.169.254');
    expect(await refusedWebhookHost(new URL('http://hooks.example/'), false, resolvesTo(['fd00:ec2::254']))).toContain('fd00:ec2::254');
  });

  it('refuses at connection time a name that resolves to a metadata address; a loopback name still connects in development', async () => {
    const hook = receiver();
    const port = await hook.start();
    const fakeDns = (hostname: string, _options: unknown, callback: (e: Error | null, a: { address: string; family: number }[]) => void) =>
      callback(null, [hostname === 'shop.test' ? { address: '127.0.0.1', family: 4 } : { address: '169.254.169.254', family: 4 }]);
    const agent = new Agent({ connect: { lookup: guardedLookup(true, fakeDns) } });
    try {
      const ok = await fetch(`http://shop.test:${port}/ok`, { method: 'POST', body: '{}', dispatcher: agent });
      expect(ok.status).toBe(200);
      await ok.body?.cancel();
      const refused = await fetch(`http://rebinding.test:${port}/metadata`, { method: 'POST', body: '{}', dispatcher: agent }).catch((e: unknown) => e);
      expect(isRefusal(refused)).toBe(true);
      expect(hook.hits).toEqual(['/ok']);
    } finally {
      await agent.close();
      await hook.stop();
    }
  });

  it('payrail webhook add refuses a metadata URL in development, naming --url', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'payrail-metadata-'));
    try {
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://2852039166/']) {
        const result = spawnSync(process.execPath, [BIN, 'webhook', 'add', '--url', url, '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
        expect(result.status, result.stdout).not.toBe(0);
        expect(result.stderr).toMatch(/url/);
        expect(result.stderr).toMatch(/cloud metadata/);
        expect(result.stdout).not.toContain('secret_key');
      }
      const ok = spawnSync(process.execPath, [BIN, 'webhook', 'add', '--url', 'http://127.0.0.1:9/hook', '--data-dir', dataDir], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('secret_key');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
