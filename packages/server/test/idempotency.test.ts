import { expect, it } from 'vitest';
import { IDEMPOTENCY_TTL_MS } from '../src/services/idempotency.ts';
import { bearer, describeEachDb, guideBody } from './support/helpers.ts';

describeEachDb('Idempotency-Key on POST /2.0/payments', (ctx) => {
  let admin = '';
  const post = async (key: string | undefined, body: unknown = guideBody()) => {
    admin ||= await ctx().token('payments:admin');
    return ctx().app.inject({
      method: 'POST',
      url: '/2.0/payments',
      headers: { ...bearer(admin), ...(key ? { 'idempotency-key': key } : {}) },
      payload: body as object,
    });
  };
  const paymentCount = async () =>
    Number(
      (
        await ctx()
          .store.db.selectFrom('payments')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('replays the first response for the same key and body, creating one payment', async () => {
    const before = await paymentCount();
    const first = await post('order-42-attempt');
    const second = await post('order-42-attempt');
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await paymentCount()).toBe(before + 1);
  });

  it('answers 422 for the same key with another body', async () => {
    await post('key-b');
    const other = guideBody();
    other.client_state = 'another order';
    const response = await post('key-b', other);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ code: 'idempotencyKeyReused', field: 'Idempotency-Key' });
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const { store, clock, client } = ctx();
    const row = await store.db.selectFrom('clients').select('id').where('client_id', '=', client.client_id).executeTakeFirstOrThrow();
    const { claimIdempotencyKey, requestHash } = await import('../src/services/idempotency.ts');
    const body = guideBody();
    // Claim the key as a concurrent request would, without finishing it.
    const hash = requestHash('POST', '/2.0/payments', JSON.stringify(body));
    await claimIdempotencyKey(store.db, clock, row.id, 'in-flight', hash);
    const response = await post('in-flight', body);
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('idempotencyKeyInUse');
  });

  it('lets two concurrent requests with one key create exactly one payment', async () => {
    const before = await paymentCount();
    const responses = await Promise.all(Array.from({ length: 8 }, () => post('concurrent-key')));
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(await paymentCount()).toBe(before + 1);
    const bodies = new Set(responses.filter((r) => r.statusCode === 200).map((r) => r.body));
    expect(bodies.size).toBe(1);
  });

  it('stores the key with the payment in one transaction: concurrent retries all get the one answer, no key is left running', async () => {
    const before = await paymentCount();
    const responses = await Promise.all(Array.from({ length: 6 }, () => post('one-transaction-key')));
    // The first to commit wins; the others roll their own payment back and replay its answer.
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(responses.map((r) => r.json().id)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true').length).toBe(5);
    expect(await paymentCount()).toBe(before + 1);
    const rows = await ctx().store.db.selectFrom('idempotency_keys').select(['status', 'response_body']).where('key', '=', 'one-transaction-key').execute();
    expect(rows).toEqual([{ status: 'done', response_body: responses[0]!.body }]);
  });

  it('retakes a key left running by a request that died before committing', async () => {
    const { store, clock, client } = ctx();
    const row = await store.db.selectFrom('clients').select('id').where('client_id', '=', client.client_id).executeTakeFirstOrThrow();
    const { claimIdempotencyKey, IDEMPOTENCY_STALE_MS, requestHash } = await import('../src/services/idempotency.ts');
    const body = guideBody();
    await claimIdempotencyKey(store.db, clock, row.id, 'abandoned', requestHash('POST', '/2.0/payments', JSON.stringify(body)));
    clock.advance(IDEMPOTENCY_STALE_MS + 1);
    admin = await ctx().token('payments:admin');
    const response = await post('abandoned', body);
    expect(response.statusCode).toBe(200);
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    expect((await post('abandoned', body)).headers['idempotent-replayed']).toBe('true');
  });

  it('replays a refused request as refused', async () => {
    const bad = guideBody();
    bad.instructions[0]!.amount = -1;
    const first = await post('bad-request', bad);
    const second = await post('bad-request', bad);
    expect(first.statusCode).toBe(400);
    expect(second.statusCode).toBe(400);
    expect(second.json().field).toBe(first.json().field);
  });

  it('keeps keys 24 hours, then forgets them', async () => {
    const before = await paymentCount();
    await post('day-key');
    ctx().clock.advance(IDEMPOTENCY_TTL_MS - 60_000);
    admin = await ctx().token('payments:admin');
    expect((await post('day-key')).headers['idempotent-replayed']).toBe('true');
    expect(await paymentCount()).toBe(before + 1);
    ctx().clock.advance(60_000);
    const fresh = await post('day-key');
    expect(fresh.statusCode).toBe(200);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(await paymentCount()).toBe(before + 2);
  });

  it('keys are per client', async () => {
    const other = await ctx().newClient();
    const otherAdmin = await ctx().token('payments:admin', other);
    admin = await ctx().token('payments:admin');
    const a = await post('shared-key');
    const b = await ctx().app.inject({
      method: 'POST',
      url: '/2.0/payments',
      headers: { ...bearer(otherAdmin), 'idempotency-key': 'shared-key' },
      payload: guideBody(),
    });
    expect(b.statusCode).toBe(200);
    expect(b.json().id).not.toBe(a.json().id);
  });

  it('refuses malformed keys', async () => {
    const response = await post('x'.repeat(300));
    expect(response.statusCode).toBe(400);
    expect(response.json().field).toBe('Idempotency-Key');
  });
});
