/**
 * Fuzz: at least 10,000 requests malformed by construction (bodies, headers, query strings, paths)
 * across every route. Every answer must be a 4xx with the Powens error body; nothing may be written.
 */
import { expect, it } from 'vitest';
import { bearer, describeEachDb, expectErrorBody, guideBody } from './support/helpers.ts';

const REQUESTS = Number(process.env.PAYRAIL_FUZZ_REQUESTS ?? 10_000);

/** mulberry32: a small seeded PRNG, so a failure can be replayed with the printed seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
type Rng = ReturnType<typeof prng>;

function junkString(rng: Rng): string {
  const pools = [
    '',
    ' ',
    '\u0000',
    '\n\r\t',
    '💸💸',
    'Ω≈ç√',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '%00%ff',
    '\\u0000',
    'null',
    'NaN',
    '-0',
    '1e999',
    '__proto__',
    '{"a":',
  ];
  let s = rng.pick(pools);
  const extra = rng.int(4);
  for (let i = 0; i < extra; i++) s += String.fromCharCode(rng.int(0xffff));
  if (rng.int(20) === 0) s = s.repeat(1000 + rng.int(3000));
  return s;
}

/** Values that no scalar field can accept, even with type coercion. */
function unacceptableScalar(rng: Rng): unknown {
  return rng.pick([{}, { a: 1 }, [[1]], [{}], { $gt: '' }]);
}

/** Paths to every leaf of a valid body, with a value that makes that field invalid. */
function breakOneField(rng: Rng): unknown {
  const body: any = structuredClone(guideBody(rng.pick(['first_open_day', 'instant', 'deferred'] as const)));
  const inst = body.instructions[0];
  const breakers: (() => void)[] = [
    () => (body.client_redirect_uri = rng.pick([unacceptableScalar(rng), null, 'javascript:alert(1)', `${body.client_redirect_uri}?a=1`, junkString(rng)])),
    () => (body.instructions = rng.pick([[], {}, 'x', null, [null], [1], [junkString(rng)]])),
    () => (inst.amount = rng.pick([unacceptableScalar(rng), 0, -1, '1.001', '1e400', `${junkString(rng)}x`, null, true])),
    () => (inst.currency = rng.pick([unacceptableScalar(rng), 'XXX', 'eurr', null, `${junkString(rng)}Q1`])),
    () => (inst.label = rng.pick([unacceptableScalar(rng), null, 'x'.repeat(141 + rng.int(500)), 'a\u0007b'])),
    () => (inst.execution_date_type = rng.pick([unacceptableScalar(rng), null, 'later', `${junkString(rng)}!`])),
    () =>
      Object.assign(inst, {
        execution_date_type: 'deferred',
        execution_date: rng.pick(['2020-01-01', '2026-13-01', 'tomorrow', unacceptableScalar(rng), null]),
      }),
    () => (inst.beneficiary = rng.pick([unacceptableScalar(rng), null, 'FR76', []])),
    () => (inst.beneficiary.identification = rng.pick([unacceptableScalar(rng), null, 'FR7630006000011234567890188', `${junkString(rng)}#`])),
    () => (inst.beneficiary.scheme_name = rng.pick([unacceptableScalar(rng), null, 'bban', `${junkString(rng)}?`])),
    () =>
      (inst.beneficiary_identity = rng.pick([
        'x',
        { kind: 'corporate' },
        { kind: 'alien' },
        { scheme_name: 'siren', identification: '123', kind: 'corporate' },
      ])),
    () =>
      (body.payer_identity = rng.pick([
        'x',
        { kind: 'individual' },
        { first_name: 'a', last_name: 'b', birth_date: '1999-99-99' },
        { first_name: unacceptableScalar(rng), last_name: 'b' },
      ])),
    () => (body.payer = rng.pick(['x', { scheme_name: 'iban' }, { scheme_name: 'iban', identification: 'DE00' }])),
    () => (body.client_state = rng.pick([unacceptableScalar(rng), 'x'.repeat(2001 + rng.int(100)), 'nul\u0000byte'])),
    () => (body.connector_uuid = rng.pick([unacceptableScalar(rng), `${junkString(rng)}-not-a-connector`])),
    () => (inst.reference_id = rng.pick([unacceptableScalar(rng), 'x'.repeat(32), 'has space', '//'])),
    () => Object.assign(inst, { execution_date_type: 'periodic', frequency: rng.pick([null, 'hourly', unacceptableScalar(rng)]), start_date: '2026-03-01' }),
  ];
  rng.pick(breakers)(); // one break is enough to make the body invalid
  const extra = rng.int(3);
  for (let i = 0; i < extra; i++) {
    try {
      rng.pick(breakers)();
    } catch {
      // a later break can land on a part an earlier one replaced: the body stays broken anyway
    }
  }
  return body;
}

type Request = { method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'; url: string; headers: Record<string, string>; payload?: string };

function malformedRequest(rng: Rng, admin: string, readOnly: string, paymentId: number): Request {
  const auth = bearer(rng.int(10) === 0 ? readOnly : admin);
  const json = { ...auth, 'content-type': 'application/json' };
  const kind = rng.int(12);
  switch (kind) {
    case 0: // a payment body with broken fields
    case 1:
      return { method: 'POST', url: '/2.0/payments', headers: json, payload: JSON.stringify(breakOneField(rng)) };
    case 2: {
      // truncated JSON
      const text = JSON.stringify(guideBody());
      return {
        method: 'POST',
        url: rng.pick(['/2.0/payments', '/2.0/auth/token', `/2.0/payments/${paymentId}/scopedtoken`]),
        headers: json,
        payload: text.slice(0, rng.int(text.length - 1)),
      };
    }
    case 3: {
      // random bytes or a JSON value of the wrong shape
      const payload = rng.pick([junkString(rng), '[]', '"x"', '42', 'true', 'null', `{"instructions":${'['.repeat(5000)}`, JSON.stringify(junkString(rng))]);
      return { method: 'POST', url: rng.pick(['/2.0/payments', '/2.0/auth/token', `/2.0/payments/${paymentId}/scopedtoken`]), headers: json, payload };
    }
    case 4: // wrong content types
      return {
        method: 'POST',
        url: rng.pick(['/2.0/payments', `/2.0/payments/${paymentId}/scopedtoken`]),
        headers: {
          ...auth,
          'content-type': rng.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png']),
        },
        payload: JSON.stringify(guideBody()),
      };
    case 5: {
      // bad tokens and credentials, and a read-only token where it is not enough
      if (rng.int(3) === 0) {
        const [method, url] = rng.pick([
          ['POST', '/2.0/payments'],
          ['POST', `/2.0/payments/${paymentId}/scopedtoken`],
          ['GET', '/2.0/payments?show_sensitive=true'],
        ] as const);
        return {
          method,
          url,
          headers: { ...bearer(readOnly), 'content-type': 'application/json' },
          ...(method === 'POST' ? { payload: JSON.stringify(guideBody()) } : {}),
        };
      }
      const header = rng.pick([
        '',
        'Bearer',
        'Bearer ',
        `Bearer ${admin}x`,
        `Basic ${admin}`,
        `bearer ${junkString(rng).replace(/[^\x21-\x7e]/g, 'a')}z`,
        'Bearer a b',
        'Token abc',
      ]);
      return {
        method: rng.pick(['GET', 'POST'] as const),
        url: rng.pick(['/2.0/payments', `/2.0/payments/${paymentId}`]),
        headers: { authorization: header, 'content-type': 'application/json' },
        payload: '{}',
      };
    }
    case 6: {
      // token requests that cannot succeed
      const body = rng.pick<Record<string, unknown>>([
        {},
        { grant_type: 'password' },
        { grant_type: 'client_credentials', client_id: junkString(rng), client_secret: 'x', scope: 'payments:admin' },
        { grant_type: 'client_credentials', client_id: 'a', client_secret: 'b', scope: unacceptableScalar(rng) },
        { grant_type: unacceptableScalar(rng), client_id: 'a', client_secret: 'b', scope: 'payments:admin' },
        { grant_type: 'client_credentials', client_id: 'a', client_secret: 'b', scope: 'payments:nope' },
      ]);
      return { method: 'POST', url: '/2.0/auth/token', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) };
    }
    case 7: {
      // list query strings with invalid values
      const param = rng.pick([
        'limit=0',
        'limit=-5',
        'limit=1e3',
        'limit=99999',
        'offset=-1',
        'offset=x',
        'reverse=perhaps',
        'filter=x',
        'min_date=2026-02-31',
        'max_date=soon',
        'state=lost',
        'order_by=label',
        'id_connector=abc',
        'id_connector_source=1.5',
        'execution_date_type=never',
        'show_sensitive=maybe',
        'limit=%zz',
        'limit=1&limit=2',
        'reference_id=a%00b',
        'website=%00',
      ]);
      return { method: 'GET', url: `/2.0/payments?${param}`, headers: auth };
    }
    case 8: {
      // bad payment ids
      const id = rng.pick(['abc', '-1', '1.5', '9'.repeat(40), '%00', '0x10', '999999999', "1'", '1;drop']);
      return rng.int(2)
        ? { method: 'GET', url: `/2.0/payments/${id}`, headers: auth }
        : { method: 'POST', url: `/2.0/payments/${id}/scopedtoken`, headers: json, payload: '{"scope":"payments:validate"}' };
    }
    case 9: // scoped token requests with bad scopes
      return {
        method: 'POST',
        url: `/2.0/payments/${paymentId}/scopedtoken`,
        headers: json,
        payload: JSON.stringify({
          scope: rng.pick(['payments:admin', 'payments', ['payments:admin'], '', [], unacceptableScalar(rng), `${junkString(rng)}:x`, null]),
        }),
      };
    case 10: // methods and paths that do not exist
      return {
        method: rng.pick(['PUT', 'DELETE', 'PATCH'] as const),
        url: rng.pick([
          '/2.0/payments',
          `/2.0/payments/${paymentId}`,
          '/2.0/auth/token',
          '/2.0/nothing',
          '/2.0/payments/1/nothing',
          `/${junkString(rng).replace(/[^a-z]/g, '')}x`,
        ]),
        headers: auth,
      };
    default: {
      // idempotency keys that are not acceptable, on otherwise valid requests
      const key = rng.pick(['', ' ', 'x'.repeat(256), 'key with spaces', 'naïve', '\t']);
      return { method: 'POST', url: '/2.0/payments', headers: { ...json, 'idempotency-key': key }, payload: JSON.stringify(guideBody()) };
    }
  }
}

describeEachDb('fuzz', (ctx) => {
  it(`answers ${REQUESTS} malformed requests with 4xx error bodies and writes nothing`, async () => {
    const seed = Number(process.env.PAYRAIL_FUZZ_SEED ?? Date.now() % 1_000_000);
    const rng = prng(seed);
    const admin = await ctx().token('payments:admin');
    const readOnly = await ctx().token('payments:read-only');
    const paymentId = await ctx().createPayment();
    const count = async (table: 'payments' | 'payment_instructions' | 'payment_events' | 'idempotency_keys') =>
      Number(
        (
          await ctx()
            .store.db.selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await Promise.all([count('payments'), count('payment_instructions'), count('payment_events'), count('idempotency_keys')]);
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const request = malformedRequest(rng, admin, readOnly, paymentId);
      const response = await ctx().app.inject(request);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      const context = `seed ${seed}, request ${i}: ${request.method} ${request.url} ${JSON.stringify(request.headers)} ${String(request.payload).slice(0, 300)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
      if (response.statusCode < 400 || response.statusCode >= 500) throw new Error(`not a 4xx: ${context}`);
      let body: Record<string, unknown>;
      try {
        body = response.json();
      } catch {
        throw new Error(`not JSON: ${context}`);
      }
      expectErrorBody(body);
    }
    const after = await Promise.all([count('payments'), count('payment_instructions'), count('payment_events'), count('idempotency_keys')]);
    expect(after).toEqual(before);
    // Several kinds of refusal were exercised, not one.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 403, 404, 405, 415]));
    console.log(`fuzz [${ctx().dialect}] seed ${seed}: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});
