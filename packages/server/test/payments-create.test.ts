import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { bearer, describeEachDb, expectErrorBody, guideBody, REDIRECT_URI, VALID_IBAN, VALID_SIREN } from './support/helpers.ts';

const EXAMPLES = new URL('./fixtures/powens-guide/', import.meta.url);

/** A guide example made valid: real IBAN and SIREN, a future execution date (the test clock is 2026-01-15). */
function example(name: string): Record<string, any> {
  const text = readFileSync(new URL(name, EXAMPLES), 'utf8')
    .replace('FR76XXXXXXXXXXXXXXX', VALID_IBAN)
    .replace('012345678', VALID_SIREN)
    .replace('2024-01-01', '2026-03-02');
  return JSON.parse(text);
}

type Mutator = (body: any) => void;
const instruction = (body: any) => body.instructions[0];

/** Every validation rule of POST /payments: a mutation of a valid body, the error code, and the field it names. */
const RULES: [string, Mutator, string, string][] = [
  ['client_redirect_uri missing', (b) => delete b.client_redirect_uri, 'missingParameter', 'client_redirect_uri'],
  ['client_redirect_uri with a query string', (b) => (b.client_redirect_uri = `${REDIRECT_URI}?order=1`), 'invalidValue', 'client_redirect_uri'],
  ['client_redirect_uri with a fragment', (b) => (b.client_redirect_uri = `${REDIRECT_URI}#x`), 'invalidValue', 'client_redirect_uri'],
  ['client_redirect_uri not registered', (b) => (b.client_redirect_uri = 'https://evil.example/return'), 'invalidValue', 'client_redirect_uri'],
  ['client_redirect_uri differing only by a trailing slash', (b) => (b.client_redirect_uri = `${REDIRECT_URI}/`), 'invalidValue', 'client_redirect_uri'],
  ['client_redirect_uri not a URL', (b) => (b.client_redirect_uri = 'not a url'), 'invalidValue', 'client_redirect_uri'],
  ['client_state over 2000 characters', (b) => (b.client_state = 'x'.repeat(2001)), 'invalidValue', 'client_state'],
  ['instructions missing', (b) => delete b.instructions, 'missingParameter', 'instructions'],
  ['instructions empty', (b) => (b.instructions = []), 'invalidValue', 'instructions'],
  ['instructions not an array', (b) => (b.instructions = { a: 1 }), 'invalidValue', 'instructions'],
  ['amount missing', (b) => delete instruction(b).amount, 'missingParameter', 'instructions[0].amount'],
  ['amount zero', (b) => (instruction(b).amount = 0), 'invalidValue', 'instructions[0].amount'],
  ['amount negative', (b) => (instruction(b).amount = -5), 'invalidValue', 'instructions[0].amount'],
  ['amount with too many decimals', (b) => (instruction(b).amount = 10.123), 'invalidValue', 'instructions[0].amount'],
  ['amount not a number', (b) => (instruction(b).amount = 'ten'), 'invalidValue', 'instructions[0].amount'],
  ['currency missing', (b) => delete instruction(b).currency, 'missingParameter', 'instructions[0].currency'],
  ['currency unknown', (b) => (instruction(b).currency = 'EUX'), 'invalidValue', 'instructions[0].currency'],
  ['JPY with decimals', (b) => Object.assign(instruction(b), { currency: 'JPY', amount: 10.5 }), 'invalidValue', 'instructions[0].amount'],
  ['label missing', (b) => delete instruction(b).label, 'missingParameter', 'instructions[0].label'],
  ['label blank', (b) => (instruction(b).label = '   '), 'missingParameter', 'instructions[0].label'],
  ['label over 140 characters', (b) => (instruction(b).label = 'x'.repeat(141)), 'invalidValue', 'instructions[0].label'],
  ['label with a control character', (b) => (instruction(b).label = 'a\nb'), 'invalidValue', 'instructions[0].label'],
  ['execution_date_type missing', (b) => delete instruction(b).execution_date_type, 'missingParameter', 'instructions[0].execution_date_type'],
  ['execution_date_type unknown', (b) => (instruction(b).execution_date_type = 'tomorrow'), 'invalidValue', 'instructions[0].execution_date_type'],
  ['deferred without execution_date', (b) => (instruction(b).execution_date_type = 'deferred'), 'missingParameter', 'instructions[0].execution_date'],
  [
    'deferred in the past',
    (b) => Object.assign(instruction(b), { execution_date_type: 'deferred', execution_date: '2024-01-01' }),
    'invalidValue',
    'instructions[0].execution_date',
  ],
  [
    'deferred today',
    (b) => Object.assign(instruction(b), { execution_date_type: 'deferred', execution_date: '2026-01-15' }),
    'invalidValue',
    'instructions[0].execution_date',
  ],
  [
    'deferred on an impossible date',
    (b) => Object.assign(instruction(b), { execution_date_type: 'deferred', execution_date: '2026-02-30' }),
    'invalidValue',
    'instructions[0].execution_date',
  ],
  ['execution_date on first_open_day', (b) => (instruction(b).execution_date = '2026-03-02'), 'invalidValue', 'instructions[0].execution_date'],
  [
    'periodic without start_date',
    (b) => Object.assign(instruction(b), { execution_date_type: 'periodic', frequency: 'monthly' }),
    'missingParameter',
    'instructions[0].start_date',
  ],
  [
    'periodic without frequency',
    (b) => Object.assign(instruction(b), { execution_date_type: 'periodic', start_date: '2026-02-01' }),
    'missingParameter',
    'instructions[0].frequency',
  ],
  [
    'periodic with an unknown frequency',
    (b) => Object.assign(instruction(b), { execution_date_type: 'periodic', start_date: '2026-02-01', frequency: 'hourly' }),
    'invalidValue',
    'instructions[0].frequency',
  ],
  [
    'periodic starting in the past',
    (b) => Object.assign(instruction(b), { execution_date_type: 'periodic', start_date: '2025-02-01', frequency: 'monthly' }),
    'invalidValue',
    'instructions[0].start_date',
  ],
  [
    'periodic ending before it starts',
    (b) => Object.assign(instruction(b), { execution_date_type: 'periodic', start_date: '2026-02-01', end_date: '2026-01-20', frequency: 'monthly' }),
    'invalidValue',
    'instructions[0].end_date',
  ],
  ['frequency on a one-time payment', (b) => (instruction(b).frequency = 'monthly'), 'invalidValue', 'instructions[0].frequency'],
  ['start_date on a one-time payment', (b) => (instruction(b).start_date = '2026-02-01'), 'invalidValue', 'instructions[0].start_date'],
  [
    'periodic with two instructions',
    (b) => {
      Object.assign(instruction(b), { execution_date_type: 'periodic', start_date: '2026-02-01', frequency: 'monthly' });
      b.instructions.push(structuredClone(instruction(b)));
    },
    'invalidValue',
    'instructions',
  ],
  [
    'bulk mixing execution types',
    (b) => b.instructions.push({ ...structuredClone(instruction(b)), execution_date_type: 'instant' }),
    'invalidValue',
    'instructions[1].execution_date_type',
  ],
  [
    'deferred bulk on two dates',
    (b) => {
      Object.assign(instruction(b), { execution_date_type: 'deferred', execution_date: '2026-03-02' });
      b.instructions.push({ ...structuredClone(instruction(b)), execution_date: '2026-03-03' });
    },
    'invalidValue',
    'instructions[1].execution_date',
  ],
  ['bulk mixing currencies', (b) => b.instructions.push({ ...structuredClone(instruction(b)), currency: 'USD' }), 'invalidValue', 'instructions[1].currency'],
  ['beneficiary missing', (b) => delete instruction(b).beneficiary, 'missingParameter', 'instructions[0].beneficiary'],
  ['beneficiary scheme unknown', (b) => (instruction(b).beneficiary.scheme_name = 'bban'), 'invalidValue', 'instructions[0].beneficiary.scheme_name'],
  [
    'beneficiary IBAN with a bad checksum',
    (b) => (instruction(b).beneficiary.identification = 'FR7630006000011234567890188'),
    'invalidValue',
    'instructions[0].beneficiary.identification',
  ],
  [
    'beneficiary placeholder IBAN',
    (b) => (instruction(b).beneficiary.identification = 'FR76XXXXXXXXXXXXXXX'),
    'invalidValue',
    'instructions[0].beneficiary.identification',
  ],
  ['beneficiary label missing', (b) => delete instruction(b).beneficiary.label, 'missingParameter', 'instructions[0].beneficiary.label'],
  ['beneficiary BIC malformed', (b) => (instruction(b).beneficiary.issuer = 'XYZ'), 'invalidValue', 'instructions[0].beneficiary.issuer'],
  [
    'UK account malformed',
    (b) => Object.assign(instruction(b), { currency: 'GBP', beneficiary: { scheme_name: 'sort_code_account_number', identification: '12345', label: 'Shop' } }),
    'invalidValue',
    'instructions[0].beneficiary.identification',
  ],
  [
    'UK account paid in EUR',
    (b) => (instruction(b).beneficiary = { scheme_name: 'sort_code_account_number', identification: '40051512345678', label: 'Shop' }),
    'invalidValue',
    'instructions[0].currency',
  ],
  [
    'UK label over 18 characters',
    (b) =>
      Object.assign(instruction(b), {
        currency: 'GBP',
        label: 'x'.repeat(19),
        beneficiary: { scheme_name: 'sort_code_account_number', identification: '40051512345678', label: 'Shop' },
      }),
    'invalidValue',
    'instructions[0].label',
  ],
  ['reference_id over 31 characters', (b) => (instruction(b).reference_id = 'x'.repeat(32)), 'invalidValue', 'instructions[0].reference_id'],
  ['reference_id with spaces', (b) => (instruction(b).reference_id = 'order 42'), 'invalidValue', 'instructions[0].reference_id'],
  [
    'reference_id used twice',
    (b) => {
      instruction(b).reference_id = 'ORDER-42';
      b.instructions.push(structuredClone(instruction(b)));
    },
    'invalidValue',
    'instructions[1].reference_id',
  ],
  [
    'UK reference_id over 18 characters',
    (b) =>
      Object.assign(instruction(b), {
        currency: 'GBP',
        reference_id: 'x'.repeat(19),
        beneficiary: { scheme_name: 'sort_code_account_number', identification: '40051512345678', label: 'Shop' },
      }),
    'invalidValue',
    'instructions[0].reference_id',
  ],
  [
    'corporate beneficiary with a bad SIREN',
    (b) => (instruction(b).beneficiary_identity.identification = '012345678'),
    'invalidValue',
    'instructions[0].beneficiary_identity.identification',
  ],
  [
    'corporate beneficiary without identification scheme',
    (b) => delete instruction(b).beneficiary_identity.scheme_name,
    'missingParameter',
    'instructions[0].beneficiary_identity.scheme_name',
  ],
  ['identity kind unknown', (b) => (b.payer_identity.kind = 'alien'), 'invalidValue', 'payer_identity.kind'],
  ['individual without last_name', (b) => delete b.payer_identity.last_name, 'missingParameter', 'payer_identity.last_name'],
  [
    'identity scheme for another kind',
    (b) => Object.assign(b.payer_identity, { scheme_name: 'siren', identification: VALID_SIREN }),
    'invalidValue',
    'payer_identity.scheme_name',
  ],
  ['identity field over its limit', (b) => (b.payer_identity.postal_address = 'x'.repeat(513)), 'invalidValue', 'payer_identity.postal_address'],
  ['identity birth_country not ISO', (b) => (b.payer_identity.birth_country = 'France'), 'invalidValue', 'payer_identity.birth_country'],
  ['operator identity invalid', (b) => (b.operator_identity = { kind: 'government' }), 'missingParameter', 'operator_identity.scheme_name'],
  ['payer IBAN invalid', (b) => (b.payer = { scheme_name: 'iban', identification: 'DE00123' }), 'invalidValue', 'payer.identification'],
  ['connector_uuid unknown', (b) => (b.connector_uuid = '00000000-0000-0000-0000-000000000000'), 'invalidValue', 'connector_uuid'],
  ['id_connector unknown', (b) => (b.id_connector = 999999), 'invalidValue', 'id_connector'],
];

describeEachDb('POST /2.0/payments', (ctx) => {
  let admin = '';
  const create = async (payload: unknown, query = '') => {
    admin ||= await ctx().token('payments:admin');
    return ctx().app.inject({ method: 'POST', url: `/2.0/payments${query}`, headers: bearer(admin), payload: payload as object });
  };
  const countRows = async () => {
    const { db } = ctx().store;
    const p = await db
      .selectFrom('payments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const i = await db
      .selectFrom('payment_instructions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const e = await db
      .selectFrom('payment_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return [Number(p.n), Number(i.n), Number(e.n)];
  };

  it.each(['one-time-first-open-day.json', 'one-time-instant.json', 'one-time-deferred.json'])('creates the guide example %s', async (file) => {
    const body = example(file);
    const response = await create(body);
    expect(response.statusCode).toBe(200);
    const payment = response.json();
    expect(payment).toMatchObject({
      id: expect.any(Number),
      state: 'created',
      state_detail: null,
      action: null,
      error_code: null,
      error_description: null,
      fields: [],
      validate_uri: null,
      connector_uuid: null,
      client_redirect_uri: body.client_redirect_uri,
      client_state: 'order-0042',
    });
    expect(payment.register_date).toBe('2026-01-15 10:00:00');
    const [instruction] = payment.instructions;
    expect(instruction.execution_date_type).toBe(body.instructions[0].execution_date_type);
    expect(instruction.currency).toMatchObject({ id: 'EUR', symbol: '€', precision: 2 });
    // The symbol is written as a JSON escape, so that an answer of ASCII data stays ASCII (a one-byte string).
    expect(response.body).toContain('"symbol":"\\u20ac"');
    expect(response.body).not.toMatch(/[\u0080-\uffff]/);
    expect(instruction.reference_id).toMatch(/^[A-Za-z0-9]{25}-1$/);
    expect(instruction.beneficiary).toMatchObject({ scheme_name: 'iban', identification: VALID_IBAN, label: 'ACME Corp.' });
    // Amounts print exactly, with Powens' ten decimals.
    expect(response.body).toContain('"amount":50.9000000000');
    // Sensitive identity fields are hidden by default.
    expect(payment.payer_identity).toEqual({ kind: 'individual' });
    expect(instruction.beneficiary_identity).toEqual({ kind: 'corporate', org_name: 'ACME Corp.', org_legal_status: 'SARL' });
  });

  it("refuses the guide's placeholder IBAN with invalidValue naming the field", async () => {
    const text = readFileSync(new URL('one-time-instant.json', EXAMPLES), 'utf8').replace('012345678', VALID_SIREN);
    const before = await countRows();
    const response = await create(JSON.parse(text));
    expect(response.statusCode).toBe(400);
    // message: a sentence a shop can show its customer (public integrations display it), naming the field.
    expect(response.json()).toMatchObject({
      code: 'invalidValue',
      field: 'instructions[0].beneficiary.identification',
      message: 'The field "instructions[0].beneficiary.identification" is not a valid IBAN.',
    });
    expect(response.json().description).toContain('instructions[0].beneficiary.identification');
    expect(await countRows()).toEqual(before);
  });

  it.each(RULES)('refuses %s', async (_name, mutate, code, field) => {
    const body = structuredClone(guideBody());
    mutate(body);
    const before = await countRows();
    const response = await create(body);
    expect(response.statusCode).toBe(400);
    expectErrorBody(response.json());
    expect(response.json()).toMatchObject({ code, field });
    expect(response.json().description).toContain(field);
    expect(await countRows()).toEqual(before);
  });

  it('keeps amounts exact from the JSON text, including string amounts', async () => {
    const body = guideBody();
    const text = JSON.stringify(body).replace('"amount":50.9', '"amount":0.30');
    admin ||= await ctx().token('payments:admin');
    const response = await ctx().app.inject({
      method: 'POST',
      url: '/2.0/payments',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: text,
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('"amount":0.3000000000');
    const asString = await create(guideBody('instant', { instructions: [{ ...guideBody().instructions[0], amount: '1', execution_date_type: 'instant' }] }));
    expect(asString.body).toContain('"amount":1.0000000000');
    const row = await ctx()
      .store.db.selectFrom('payment_instructions')
      .select('amount_minor')
      .where('payment_id', '=', asString.json().id)
      .executeTakeFirstOrThrow();
    expect(row.amount_minor).toBe(100);
  });

  it('creates bulk, recurring and UK payments', async () => {
    const bulk = guideBody();
    bulk.instructions.push({ ...structuredClone(bulk.instructions[0]!), amount: 12.34, reference_id: 'ORDER-43' });
    const response = await create(bulk);
    expect(response.statusCode).toBe(200);
    const refs = response.json().instructions.map((i: { reference_id: string }) => i.reference_id);
    expect(refs[1]).toBe('ORDER-43');
    expect(refs[0]).toMatch(/-1$/);

    const recurring = guideBody();
    Object.assign(recurring.instructions[0]!, { execution_date_type: 'periodic', start_date: '2026-02-01', end_date: '2026-12-01', frequency: 'monthly' });
    const periodic = await create(recurring);
    expect(periodic.statusCode).toBe(200);
    expect(periodic.json().instructions[0]).toMatchObject({ start_date: '2026-02-01', end_date: '2026-12-01', frequency: 'monthly' });

    const uk = guideBody('first_open_day');
    Object.assign(uk.instructions[0]!, {
      currency: 'GBP',
      label: 'Invoice 42',
      beneficiary: { scheme_name: 'sort_code_account_number', identification: '40-05-15 12345678', label: 'Shop Ltd' },
    });
    const ukResponse = await create(uk);
    expect(ukResponse.statusCode).toBe(200);
    expect(ukResponse.json().instructions[0].beneficiary.identification).toBe('40051512345678');
    expect(ukResponse.json().instructions[0].reference_id.length).toBeLessThanOrEqual(18);
    expect(ukResponse.json().country).toBe('GB');
  });

  it('answers GET /2.0/payments/{id} with exactly the text the creation answered (bulk, periodic, deferred, GBP, JPY, identities)', async () => {
    const bulk = guideBody();
    bulk.instructions.push({ ...structuredClone(bulk.instructions[0]!), amount: 12.34, reference_id: 'ORDER-43' });
    const periodic = guideBody();
    Object.assign(periodic.instructions[0]!, { execution_date_type: 'periodic', start_date: '2026-02-01', end_date: '2026-12-01', frequency: 'monthly' });
    const gbp = guideBody('first_open_day');
    Object.assign(gbp.instructions[0]!, {
      currency: 'GBP',
      beneficiary: { scheme_name: 'sort_code_account_number', identification: '40-05-15 12345678', label: 'Shop Ltd' },
    });
    const jpy = guideBody('instant');
    Object.assign(jpy.instructions[0]!, { currency: 'JPY', amount: 1234 });
    for (const body of [bulk, periodic, gbp, jpy, example('one-time-deferred.json'), example('one-time-first-open-day.json')]) {
      for (const query of ['', '?show_sensitive=true']) {
        const created = await create(body, query);
        expect(created.statusCode).toBe(200);
        const read = await ctx().app.inject({ url: `/2.0/payments/${created.json().id}${query}`, headers: bearer(admin) });
        expect(read.statusCode).toBe(200);
        expect(read.body).toBe(created.body);
      }
    }
  });

  it('accepts the test connector by uuid or id, and ignores unknown top-level fields', async () => {
    const response = await create(guideBody('instant', { connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf', use_case_pay: 'redirect', uuid: 'x' }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf', id_connector: 40 });
    const byId = await create(guideBody('instant', { id_connector: 40 }));
    expect(byId.json().connector_uuid).toBe('338178e6-3d01-564f-9a7b-52ca442459bf');
  });

  it('shows sensitive identity fields only with show_sensitive=true', async () => {
    const response = await create(guideBody(), '?show_sensitive=true');
    expect(response.json().payer_identity).toMatchObject({ first_name: 'Germaine', last_name: 'Michu', birth_date: '1963-01-01' });
    expect(response.json().instructions[0].beneficiary_identity).toMatchObject({ scheme_name: 'siren', identification: VALID_SIREN });
  });

  it('writes the payment, its instructions and a created event together', async () => {
    const before = await countRows();
    const response = await create(guideBody());
    const after = await countRows();
    expect(after).toEqual([before[0]! + 1, before[1]! + 1, before[2]! + 1]);
    const event = await ctx().store.db.selectFrom('payment_events').selectAll().where('payment_id', '=', response.json().id).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ type: 'created', from_state: null, to_state: 'created' });
  });

  it('answers malformed bodies with the error body', async () => {
    admin ||= await ctx().token('payments:admin');
    const cases: [Record<string, string>, string, number, string][] = [
      [{ 'content-type': 'application/json' }, '{"instructions": [', 400, 'invalidValue'],
      [{ 'content-type': 'application/json' }, '', 400, 'missingParameter'],
      [{ 'content-type': 'text/plain' }, 'hello', 415, 'unsupportedMediaType'],
      [{ 'content-type': 'application/json' }, '[1,2]', 400, 'invalidValue'],
      [{ 'content-type': 'application/json' }, 'null', 400, 'invalidValue'],
    ];
    for (const [headers, payload, status, code] of cases) {
      const response = await ctx().app.inject({ method: 'POST', url: '/2.0/payments', headers: { ...bearer(admin), ...headers }, payload });
      expect([response.statusCode, response.json().code], payload).toEqual([status, code]);
      expectErrorBody(response.json());
    }
    const big = await ctx().app.inject({
      method: 'POST',
      url: '/2.0/payments',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: `{"x":"${'a'.repeat(1100 * 1024)}"}`,
    });
    expect([big.statusCode, big.json().code]).toEqual([413, 'payloadTooLarge']);
  });
});

describeEachDb('exact amounts', (ctx) => {
  it('reads the JSON number text, not a float: 0.30000000000000001 EUR has too many decimals', async () => {
    const admin = await ctx().token('payments:admin');
    const text = JSON.stringify(guideBody()).replace('"amount":50.9', '"amount":0.30000000000000001');
    const response = await ctx().app.inject({
      method: 'POST',
      url: '/2.0/payments',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: text,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().field).toBe('instructions[0].amount');
    const big = JSON.stringify(guideBody()).replace('"amount":50.9', '"amount":9007199254740.99');
    const ok = await ctx().app.inject({
      method: 'POST',
      url: '/2.0/payments',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: big,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('"amount":9007199254740.9900000000');
  });
});
