import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type PayrailApp } from '../src/http/app.ts';
import { migrate, openStore, type Store } from '../src/store/db.ts';

describe('OpenAPI document and API reference', () => {
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

  it('is committed and up to date (regenerate with `npm run openapi`)', () => {
    const committed = readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(`${JSON.stringify(app.swagger(), null, 2)}\n`);
  });

  it('is OpenAPI 3.1 and describes every API route', async () => {
    const response = await app.inject({ url: '/2.0/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/2.0/auth/token',
      '/2.0/config',
      '/2.0/connectors',
      '/2.0/connectors/{uuid}',
      '/2.0/connectors/{uuid}/sources',
      '/2.0/payments',
      '/2.0/payments/{id}',
      '/2.0/payments/{id}/exchanges',
      '/2.0/payments/{id}/incompatibilities',
      '/2.0/payments/{id}/occurrences',
      '/2.0/payments/{id}/scopedtoken',
      '/2.0/payments/{id}/terms',
      '/2.0/publickey',
      '/2.0/sign-keys',
      '/2.0/sign-keys/{id}',
      '/2.0/terms',
      '/2.0/webhooks',
      '/2.0/webhooks/auth',
      '/2.0/webhooks/auth/{id}',
      '/2.0/webhooks/deliveries',
      '/2.0/webhooks/deliveries/{id}/replay',
      '/2.0/webhooks/{id}',
    ]);
    expect(doc.paths['/2.0/payments'].post.requestBody.content['application/json'].schema.required).toEqual(['client_redirect_uri', 'instructions']);
  });

  it('serves a readable reference page under a strict Content-Security-Policy', async () => {
    const page = await app.inject({ url: '/2.0/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.body).toContain('/2.0/payments/{id}/scopedtoken');
    expect(page.body).toContain('client_redirect_uri');
    expect(page.body).not.toMatch(/<script/i);
    const css = await app.inject({ url: '/2.0/assets/docs.css' });
    expect(css.headers['content-type']).toContain('text/css');
  });

  it('declares an access rule on every route (scopes are checked everywhere)', () => {
    const routes = app.payrail.routes;
    expect(routes.length).toBeGreaterThan(5);
    expect(routes.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const publicRoutes = routes
      .filter((r) => r.access === 'public')
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    const gets = (path: string) => [`GET ${path}`, `HEAD ${path}`];
    expect(publicRoutes).toEqual(
      [
        ...gets('/2.0/assets/docs.css'),
        ...gets('/2.0/assets/payrail.css'),
        ...gets('/2.0/assets/webview.js'),
        ...gets('/2.0/bank-return/:result'),
        ...gets('/2.0/auth/webview/:lang/flow'),
        ...gets('/2.0/auth/webview/:lang/payment'),
        ...gets('/2.0/auth/webview/payment'),
        ...gets('/2.0/connectors'),
        ...gets('/2.0/connectors/:uuid'),
        ...gets('/2.0/connectors/:uuid/sources'),
        // The bank's return of an OAuth2 / OpenID Connect consent: bound to its payment by the signed `state`.
        ...gets('/2.0/consent/return'),
        ...gets('/2.0/docs'),
        ...gets('/2.0/openapi.json'),
        ...gets('/2.0/publickey'),
        ...gets('/2.0/sign-keys'),
        ...gets('/2.0/sign-keys/:id'),
        ...gets('/2.0/terms'),
        ...gets('/2.0/testbank/authorize'),
        // The sandbox banks' simulated authorization server (only where the test bank is on).
        ...gets('/2.0/testbank/oauth/.well-known/openid-configuration'),
        ...gets('/2.0/testbank/oauth/authorize'),
        ...gets('/2.0/testbank/oauth/jwks'),
        ...gets('/2.0/webauth/callback'),
        ...gets('/health'),
        ...gets('/metrics'),
        ...gets('/ready'),
        'POST /2.0/auth/token',
        'POST /2.0/auth/webview/:lang/flow',
        'POST /2.0/consent/return',
        'POST /2.0/testbank/authorize',
        'POST /2.0/testbank/oauth/authorize',
        'POST /2.0/testbank/oauth/token',
      ].sort(),
    );
  });
});
