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

type Answer = number | { status: number; code?: string; headers?: Record<string, string> };

/** A server answering `answers` in turn (then 200), recording the requests and when they came. */
async function flaky(answers: Answer[]) {
  const seen: IncomingMessage[] = [];
  const times: number[] = [];
  server = createServer((request, response) => {
    request.resume();
    if (request.url?.endsWith('/auth/token'))
      return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 't', scope: 'payments:admin', expires_in: 1800 }));
    seen.push(request);
    times.push(Date.now());
    const next = answers.shift() ?? 200;
    const answer = typeof next === 'number' ? { status: next } : next;
    const code =
      answer.code ??
      (answer.status === 409 ? 'idempotencyKeyInUse' : answer.status === 400 ? 'invalidValue' : answer.status === 429 ? 'tooManyRequests' : 'bug');
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    response.end(JSON.stringify(answer.status === 200 ? { id: 7, state: 'created' } : { code, description: 'x', message: null, request_id: 1 }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = new PayrailClient({
    baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`,
    clientId: 'c',
    clientSecret: 's',
    retryBaseMs: 5,
  });
  return { client, calls: () => seen, times };
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

  it('never retries a state conflict (409 invalidState), only the idempotency "request in progress" 409', async () => {
    const conflict = await flaky([{ status: 409, code: 'invalidState' }]);
    await expect(conflict.client.cancelPayment(1)).rejects.toMatchObject({ status: 409, code: 'invalidState' });
    expect(conflict.calls()).toHaveLength(1);
    await new Promise((resolve) => server!.close(resolve));
    const inProgress = await flaky([{ status: 409, code: 'idempotencyKeyInUse' }]);
    expect((await inProgress.client.createPayment({} as never, { idempotencyKey: 'order-1' })).id).toBe(7);
    expect(inProgress.calls().map((r) => r.headers['idempotency-key'])).toEqual(['order-1', 'order-1']);
  });

  it('retries 429 after the Retry-After it was given, in seconds or as a date', async () => {
    const { client, calls, times } = await flaky([
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 429, headers: { 'retry-after': new Date(Date.now() + 2500).toUTCString() } },
    ]);
    expect((await client.getPayment(1)).id).toBe(7);
    expect(calls()).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(990);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(500);
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
      baseUrl: `http://127.0.0.1:${port}`,
      clientId: 'c',
      clientSecret: 's',
      retryBaseMs: 5,
      maxRetries: 2,
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
        return response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token: `t${issued}`, scope: 'payments:admin', expires_in: 61 }));
      }
      const expected = `Bearer t${issued}`;
      if (reject || request.headers.authorization !== expected) {
        reject = false;
        return response
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'unauthorized', description: 'x', message: null, request_id: 1 }));
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
