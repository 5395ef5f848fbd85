/**
 * Webhook authentication providers (POST/GET/DELETE /2.0/webhooks/auth): what a merchant's receiver
 * on loopback gets from an HMAC provider and from an OAuth provider whose token endpoint is also a
 * loopback server, on every database.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEnvironment } from '../src/jobs/environment.ts';
import { deliverDueWebhooks } from '../src/webhooks/delivery.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import { bearer, describeEachDb, REDIRECT_URI } from './support/helpers.ts';

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP server recording requests; `answer` decides status and body. */
function loopback(answer: (n: number, seen: Seen) => { status: number; body?: string }) {
  const seen: Seen[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const entry = { url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      const { status, body } = answer(seen.length, entry);
      response.writeHead(status, body ? { 'content-type': 'application/json' } : {});
      response.end(body ?? '');
    });
  });
  return {
    seen,
    server,
    start: async (path: string) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

describeEachDb('webhook authentication providers', (ctx) => {
  const receiver = loopback(() => ({ status: 200 }));
  let tokenStatus = 200;
  const tokenServer = loopback((n) =>
    tokenStatus === 200
      ? { status: 200, body: JSON.stringify({ access_token: `tok-${n}`, token_type: 'Bearer', expires_in: 3600 }) }
      : { status: tokenStatus, body: '{}' },
  );
  let hookUrl = '';
  let tokenUrl = '';
  let env: JobEnvironment;

  beforeAll(async () => {
    hookUrl = await receiver.start('/hooks/in');
    tokenUrl = await tokenServer.start('/oauth/token');
    const c = ctx();
    env = { db: c.store.db, dialect: c.store.dialect, clock: c.clock, keyring: c.app.payrail.keyring, allowPrivateWebhooks: true };
  });
  afterAll(async () => {
    await receiver.stop();
    await tokenServer.stop();
  });

  const api = async (method: 'GET' | 'POST' | 'DELETE', path: string, payload?: object, token?: string) =>
    ctx().app.inject({ method, url: `/2.0${path}`, headers: bearer(token ?? (await ctx().token('payments:admin'))), ...(payload ? { payload } : {}) });
  /** A state change (cancellation) announced to every enabled endpoint, then delivered. */
  async function announce(): Promise<void> {
    const id = await ctx().createPayment();
    const cancelled = await api('POST', `/payments/${id}`, { cancel: true, client_redirect_uri: REDIRECT_URI }, await ctx().token('payments:cancel'));
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    for (let i = 0; i < 5 && (await deliverDueWebhooks(env)) > 0; i++);
  }
  const disableAll = async () => {
    for (const w of (await api('GET', '/webhooks')).json().webhooks) if (w.enabled) await api('DELETE', `/webhooks/${w.id}`);
  };

  it('creates providers for admins only, refuses bad input naming the field, and never lists a secret', async () => {
    expect((await api('POST', '/webhooks/auth', { type: 'hmac_signature', name: 'x' }, await ctx().token('payments:read-only'))).statusCode).toBe(403);
    expect((await ctx().app.inject({ method: 'GET', url: '/2.0/webhooks/auth' })).statusCode).toBe(401);
    expect((await api('POST', '/webhooks/auth', { type: 'basic', name: 'x' })).json()).toMatchObject({ code: 'invalidValue', field: 'type' });
    const noSecret = await api('POST', '/webhooks/auth', { type: 'oauth', name: 'o', config: { url: tokenUrl, client_id: 'shop' } });
    expect(noSecret.statusCode).toBe(400);
    expect(noSecret.json().field).toBe('config.client_secret');
    expect(
      (await api('POST', '/webhooks/auth', { type: 'oauth', name: 'o', config: { url: 'ftp://x', client_id: 'a', client_secret: 'b' } })).json().field,
    ).toBe('config.url');
    expect(
      (
        await api('POST', '/webhooks/auth', { type: 'oauth', name: 'o', config: { url: tokenUrl, client_id: 'a', client_secret: 'b', grant_type: 'password' } })
      ).json().field,
    ).toBe('config.grant_type');

    const hmac = (await api('POST', '/webhooks/auth', { type: 'hmac_signature', name: 'signing' })).json();
    expect(hmac).toMatchObject({ id: expect.any(Number), type: 'hmac_signature', name: 'signing', config: { secret_key: expect.any(String) } });
    const oauth = (
      await api('POST', '/webhooks/auth', { type: 'oauth', name: 'oauth', config: { url: tokenUrl, client_id: 'shop id', client_secret: 'top secret' } })
    ).json();
    expect(oauth.config).toEqual({ url: tokenUrl, client_id: 'shop id', grant_type: 'client_credentials' });
    const listed = await api('GET', '/webhooks/auth');
    expect(listed.json().providers.map((p: { id: number }) => p.id)).toEqual([hmac.id, oauth.id]);
    expect(listed.body).not.toContain(hmac.config.secret_key);
    expect(listed.body).not.toContain('top secret');
    // Sealed at rest: neither secret is in the table as written.
    const stored = JSON.stringify(await ctx().store.db.selectFrom('webhook_auth_providers').selectAll().execute());
    expect(stored).not.toContain(hmac.config.secret_key);
    expect(stored).not.toContain('top secret');
  });

  it('signs the deliveries of a linked endpoint with the HMAC provider key, not the endpoint key', async () => {
    const hmac = (await api('POST', '/webhooks/auth', { type: 'hmac_signature', name: 'hmac 2' })).json();
    expect((await api('POST', '/webhooks', { url: hookUrl, id_auth: 999999 })).json()).toMatchObject({ code: 'invalidValue', field: 'id_auth' });
    const endpoint = (await api('POST', '/webhooks', { url: hookUrl, id_auth: hmac.id })).json();
    expect(endpoint.id_auth).toBe(hmac.id);
    expect((await api('GET', '/webhooks')).json().webhooks.find((w: { id: number }) => w.id === endpoint.id).id_auth).toBe(hmac.id);
    const before = receiver.seen.length;
    await announce();
    const got = receiver.seen.slice(before);
    expect(got).toHaveLength(1);
    const { headers, body, url } = got[0]!;
    const date = headers['bi-signature-date'] as string;
    expect(verifyWebhookSignature(hmac.config.secret_key, 'POST', url, date, body, headers['bi-signature'] as string)).toBe(true);
    expect(verifyWebhookSignature(endpoint.secret_key, 'POST', url, date, body, headers['bi-signature'] as string)).toBe(false);
    expect(headers.authorization).toBeUndefined();
    // In use: not deletable; once its endpoint is disabled, it is.
    expect((await api('DELETE', `/webhooks/auth/${hmac.id}`)).json()).toMatchObject({ code: 'invalidValue', field: 'id' });
    await disableAll();
    expect((await api('DELETE', `/webhooks/auth/${hmac.id}`)).statusCode).toBe(200);
    expect((await api('DELETE', `/webhooks/auth/${hmac.id}`)).statusCode).toBe(404);
  });

  it('sends an OAuth bearer token fetched with client credentials, cached until it expires', async () => {
    const oauth = (
      await api('POST', '/webhooks/auth', { type: 'oauth', name: 'oauth 2', config: { url: tokenUrl, client_id: 'shop id', client_secret: 'top secret' } })
    ).json();
    await api('POST', '/webhooks', { url: hookUrl, id_auth: oauth.id });
    const before = receiver.seen.length;
    const fetched = tokenServer.seen.length;
    await announce();
    await announce();
    const got = receiver.seen.slice(before);
    expect(got.map((r) => r.headers.authorization)).toEqual([`Bearer tok-${fetched + 1}`, `Bearer tok-${fetched + 1}`]);
    expect(got[0]!.headers['bi-signature']).toEqual(expect.any(String));
    expect(tokenServer.seen).toHaveLength(fetched + 1);
    const request = tokenServer.seen[fetched]!;
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('shop%20id:top%20secret').toString('base64')}`);
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(request.body).get('grant_type')).toBe('client_credentials');

    ctx().clock.advance(3600 * 1000); // past expires_in: a new token
    await announce();
    expect(receiver.seen.at(-1)!.headers.authorization).toBe(`Bearer tok-${fetched + 2}`);
    expect(tokenServer.seen).toHaveLength(fetched + 2);
  });

  it('records a failed attempt without calling the receiver when the token endpoint refuses', async () => {
    ctx().clock.advance(3600 * 1000);
    tokenStatus = 500;
    const before = receiver.seen.length;
    await announce();
    expect(receiver.seen.length).toBe(before);
    const failed = (await api('GET', '/webhooks/deliveries?status=pending')).json().deliveries;
    expect(failed[0]).toMatchObject({ attempts: 1, last_error: 'oauth token: HTTP 500', last_status_code: null });
    expect(JSON.stringify(failed)).not.toContain('top secret');
    tokenStatus = 200;
    await disableAll();
  });
});
