/**
 * Request logging (src/http/app.ts): one access line per request, a request's own lines bound to its
 * reqId (its pino child is made only when it writes one), "incoming request" at debug only, and the
 * redaction list applied to every line a request writes.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type PayrailApp } from '../src/http/app.ts';
import type { Store } from '../src/store/db.ts';
import { openIsolatedStore } from './support/stores.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe('request logs', () => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await openIsolatedStore('sqlite', null));
  });
  afterAll(async () => drop());

  async function appAt(level: string) {
    const { lines, stream } = capture();
    const app: PayrailApp = await buildApp({ store, logger: { level, stream } });
    app.get('/log-probe', { config: { access: 'public' } }, async (request) => {
      request.log.info({ token: 'secret-token-value', detail: { iban: 'FR7630006000011234567890189' }, kept: 'visible' }, 'probe line');
      request.log.debug('probe debug line');
      return { ok: true };
    });
    await app.ready();
    return { app, lines };
  }

  it('writes one access line per request at info, with method, path without query, status and time', async () => {
    const { app, lines } = await appAt('info');
    const response = await app.inject({
      method: 'GET',
      url: '/2.0/payments?iban=FR7630006000011234567890189',
      headers: { authorization: 'Bearer garbage-token-123' },
    });
    expect(response.statusCode).toBe(401);
    const mine = lines.filter((l) => l.reqId === response.headers['x-request-id']);
    expect(mine.map((l) => l.msg)).toEqual(['request completed']);
    expect(mine[0]).toMatchObject({ method: 'GET', path: '/2.0/payments', statusCode: 401, level: 30 });
    expect(typeof mine[0]!.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('garbage-token-123');
    expect(JSON.stringify(lines)).not.toContain('FR7630006000011234567890189');
    await app.close();
  });

  it("binds a request's own lines to its reqId and redacts them; debug lines only at debug", async () => {
    const { app, lines } = await appAt('info');
    const response = await app.inject({ method: 'GET', url: '/log-probe' });
    const mine = lines.filter((l) => l.reqId === response.headers['x-request-id']);
    expect(mine.map((l) => l.msg)).toEqual(['probe line', 'request completed']);
    expect(mine[0]).toMatchObject({ token: '[redacted]', detail: '[redacted]', kept: 'visible' });
    await app.close();

    const debug = await appAt('debug');
    const second = await debug.app.inject({ method: 'GET', url: '/log-probe' });
    const all = debug.lines.filter((l) => l.reqId === second.headers['x-request-id']);
    expect(all.map((l) => l.msg)).toEqual(['incoming request', 'probe line', 'probe debug line', 'request completed']);
    expect(all[0]).toMatchObject({ req: { method: 'GET', path: '/log-probe' } });
    await debug.app.close();
  });
});
