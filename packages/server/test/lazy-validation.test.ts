import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type PayrailApp } from '../src/http/app.ts';
import { buildLazyValidator, compileAllValidators } from '../src/http/lazy-validation.ts';
import { migrate, openStore, type Store } from '../src/store/db.ts';

// Route validators are compiled on a route's first request (start-up time, docs/performance.md):
// this checks that every one of them compiles, and that they validate as Ajv's own do.
describe('route validators compiled on first use', () => {
  let store: Store;
  let app: PayrailApp;
  beforeAll(async () => {
    store = await openStore({ dataDir: ':memory:' });
    await migrate(store);
    app = await buildApp({ store });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('compiles every route schema', () => {
    expect(compileAllValidators()).toBeGreaterThan(40);
    expect(compileAllValidators()).toBe(0);
  });

  it('answers an invalid query, params or body as before, with the same error body', async () => {
    const query = await app.inject({ url: '/2.0/payments?limit=abc', headers: { authorization: 'Bearer x' } });
    expect(query.statusCode).toBe(401); // authentication comes before validation
    const body = await app.inject({ method: 'POST', url: '/2.0/auth/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":1}' });
    expect(body.statusCode).toBe(400);
    expect(body.json()).toMatchObject({ code: expect.any(String), description: expect.any(String) });
  });

  it('refuses a headers schema with an upper-case name (Fastify lower-cases them only for its own compiler)', () => {
    const compile = buildLazyValidator({}, { customOptions: {} });
    expect(() =>
      compile({ schema: { type: 'object', properties: { 'Idempotency-Key': { type: 'string' } } }, method: 'POST', url: '/x', httpPart: 'headers' }),
    ).toThrow(/lower-case/);
    const headers = compile({ schema: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 3 } } }, httpPart: 'headers' });
    expect(headers({ 'idempotency-key': 'abc' })).toBe(true);
    expect(headers({ 'idempotency-key': 'abcd' })).toBe(false);
    expect(headers.errors).toHaveLength(1);
  });
});
