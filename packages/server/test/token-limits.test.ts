/**
 * Issue 24 (5): the token abuse limits count what an attack looks like — failed authentications,
 * per client and per address — and leave a well-behaved merchant's mints alone: a token per
 * payment at 10 payments a second for a minute is never refused, and a failure burst against one
 * client does not lock out another client on the same address. The limits' window runs on the
 * injected clock (the counts live in the `rate_limits` table), so a minute of traffic takes no
 * minute. Test clients' secrets are hashed at a low scrypt cost (the stored hash names its cost), so
 * 600 mints cost little CPU; unknown clients still cost the full hash.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp, type PayrailApp } from '../src/http/app.ts';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../src/http/rate-limits.ts';
import { describeEachDb, expectErrorBody } from './support/helpers.ts';

describeEachDb('token abuse limits', (ctx) => {
  const apps: PayrailApp[] = [];
  let app: PayrailApp;

  async function appWith(rateLimits: Partial<RateLimits>): Promise<PayrailApp> {
    const built = await buildApp({ store: ctx().store, clock: ctx().clock, rateLimits });
    await built.ready();
    apps.push(built);
    return built;
  }
  beforeAll(async () => {
    app = await appWith({}); // the defaults
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
  });

  /** A client whose secret hash is cheap to verify (the limits are under test, not scrypt). */
  async function cheapClient() {
    const client = await ctx().newClient();
    const salt = randomBytes(16);
    const key = scryptSync(client.client_secret, salt, 32, { N: 16, r: 1, p: 1 });
    await ctx()
      .store.db.updateTable('clients')
      .set({ secret_hash: `scrypt$16$1$1$${salt.toString('base64')}$${key.toString('base64')}` })
      .where('client_id', '=', client.client_id)
      .execute();
    return client;
  }
  const mint = (on: PayrailApp, clientId: string, secret: string, address = '203.0.113.7') =>
    on.inject({
      method: 'POST',
      url: '/2.0/auth/token',
      remoteAddress: address,
      payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'payments:admin' },
    });
  /** Every window starts afresh: the counts of earlier tests (same table) have lapsed. */
  const freshWindow = () => ctx().clock.advance(DEFAULT_RATE_LIMITS.windowMs + 1_000);

  it('a token per payment at 10 payments a second for a minute is never throttled', async () => {
    freshWindow();
    const client = await cheapClient();
    const refused: number[] = [];
    for (let i = 0; i < 600; i++) {
      const response = await mint(app, client.client_id, client.client_secret);
      if (response.statusCode !== 200) refused.push(i);
      ctx().clock.advance(100);
    }
    expect(refused).toEqual([]);
    expect(DEFAULT_RATE_LIMITS.tokenMintsPerClient).toBeGreaterThanOrEqual(1200);
  }, 120_000);

  it('successful mints still have a ceiling per client', async () => {
    const ceiling = await appWith({ tokenMintsPerClient: 3 });
    freshWindow();
    const client = await cheapClient();
    const other = await cheapClient();
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await mint(ceiling, client.client_id, client.client_secret)).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect((await mint(ceiling, other.client_id, other.client_secret)).statusCode).toBe(200);
  });

  it('a failure burst against client A throttles A (from any address), not client B on the same address', async () => {
    freshWindow();
    const a = await cheapClient();
    const b = await cheapClient();
    const codes: number[] = [];
    for (let i = 0; i < 50; i++) codes.push((await mint(app, a.client_id, `guess-${i}`)).statusCode);
    const limit = DEFAULT_RATE_LIMITS.tokenFailuresPerClient;
    expect(codes.slice(0, limit).every((c) => c === 401)).toBe(true);
    expect(codes.slice(limit).every((c) => c === 429)).toBe(true);
    // A is locked for the window, even with its right secret and from another address.
    const locked = await mint(app, a.client_id, a.client_secret);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expectErrorBody(locked.json());
    expect(locked.json().code).toBe('tooManyRequests');
    expect((await mint(app, a.client_id, a.client_secret, '198.51.100.9')).statusCode).toBe(429);
    // B, on the same address, mints as before, and a mistake of B's is still a plain 401.
    for (let i = 0; i < 50; i++) expect((await mint(app, b.client_id, b.client_secret)).statusCode).toBe(200);
    expect((await mint(app, b.client_id, 'typo')).statusCode).toBe(401);
    // Once the window has passed, A's right secret works again.
    freshWindow();
    expect((await mint(app, a.client_id, a.client_secret)).statusCode).toBe(200);
  }, 120_000);

  it('failures against many clients from one address are throttled per address', async () => {
    const strict = await appWith({ tokenFailuresPerClient: 3, tokenFailuresPerAddress: 6 });
    freshWindow();
    const b = await cheapClient();
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await mint(strict, `sprayed-${i}`, 'guess', '192.0.2.66')).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
    // That address is refused for the window; B elsewhere is not.
    expect((await mint(strict, b.client_id, b.client_secret, '192.0.2.66')).statusCode).toBe(429);
    expect((await mint(strict, b.client_id, b.client_secret, '192.0.2.67')).statusCode).toBe(200);
  }, 120_000);
});
