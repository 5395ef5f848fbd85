import { expect, it } from 'vitest';
import { bearer, describeEachDb, guideBody, VALID_IBAN } from './support/helpers.ts';

const DE_IBAN = 'DE89370400440532013000';

describeEachDb('GET /2.0/payments', (ctx) => {
  let token = '';
  let ids: number[] = [];
  const list = async (query = '') => {
    token ||= await ctx().token('payments:read-only');
    const response = await ctx().app.inject({ url: `/2.0/payments${query}`, headers: bearer(token) });
    return response;
  };
  const idsOf = async (query: string) => {
    const response = await list(query);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().payments.map((p: { id: number }) => p.id);
  };

  it('sets up payments over several days', async () => {
    const { clock } = ctx();
    clock.set('2026-01-10T09:00:00Z');
    ids = [];
    ids.push(await ctx().createPayment(guideBody('first_open_day')));
    clock.set('2026-01-11T09:00:00Z');
    const two = guideBody('instant', { connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf' });
    two.instructions[0]!.amount = 5;
    two.instructions[0]!.reference_id = 'REF-B';
    ids.push(await ctx().createPayment(two));
    clock.set('2026-01-12T09:00:00Z');
    const three = guideBody('deferred', { payer: { scheme_name: 'iban', identification: DE_IBAN, label: 'Payer' } });
    three.instructions[0]!.amount = 100;
    three.instructions.push({ ...structuredClone(three.instructions[0]!), beneficiary: { scheme_name: 'iban', identification: DE_IBAN, label: 'Other' } });
    ids.push(await ctx().createPayment(three));
    clock.set('2026-01-15T10:00:00Z');
  });

  it('lists every payment of the domain with a total, oldest first', async () => {
    const response = await list();
    expect(response.json().total).toBe(3);
    expect(await idsOf('')).toEqual(ids);
    expect(await idsOf('?reverse=true')).toEqual([...ids].reverse());
  });

  it('paginates with limit and offset', async () => {
    expect(await idsOf('?limit=2')).toEqual(ids.slice(0, 2));
    expect(await idsOf('?limit=2&offset=2')).toEqual(ids.slice(2));
    expect((await list('?limit=1')).json().total).toBe(3);
  });

  it('filters by date: min_date inclusive, max_date exclusive', async () => {
    expect(await idsOf('?min_date=2026-01-11')).toEqual(ids.slice(1));
    expect(await idsOf('?max_date=2026-01-11')).toEqual(ids.slice(0, 1));
    expect(await idsOf('?min_date=2026-01-11&max_date=2026-01-12')).toEqual([ids[1]]);
    expect(await idsOf('?min_date=2026-01-11%2009:00:01')).toEqual([ids[2]]);
    expect(await idsOf('?filter=validate_date&min_date=2026-01-01')).toEqual([]);
  });

  it('filters by connector, state, type, country and identifications', async () => {
    expect(await idsOf('?connector_uuid=338178e6-3d01-564f-9a7b-52ca442459bf')).toEqual([ids[1]]);
    expect(await idsOf('?connector_uuid=null')).toEqual([ids[0], ids[2]]);
    expect(await idsOf('?id_connector=40')).toEqual([ids[1]]);
    expect(await idsOf('?id_connector=null')).toEqual([ids[0], ids[2]]);
    expect(await idsOf('?id_connector_source=null')).toEqual(ids);
    expect(await idsOf('?state=created')).toEqual(ids);
    expect(await idsOf('?state=done')).toEqual([]);
    expect(await idsOf('?error_code=bug')).toEqual([]);
    expect(await idsOf('?execution_date_type=instant')).toEqual([ids[1]]);
    expect(await idsOf('?execution_date_type=instant,deferred')).toEqual(ids.slice(1));
    expect(await idsOf('?country=DE')).toEqual([ids[2]]);
    expect(await idsOf('?country=fr,de')).toEqual(ids);
    expect(await idsOf(`?payer_identification=${DE_IBAN}`)).toEqual([ids[2]]);
    expect(await idsOf(`?beneficiary_identification=${DE_IBAN}`)).toEqual([ids[2]]);
    expect(await idsOf(`?beneficiary_identification=${VALID_IBAN}`)).toEqual(ids);
    expect(await idsOf('?reference_id=REF-B')).toEqual([ids[1]]);
    expect(await idsOf('?bank_payment_id=x')).toEqual([]);
    expect(await idsOf('?website=x')).toEqual([]);
  });

  it('orders by each documented key', async () => {
    expect(await idsOf('?order_by=amount')).toEqual([ids[1], ids[0], ids[2]]);
    expect(await idsOf('?order_by=amount&reverse=true')).toEqual([ids[2], ids[0], ids[1]]);
    expect(await idsOf('?order_by=instruction_count&reverse=true')).toEqual([ids[2], ids[1], ids[0]]);
    expect(await idsOf('?order_by=execution_date_type')).toEqual([ids[2], ids[0], ids[1]]);
    expect(await idsOf('?order_by=id&reverse=1')).toEqual([...ids].reverse());
    for (const key of ['register_date', 'validate_date', 'state', 'connectors']) expect((await idsOf(`?order_by=${key}`)).length).toBe(3);
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=abc', 'limit'],
    ['?limit=5000', 'limit'],
    ['?offset=-1', 'offset'],
    ['?reverse=maybe', 'reverse'],
    ['?filter=birthday', 'filter'],
    ['?min_date=yesterday', 'min_date'],
    ['?max_date=2026-02-30', 'max_date'],
    ['?state=lost', 'state'],
    ['?order_by=label', 'order_by'],
    ['?id_connector=x', 'id_connector'],
    ['?execution_date_type=soon', 'execution_date_type'],
  ])('refuses %s naming %s', async (query, field) => {
    const response = await list(query);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalidValue', field });
  });

  it('never shows another domain’s payments', async () => {
    const other = await ctx().newClient(undefined, 'other-domain');
    const otherToken = await ctx().token('payments:admin', other);
    const response = await ctx().app.inject({ url: '/2.0/payments', headers: bearer(otherToken) });
    expect(response.json()).toEqual({ payments: [], total: 0 });
    const one = await ctx().app.inject({ url: `/2.0/payments/${ids[0]}`, headers: bearer(otherToken) });
    expect(one.statusCode).toBe(404);
    expect(one.json().code).toBe('notFound');
  });

  it('reads one payment, and answers 404 and 400 for unknown and malformed ids', async () => {
    const one = await ctx().app.inject({ url: `/2.0/payments/${ids[2]}`, headers: bearer(token) });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: ids[2], instructions: [{ amount: 100 }, { amount: 100 }] });
    expect((await ctx().app.inject({ url: '/2.0/payments/999999', headers: bearer(token) })).statusCode).toBe(404);
    const bad = await ctx().app.inject({ url: '/2.0/payments/abc', headers: bearer(token) });
    expect([bad.statusCode, bad.json().field]).toEqual([400, 'id']);
  });
});

describeEachDb('GET /2.0/payments: a page of many instructions', (ctx) => {
  it('stops a page before its instructions pass 5000 (the first payment always); each payment is as GET shows it', async () => {
    const token = await ctx().token(['payments:read-only', 'payments:allow-sensitive']);
    const body = guideBody('first_open_day');
    const base = body.instructions[0]!;
    body.instructions = Array.from({ length: 1000 }, (_, i) => ({ ...structuredClone(base), reference_id: `R-${i}`, amount: `${i + 1}.05` }));
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await ctx().createPayment(body));
    const page = async (query: string) => {
      const response = await ctx().app.inject({ url: `/2.0/payments${query}`, headers: bearer(token) });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { total: number; payments: { id: number; instructions: { reference_id: string }[] }[] };
    };
    // 5 × 1000 instructions fit, the sixth payment would pass 5000: the page ends before it.
    const first = await page('?limit=10');
    expect(first.total).toBe(6);
    expect(first.payments.map((p) => p.id)).toEqual(ids.slice(0, 5));
    const next = await page('?limit=10&offset=5');
    expect(next.payments.map((p) => p.id)).toEqual([ids[5]]);
    // Newest first, from the end: the same cut.
    expect((await page('?limit=10&reverse=true')).payments.map((p) => p.id)).toEqual([...ids].reverse().slice(0, 5));
    // Every listed payment is exactly what GET answers for it, instructions in order.
    for (const listed of [...first.payments, ...next.payments]) {
      const one = await ctx().app.inject({ url: `/2.0/payments/${listed.id}`, headers: bearer(token) });
      expect(listed).toEqual(one.json());
      expect(listed.instructions.map((i) => i.reference_id)).toEqual(body.instructions.map((i) => i.reference_id));
    }
  }, 60_000);
});
