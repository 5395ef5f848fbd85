/** Retry rules, against a loopback server that fails on purpose. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PayrailClient, PayrailError, PayrailNetworkError } from '../src/index.ts';

let server: Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(null)));
  server = null;
});

/** A server answering `statuses` in turn (then 200), recording the requests. */
async function flaky(statuses: number[]) {
  const seen: IncomingMessage[] = [];
  server = createServer((request, response) => {
    request.resume();
    seen.push(request);
    if (request.url?.endsWith('/auth/token')) return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 't', scope: 'payments:admin', expires_in: 1800 }));
    const status = statuses.shift() ?? 200;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(status === 200 ? { id: 7, state: 'created' } : { code: status === 409 ? 'idempotencyKeyInUse' : status === 400 ? 'invalidValue' : 'bug', description: 'x', message: null, request_id: 1 }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = new PayrailClient({ baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, clientId: 'c', clientSecret: 's', retryBaseMs: 5 });
  return { client, calls: () => seen.filter((r) => !r.url?.endsWith('/auth/token')) };
}

describe('retries', () => {
  it('retries 5xx and 409 with the same Idempotency-Key, then succeeds', async () => {
    const { client, calls } = await flaky([503, 500, 409]);
    const payment = await client.createPayment({ client_redirect_uri: 'x', instructions: [] } as never);
    expect(payment.id).toBe(7);
    expect(calls()).toHaveLength(4);
    const keys = new Set(calls().map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never retries other 4xx', async () => {
    const { client, calls } = await flaky([400]);
    await expect(client.getPayment(1)).rejects.toBeInstanceOf(PayrailError);
    expect(calls()).toHaveLength(1);
  });

  it('gives up after maxRetries with the last error', async () => {
    const { client, calls } = await flaky([502, 502, 502, 502, 502]);
    await expect(client.getPayment(1)).rejects.toMatchObject({ status: 502 });
    expect(calls()).toHaveLength(4); // the first try and 3 retries
  });

  it('retries network errors, then reports them', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve)); // nothing listens there now
    let attempts = 0;
    const client = new PayrailClient({
      baseUrl: `http://127.0.0.1:${port}`, clientId: 'c', clientSecret: 's', retryBaseMs: 5, maxRetries: 2,
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    await expect(client.listConnectors()).rejects.toBeInstanceOf(PayrailNetworkError);
    expect(attempts).toBe(3);
  });
});

describe('service tokens', () => {
  it('renews the token a minute before it expires, and after a 401', async () => {
    let issued = 0;
    let reject = false;
    server = createServer((request, response) => {
      request.resume();
      if (request.url?.endsWith('/auth/token')) {
        issued++;
        // 61 s of life: the client renews 60 s before expiry, so after one second it asks again.
        return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `t${issued}`, scope: 'payments:admin', expires_in: 61 }));
      }
      const expected = `Bearer t${issued}`;
      if (reject || request.headers.authorization !== expected) {
        reject = false;
        return response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'unauthorized', description: 'x', message: null, request_id: 1 }));
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payments: [], total: 0 }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = new PayrailClient({ baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, clientId: 'c', clientSecret: 's' });
    await client.listPayments();
    await client.listPayments();
    expect(issued).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    await client.listPayments();
    expect(issued).toBe(2);
    reject = true; // the server forgot the token (e.g. revoked): one new token, then success
    await client.listPayments();
    expect(issued).toBe(3);
  });
});
