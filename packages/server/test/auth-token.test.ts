import { expect, it } from 'vitest';
import { bearer, describeEachDb, expectErrorBody } from './support/helpers.ts';

describeEachDb('POST /2.0/auth/token', (ctx) => {
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    ctx().app.inject({ method: 'POST', url: '/2.0/auth/token', payload: payload as object, headers });

  it('issues a 30-minute service token for client credentials (JSON)', async () => {
    const { client } = ctx();
    const response = await post({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
      scope: 'payments:admin',
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({ token: expect.any(String), scope: 'payments:admin', token_type: 'Bearer', expires_in: 1800 });
    expect(body.token.length).toBeGreaterThanOrEqual(43);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('accepts form-encoded bodies, scope arrays and space-separated scopes', async () => {
    const { client } = ctx();
    const form = await ctx().app.inject({
      method: 'POST',
      url: '/2.0/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        scope: 'payments:read-only payments:allow-sensitive',
      }).toString(),
    });
    expect(form.statusCode).toBe(200);
    expect(form.json().scope).toBe('payments:read-only payments:allow-sensitive');
    const array = await post({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
      scope: ['payments:validate', 'payments:cancel'],
    });
    expect(array.json().scope).toBe('payments:validate payments:cancel');
  });

  it('accepts credentials as HTTP Basic', async () => {
    const { client } = ctx();
    const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
    const response = await post({ grant_type: 'client_credentials', scope: 'payments:admin' }, { authorization: `Basic ${basic}` });
    expect(response.statusCode).toBe(200);
  });

  it('answers a wrong secret and an unknown client the same way', async () => {
    const { client } = ctx();
    const wrong = await post({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: 'nope', scope: 'payments:admin' });
    const unknown = await post({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'nope', scope: 'payments:admin' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const { request_id: _a, ...a } = wrong.json();
    const { request_id: _b, ...b } = unknown.json();
    expect(a).toEqual(b);
    expect(a.code).toBe('unauthorized');
    // RFC 6749 §5.2 beside the Powens members.
    expect(a).toMatchObject({ error: 'invalid_client', error_description: a.description });
  });

  it.each([
    [{ client_id: 'x', client_secret: 'y', scope: 'payments:admin' }, 'missingParameter', 'grant_type', 'invalid_request'],
    [{ grant_type: 'password', client_id: 'x', client_secret: 'y', scope: 'payments:admin' }, 'invalidValue', 'grant_type', 'unsupported_grant_type'],
    [{ grant_type: 'client_credentials', client_secret: 'y', scope: 'payments:admin' }, 'missingParameter', 'client_id', 'invalid_request'],
    [{ grant_type: 'client_credentials', client_id: 'x', scope: 'payments:admin' }, 'missingParameter', 'client_secret', 'invalid_request'],
    [{ grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' }, 'missingParameter', 'scope', 'invalid_scope'],
    [{ grant_type: 'client_credentials', client_id: 'x', client_secret: 'y', scope: 'payments:root' }, 'invalidValue', 'scope', 'invalid_scope'],
  ])('refuses %j with %s naming %s, and OAuth error %s', async (payload, code, field, oauth) => {
    const response = await post(payload);
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expectErrorBody(body);
    expect(body).toMatchObject({ code, field, error: oauth, error_description: body.description });
    expect(body.message).toContain(field);
  });

  it('adds the OAuth members only on /auth/token', async () => {
    const response = await ctx().app.inject({ url: '/2.0/payments' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).not.toHaveProperty('error');
    expect(response.json().message).toBe("You don't have the required authorization parameter to access this endpoint.");
  });

  it('stops accepting a service token after 30 minutes', async () => {
    const { clock, app } = ctx();
    const token = await ctx().token('payments:read-only');
    expect((await app.inject({ url: '/2.0/payments', headers: bearer(token) })).statusCode).toBe(200);
    clock.advance(30 * 60 * 1000 - 1000);
    expect((await app.inject({ url: '/2.0/payments', headers: bearer(token) })).statusCode).toBe(200);
    clock.advance(1000);
    const expired = await app.inject({ url: '/2.0/payments', headers: bearer(token) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().code).toBe('unauthorized');
  });

  it('stores tokens and secrets only as hashes', async () => {
    const { store, client } = ctx();
    const token = await ctx().token('payments:admin');
    const tokens = await store.db.selectFrom('tokens').select('token_hash').execute();
    expect(tokens.some((t) => t.token_hash.includes(token))).toBe(false);
    expect(tokens.every((t) => /^[0-9a-f]{64}$/.test(t.token_hash))).toBe(true);
    const row = await store.db.selectFrom('clients').select('secret_hash').where('client_id', '=', client.client_id).executeTakeFirstOrThrow();
    expect(row.secret_hash).toMatch(/^scrypt\$/);
    expect(row.secret_hash).not.toContain(client.client_secret);
  });
});
