/**
 * The authorization matrix of docs/reference/powens-pay-api.md §2.2, one cell per (endpoint, token) pair, on every database.
 * A cell is the expected HTTP status: 2xx allowed, 401 no valid token, 403 not allowed.
 */
import { expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { bearer, describeEachDb, guideBody } from './support/helpers.ts';

type TokenKind =
  | 'none'
  | 'garbage'
  | 'expired'
  | 'admin'
  | 'payments (deprecated alias)'
  | 'read-only'
  | 'allow-sensitive'
  | 'validate (service)'
  | 'cancel (service)'
  | 'payment-links:admin'
  | 'scoped validate, own payment'
  | 'scoped validate, other payment'
  | 'scoped cancel, own payment'
  | 'scoped read-only, own payment';

type Endpoint =
  | 'GET /payments'
  | 'POST /payments'
  | 'GET /payments/{id}'
  | 'GET /payments/{id}?show_sensitive=true'
  | 'POST /payments/{id}/scopedtoken'
  | 'GET /payments?show_sensitive=true'
  | 'GET /connectors?id_payment={id}'
  | 'GET /connectors/{uuid}'
  | 'GET /connectors/{uuid}/sources'
  | 'GET /payments/{id}/terms'
  | 'POST /payments/{id}/terms'
  | 'GET /terms'
  | 'GET /publickey'
  | 'GET /sign-keys'
  | 'GET /webhooks/auth'
  | 'POST /webhooks/auth';

/** Domain administration (webhooks and their authentication providers): payments:admin (or its alias) only. */
const ADMIN_ROW = {
  none: 401,
  garbage: 401,
  expired: 401,
  admin: 200,
  'payments (deprecated alias)': 200,
  'read-only': 403,
  'allow-sensitive': 403,
  'validate (service)': 403,
  'cancel (service)': 403,
  'payment-links:admin': 403,
  'scoped validate, own payment': 403,
  'scoped validate, other payment': 403,
  'scoped cancel, own payment': 403,
  'scoped read-only, own payment': 403,
} as const;

/** Public endpoints (docs/reference/powens-pay-api.md §10.1): every token, none or a bad one, gets the same 200. */
const PUBLIC_ROW = {
  none: 200,
  garbage: 200,
  expired: 200,
  admin: 200,
  'payments (deprecated alias)': 200,
  'read-only': 200,
  'allow-sensitive': 200,
  'validate (service)': 200,
  'cancel (service)': 200,
  'payment-links:admin': 200,
  'scoped validate, own payment': 200,
  'scoped validate, other payment': 200,
  'scoped cancel, own payment': 200,
  'scoped read-only, own payment': 200,
} as const;

/** Spec §2.2: terms of a payment, for admin and validate (a scoped token only for its own payment). */
const TERMS_ROW = {
  none: 401,
  garbage: 401,
  expired: 401,
  admin: 200,
  'payments (deprecated alias)': 200,
  'read-only': 403,
  'allow-sensitive': 403,
  'validate (service)': 200,
  'cancel (service)': 403,
  'payment-links:admin': 403,
  'scoped validate, own payment': 200,
  'scoped validate, other payment': 403,
  'scoped cancel, own payment': 403,
  'scoped read-only, own payment': 403,
} as const;

const MATRIX: Record<Endpoint, Record<TokenKind, number>> = {
  'GET /payments': {
    none: 401,
    garbage: 401,
    expired: 401,
    admin: 200,
    'payments (deprecated alias)': 200,
    'read-only': 200,
    'allow-sensitive': 200,
    'validate (service)': 403,
    'cancel (service)': 403,
    'payment-links:admin': 403,
    'scoped validate, own payment': 403,
    'scoped validate, other payment': 403,
    'scoped cancel, own payment': 403,
    'scoped read-only, own payment': 403,
  },
  'GET /payments?show_sensitive=true': {
    none: 401,
    garbage: 401,
    expired: 401,
    admin: 200,
    'payments (deprecated alias)': 200,
    'read-only': 403,
    'allow-sensitive': 200,
    'validate (service)': 403,
    'cancel (service)': 403,
    'payment-links:admin': 403,
    'scoped validate, own payment': 403,
    'scoped validate, other payment': 403,
    'scoped cancel, own payment': 403,
    'scoped read-only, own payment': 403,
  },
  'POST /payments': {
    none: 401,
    garbage: 401,
    expired: 401,
    admin: 200,
    'payments (deprecated alias)': 200,
    'read-only': 403,
    'allow-sensitive': 403,
    'validate (service)': 403,
    'cancel (service)': 403,
    'payment-links:admin': 403,
    'scoped validate, own payment': 403,
    'scoped validate, other payment': 403,
    'scoped cancel, own payment': 403,
    'scoped read-only, own payment': 403,
  },
  'GET /payments/{id}': {
    none: 401,
    garbage: 401,
    expired: 401,
    admin: 200,
    'payments (deprecated alias)': 200,
    'read-only': 200,
    'allow-sensitive': 200,
    'validate (service)': 200,
    'cancel (service)': 200,
    'payment-links:admin': 403,
    'scoped validate, own payment': 200,
    'scoped validate, other payment': 403,
    'scoped cancel, own payment': 200,
    'scoped read-only, own payment': 200,
  },
  'GET /payments/{id}?show_sensitive=true': {
    none: 401,
    garbage: 401,
    expired: 401,
    admin: 200,
    'payments (deprecated alias)': 200,
    'read-only': 403,
    'allow-sensitive': 200,
    'validate (service)': 200,
    'cancel (service)': 403,
    'payment-links:admin': 403,
    'scoped validate, own payment': 200,
    'scoped validate, other payment': 403,
    'scoped cancel, own payment': 403,
    'scoped read-only, own payment': 403,
  },
  'POST /payments/{id}/scopedtoken': {
    none: 401,
    garbage: 401,
    expired: 401,
    admin: 200,
    'payments (deprecated alias)': 200,
    'read-only': 403,
    'allow-sensitive': 403,
    'validate (service)': 403,
    'cancel (service)': 403,
    'payment-links:admin': 403,
    'scoped validate, own payment': 200,
    'scoped validate, other payment': 403,
    'scoped cancel, own payment': 403,
    'scoped read-only, own payment': 403,
  },
  'GET /connectors?id_payment={id}': PUBLIC_ROW,
  'GET /connectors/{uuid}': PUBLIC_ROW,
  'GET /connectors/{uuid}/sources': PUBLIC_ROW,
  'GET /payments/{id}/terms': TERMS_ROW,
  'POST /payments/{id}/terms': TERMS_ROW,
  'GET /terms': PUBLIC_ROW,
  'GET /publickey': PUBLIC_ROW,
  'GET /sign-keys': PUBLIC_ROW,
  'GET /webhooks/auth': ADMIN_ROW,
  'POST /webhooks/auth': ADMIN_ROW,
};

describeEachDb('authorization matrix', (ctx) => {
  const tokens = new Map<TokenKind, string | null>();
  let own = 0;
  let other = 0;

  it('prepares one token of each kind', async () => {
    own = await ctx().createPayment();
    other = await ctx().createPayment();
    const { clock } = ctx();
    const expired = await ctx().token('payments:admin');
    clock.advance(31 * 60 * 1000); // the expired token is now 31 minutes old
    tokens.set('none', null);
    tokens.set('garbage', 'not-a-token');
    tokens.set('expired', expired);
    tokens.set('admin', await ctx().token('payments:admin'));
    tokens.set('payments (deprecated alias)', await ctx().token('payments'));
    tokens.set('read-only', await ctx().token('payments:read-only'));
    tokens.set('allow-sensitive', await ctx().token('payments:allow-sensitive'));
    tokens.set('validate (service)', await ctx().token('payments:validate'));
    tokens.set('cancel (service)', await ctx().token('payments:cancel'));
    tokens.set('payment-links:admin', await ctx().token('payment-links:admin'));
    tokens.set('scoped validate, own payment', await ctx().scopedToken(own));
    tokens.set('scoped validate, other payment', await ctx().scopedToken(other));
    tokens.set('scoped cancel, own payment', await ctx().scopedToken(own, 'payments:cancel'));
    tokens.set('scoped read-only, own payment', await ctx().scopedToken(own, 'payments:read-only'));
    expect(tokens.size).toBe(14);
  });

  for (const [endpoint, row] of Object.entries(MATRIX) as [Endpoint, Record<TokenKind, number>][]) {
    for (const [kind, expected] of Object.entries(row) as [TokenKind, number][]) {
      it(`${endpoint} with ${kind} → ${expected}`, async () => {
        const [method, pathTemplate] = endpoint.split(' ') as ['GET' | 'POST', string];
        const url = `/2.0${pathTemplate.replace('{id}', String(own)).replace('{uuid}', TEST_CONNECTOR_UUID)}`;
        const token = tokens.get(kind);
        const payload = pathTemplate.endsWith('scopedtoken')
          ? { scope: ['payments:validate'] }
          : pathTemplate.endsWith('/terms') && method === 'POST'
            ? { id_terms: (await ctx().app.inject({ url: '/2.0/terms' })).json().terms.id }
            : pathTemplate === '/webhooks/auth' && method === 'POST'
              ? { type: 'hmac_signature', name: 'matrix' }
              : method === 'POST'
                ? guideBody()
                : undefined;
        const response = await ctx().app.inject({ method, url, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
        expect(response.statusCode, response.body).toBe(expected);
        if (expected >= 400) expect(response.json().code).toBe(expected === 401 ? 'unauthorized' : 'forbidden');
      });
    }
  }

  it('never grants payments:admin (or its alias) through a scoped token', async () => {
    for (const scope of ['payments:admin', 'payments', ['payments:validate', 'payments:admin']]) {
      const response = await ctx().app.inject({
        method: 'POST',
        url: `/2.0/payments/${own}/scopedtoken`,
        headers: bearer(tokens.get('admin')!),
        payload: { scope },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'invalidValue', field: 'scope' });
    }
  });

  it('lets a scoped validate token mint only validate tokens for its own payment', async () => {
    const scoped = tokens.get('scoped validate, own payment')!;
    const cancel = await ctx().app.inject({
      method: 'POST',
      url: `/2.0/payments/${own}/scopedtoken`,
      headers: bearer(scoped),
      payload: { scope: 'payments:cancel' },
    });
    expect(cancel.statusCode).toBe(403);
  });

  it('returns the documented scoped token shape, accepting scope as a string or an array', async () => {
    for (const scope of ['payments:validate', ['payments:validate']]) {
      const response = await ctx().app.inject({
        method: 'POST',
        url: `/2.0/payments/${own}/scopedtoken`,
        headers: bearer(tokens.get('admin')!),
        payload: { scope },
      });
      expect(response.json()).toEqual({ token: expect.any(String), scope: 'payments:validate', id_payment: own, expires_in: 604800 });
    }
  });

  it('keeps a scoped token valid for 7 days, then refuses it', async () => {
    const scoped = await ctx().scopedToken(own);
    const read = () => ctx().app.inject({ url: `/2.0/payments/${own}`, headers: bearer(scoped) });
    ctx().clock.advance(7 * 24 * 3600 * 1000 - 1000);
    expect((await read()).statusCode).toBe(200);
    ctx().clock.advance(1000);
    expect((await read()).statusCode).toBe(401);
  });

  it('answers 404 for a scoped token request on an unknown payment', async () => {
    const admin = await ctx().token('payments:admin'); // the clock has moved 7 days since the matrix tokens were made
    const response = await ctx().app.inject({
      method: 'POST',
      url: '/2.0/payments/987654/scopedtoken',
      headers: bearer(admin),
      payload: { scope: 'payments:validate' },
    });
    expect(response.statusCode).toBe(404);
  });
});
