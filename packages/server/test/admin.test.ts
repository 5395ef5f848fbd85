/**
 * The admin dashboard's doors: operator sign-in (password, one-time link), expiring sessions stored
 * hashed, CSRF on every form, and no way in with a merchant's API token on any route.
 */
import { expect, it } from 'vitest';
import { OPERATOR } from '../src/http/access.ts';
import { createOperator, signInLinkToken } from '../src/services/operators.ts';
import { tokenHash } from '../src/services/secrets.ts';
import { triggerPrincipal, triggerScenario } from '../src/services/trigger-scenario.ts';
import { describeEachDb } from './support/helpers.ts';

function cookieOf(setCookie: string | string[] | undefined, name: string): string | null {
  for (const line of [setCookie ?? []].flat()) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (match) return match[1]!;
  }
  return null;
}

describeEachDb('admin dashboard access', (ctx) => {
  let session = '';
  let paymentId = 0;

  async function signIn(email: string, password: string) {
    const { app } = ctx();
    const form = await app.inject({ url: '/admin/login' });
    const nonce = cookieOf(form.headers['set-cookie'], 'payrail_admin_login')!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1]!;
    return app.inject({ method: 'POST', url: '/admin/login', headers: { cookie: `payrail_admin_login=${nonce}` }, payload: { csrf, email, password } });
  }

  it('signs an operator in with the password shown once; a wrong one or a forged form is refused', async () => {
    const { store, clock, app } = ctx();
    const operator = await createOperator(store.db, clock, 'Ops@Example.com');
    expect(operator.password.length).toBeGreaterThanOrEqual(20);
    expect((await signIn('ops@example.com', 'wrong')).statusCode).toBe(401);
    const forged = await app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: { cookie: 'payrail_admin_login=x' },
      payload: { csrf: 'nope', email: 'ops@example.com', password: operator.password },
    });
    expect(forged.statusCode).toBe(403);
    const ok = await signIn('ops@example.com', operator.password);
    expect([ok.statusCode, ok.headers.location]).toEqual([303, '/admin/payments']);
    session = cookieOf(ok.headers['set-cookie'], 'payrail_admin')!;
    expect(ok.headers['set-cookie']!.toString()).toMatch(/payrail_admin=[^;]+; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=28800/);
    // Stored as a hash only.
    const rows = await store.db.selectFrom('operator_tokens').selectAll().execute();
    expect(rows.map((r) => r.token_hash)).toContain(tokenHash(session));
    expect(JSON.stringify(rows)).not.toContain(session);
  });

  it('shows every page to the operator, with a strict CSP and no script', async () => {
    const { app, store, clock } = ctx();
    const principal = await triggerPrincipal(store.db, clock, 1, undefined);
    const env = {
      db: store.db,
      clock,
      secret: app.payrail.secret,
      baseUrl: 'http://127.0.0.1',
      testStepMs: 60,
      connectors: app.payrail.connectors,
      notifier: app.payrail.notifier,
    };
    paymentId = (await triggerScenario(env, principal, { scenario: 'redirect', amount: '12.34', currency: 'EUR', timeoutMs: 5_000 })).id;
    for (const url of [
      '/admin/payments',
      `/admin/payments?client_state=&state=done&amount=12.34`,
      `/admin/payments/${paymentId}`,
      '/admin/webhooks',
      '/admin/banks',
      '/admin/clients',
      '/admin/config',
    ]) {
      const page = await app.inject({ url, headers: { cookie: `payrail_admin=${session}` } });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-security-policy']).toBe(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      );
      expect(page.body).not.toMatch(/<script/i);
    }
    const list = await app.inject({ url: '/admin/payments?state=done&amount=12.34', headers: { cookie: `payrail_admin=${session}` } });
    expect(list.body).toContain(`href="/admin/payments/${paymentId}"`);
    const timeline = await app.inject({ url: `/admin/payments/${paymentId}`, headers: { cookie: `payrail_admin=${session}`, 'accept-language': 'fr-FR' } });
    expect(timeline.body).toContain('<html lang="fr">');
    expect(timeline.body).toMatch(/validating → <span class="state state-done">done<\/span>/);
    const bad = await app.inject({ url: '/admin/payments?state=paid', headers: { cookie: `payrail_admin=${session}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('state: must be one of');
  });

  it('refuses a merchant API token on every dashboard route, as a header or as the session cookie', async () => {
    const { app, token } = ctx();
    const merchant = await token('payments:admin');
    const routes = app.payrail.routes.filter((r) => r.access === OPERATOR && r.method !== 'HEAD');
    expect(routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /admin',
      'GET /admin/assets/admin.css',
      'GET /admin/banks',
      'GET /admin/clients',
      'GET /admin/config',
      'GET /admin/lang',
      'GET /admin/login',
      'GET /admin/login/link',
      'GET /admin/payments',
      'GET /admin/payments/:id',
      'GET /admin/webhooks',
      'POST /admin/deliveries/:id/replay',
      'POST /admin/login',
      'POST /admin/logout',
    ]);
    for (const route of routes) {
      const url = route.url.replace(':id', String(paymentId));
      const withHeader = await app.inject({
        method: route.method as 'GET',
        url,
        headers: { authorization: `Bearer ${merchant}` },
        payload: route.method === 'POST' ? {} : undefined,
      });
      expect(withHeader.statusCode, `${route.method} ${url}`).toBe(401);
      expect(withHeader.body).not.toContain('12.34');
      const asCookie = await app.inject({
        method: route.method as 'GET',
        url,
        headers: { cookie: `payrail_admin=${merchant}` },
        payload: route.method === 'POST' ? {} : undefined,
      });
      if (!['/admin/login', '/admin/login/link', '/admin/assets/admin.css', '/admin/lang'].includes(route.url)) {
        expect([303, 401], `${route.method} ${url}`).toContain(asCookie.statusCode);
        if (asCookie.statusCode === 303) expect(asCookie.headers.location).toBe('/admin/login');
      }
      expect(asCookie.body).not.toContain('12.34');
    }
  });

  it('needs the CSRF token on replay and sign-out', async () => {
    const { app } = ctx();
    const replay = await app.inject({
      method: 'POST',
      url: '/admin/deliveries/1/replay',
      headers: { cookie: `payrail_admin=${session}` },
      payload: { csrf: 'forged' },
    });
    expect(replay.statusCode).toBe(403);
    const logout = await app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie: `payrail_admin=${session}` }, payload: {} });
    expect(logout.statusCode).toBe(403);
    expect((await app.inject({ url: '/admin/clients', headers: { cookie: `payrail_admin=${session}` } })).statusCode).toBe(200);
  });

  it('opens a session once from a sign-in link, and sessions expire', async () => {
    const { app, store, clock } = ctx();
    const { token } = await signInLinkToken(store.db, clock, 'ops@example.com');
    const first = await app.inject({ url: `/admin/login/link?token=${token}` });
    expect([first.statusCode, first.headers.location]).toEqual([303, '/admin/payments']);
    const linked = cookieOf(first.headers['set-cookie'], 'payrail_admin')!;
    expect((await app.inject({ url: `/admin/login/link?token=${token}` })).statusCode).toBe(401);
    expect((await app.inject({ url: '/admin/banks', headers: { cookie: `payrail_admin=${linked}` } })).statusCode).toBe(200);
    clock.advance(8 * 3600 * 1000 + 1);
    for (const cookie of [linked, session]) {
      const expired = await app.inject({ url: '/admin/banks', headers: { cookie: `payrail_admin=${cookie}` } });
      expect([expired.statusCode, expired.headers.location]).toEqual([303, '/admin/login']);
    }
  });
});
