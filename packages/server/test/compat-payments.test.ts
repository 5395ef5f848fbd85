/**
 * Issue 10 (Powens compatibility, round 2), items 6 and 7, as a client sees them over HTTP:
 * bulk scenarios of the test connector, instruction states, the siret scheme, the beneficiary object.
 */
import { expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { bearer, describeEachDb, expectErrorBody, guideBody, VALID_IBAN } from './support/helpers.ts';

const WEBVIEW_URL = 'https://merchant.example/own-webview';

describeEachDb('Powens compatibility: bulk details and the beneficiary object', (ctx) => {
  const post = (id: number, token: string, payload: object) =>
    ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(token), payload });
  const read = async (id: number, token: string) => (await ctx().app.inject({ url: `/2.0/payments/${id}`, headers: bearer(token) })).json();
  const create = async (body: object) =>
    ctx().app.inject({ method: 'POST', url: '/2.0/payments', headers: bearer(await ctx().token('payments:admin')), payload: body });

  function bulk(labels: string[]) {
    const body = guideBody('instant');
    const first = body.instructions[0]!;
    body.instructions = labels.map((label) => ({ ...structuredClone(first), label }));
    return body;
  }

  async function approveAtBank(validateUri: string) {
    const url = new URL(validateUri);
    const form = new URLSearchParams({ ...Object.fromEntries(url.searchParams), decision: 'approve' });
    const response = await ctx().app.inject({
      method: 'POST',
      url: url.pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    expect(response.statusCode).toBeLessThan(400);
  }

  async function validate(body: Record<string, unknown>, fields: Record<string, string> = {}) {
    const id = await ctx().createPayment(body);
    const token = await ctx().scopedToken(id);
    const response = await post(id, token, { connector_uuid: TEST_CONNECTOR_UUID, webview_url: WEBVIEW_URL, fields });
    expect(response.statusCode, response.body).toBe(200);
    return { id, token, payment: response.json() };
  }

  it("the first instruction's label drives the whole bulk payment: plain labels follow it", async () => {
    const rejected = await validate(bulk(['rjct - Invoice 1', 'Invoice 2', 'Invoice 3']));
    await approveAtBank(rejected.payment.validate_uri);
    const payment = await read(rejected.id, rejected.token);
    expect(payment).toMatchObject({ state: 'rejected', error_code: 'noSpecifiedReason' });
    expect(payment.instructions.map((i: { state: string }) => i.state)).toEqual(['rejected', 'rejected', 'rejected']);

    const pending = await validate(bulk(['pdng/done - Invoice 1', 'Invoice 2']));
    await approveAtBank(pending.payment.validate_uri);
    expect((await read(pending.id, pending.token)).instructions.map((i: { state: string }) => i.state)).toEqual(['pending', 'pending']);
  });

  it('after validation every instruction carries its state, also when the bank answers for the whole payment', async () => {
    const { id, token } = await validate(bulk(['Invoice 1', 'Invoice 2']), { use_case_pay: 'account_choice' });
    const done = await post(id, token, { fields: { account_id: 'main' } });
    expect(done.json().state).toBe('done');
    expect((await read(id, token)).instructions.map((i: { state: string }) => i.state)).toEqual(['done', 'done']);
  });

  it('a validation answers the payment exactly as a GET then shows it (it is answered from the validation, not read again)', async () => {
    for (const [useCase, query] of [
      ['legacy', ''],
      ['redirect', '?show_sensitive=true'],
      ['decoupled', ''],
      ['otp_sms', '?show_sensitive=true'],
      ['account_choice', ''],
    ] as const) {
      const id = await ctx().createPayment(bulk(['Invoice 1', 'Invoice 2']));
      const token = await ctx().scopedToken(id);
      const payload = {
        connector_uuid: TEST_CONNECTOR_UUID,
        webview_url: WEBVIEW_URL,
        fields: { use_case_pay: useCase },
        payer: { scheme_name: 'iban', identification: VALID_IBAN, label: 'Payer' },
      };
      const answer = await ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}${query}`, headers: bearer(token), payload });
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toMatchObject({ state: 'validating', connector_uuid: TEST_CONNECTOR_UUID, payer: { identification: VALID_IBAN } });
      const got = await ctx().app.inject({ url: `/2.0/payments/${id}${query}`, headers: bearer(token) });
      expect(answer.body, useCase).toBe(got.body);
    }
  });

  it("accepts the siret scheme of Powens' bulk guide, and a refused scheme names the allowed ones", async () => {
    const body = guideBody('first_open_day');
    body.instructions[0]!.beneficiary_identity = { kind: 'corporate', org_name: 'ACME', scheme_name: 'siret', identification: '732 829 320 00074' };
    const created = await create(body);
    expect(created.statusCode, created.body).toBe(200);
    const id = created.json().id as number;
    const sensitive = await ctx().app.inject({ url: `/2.0/payments/${id}?show_sensitive=true`, headers: bearer(await ctx().token('payments:admin')) });
    expect(sensitive.json().instructions[0].beneficiary_identity).toMatchObject({ scheme_name: 'siret', identification: '73282932000074' });

    body.instructions[0]!.beneficiary_identity = { kind: 'corporate', org_name: 'ACME', scheme_name: 'siret', identification: '73282932000075' };
    const badChecksum = await create(body);
    expect(badChecksum.json()).toMatchObject({ code: 'invalidValue', field: 'instructions[0].beneficiary_identity.identification' });

    body.instructions[0]!.beneficiary_identity = { kind: 'corporate', org_name: 'ACME', scheme_name: 'vat', identification: 'FR1234' };
    const refused = await create(body);
    expect(refused.statusCode).toBe(400);
    const error = refused.json();
    expectErrorBody(error);
    expect(error.field).toBe('instructions[0].beneficiary_identity.scheme_name');
    expect(error.description).not.toContain('constant');
    expect(error.description).toContain('must be one of');
    expect(error.description).toContain('siret');
    expect(error.description).toContain('siren');
  });

  it('the beneficiary carries its integer id and issuer/bic, filled from the IBAN when the bank is known', async () => {
    const known = await create(guideBody('first_open_day'));
    const payment = known.json();
    const beneficiary = payment.instructions[0].beneficiary;
    expect(beneficiary.id).toBe(payment.instructions[0].id);
    expect(Number.isInteger(beneficiary.id)).toBe(true);
    // FR76 30006…: Crédit Agricole's bank code in the Banque de France/ECB directory.
    expect(beneficiary).toMatchObject({ identification: VALID_IBAN, issuer: 'AGRIFRPPXXX', bic: 'AGRIFRPPXXX' });

    const given = guideBody('first_open_day');
    (given.instructions[0]!.beneficiary as Record<string, unknown>).issuer = 'BNPAFRPP';
    expect((await create(given)).json().instructions[0].beneficiary).toMatchObject({ issuer: 'BNPAFRPPXXX', bic: 'BNPAFRPPXXX' });

    const unknown = guideBody('first_open_day');
    (unknown.instructions[0]!.beneficiary as Record<string, unknown>).identification = 'IT60X0542811101000000123456';
    expect((await create(unknown)).json().instructions[0].beneficiary).toMatchObject({ issuer: null, bic: null });
  });
});

describeEachDb('Powens compatibility: connectors without a token', (ctx) => {
  it('GET /connectors?id_payment=N answers without a token, filtering only, with payment_settings amounts as JSON numbers', async () => {
    const id = await ctx().createPayment();
    const response = await ctx().app.inject({ url: `/2.0/connectors?id_payment=${id}&expand=payment_settings,payment_fields` });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.total).toBe(1);
    expect(body.connectors[0]).toMatchObject({ uuid: TEST_CONNECTOR_UUID, payment_settings: { minimum_amount: { instant: 0.01, first_open_day: 0.01 } } });
    expect(response.body).toContain('"minimum_amount":{"first_open_day":0.01,');
    // Nothing of the payment is revealed: the answer is the same list as without id_payment.
    expect(response.body).not.toContain(VALID_IBAN);
    expect((await ctx().app.inject({ url: '/2.0/connectors?id_payment=987654321' })).json()).toMatchObject({ code: 'notFound', field: 'id_payment' });
  });

  it('GET /connectors/{id} and /connectors/{uuid}/sources answer without a token', async () => {
    const one = await ctx().app.inject({ url: `/2.0/connectors/${TEST_CONNECTOR_UUID}?expand=payment_settings,sources` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ uuid: TEST_CONNECTOR_UUID, payment_settings: { cancellation_available: true }, sources: [{ name: 'openapi' }] });
    const byId = await ctx().app.inject({ url: `/2.0/connectors/${one.json().id}` });
    expect(byId.json().uuid).toBe(TEST_CONNECTOR_UUID);
    const sources = await ctx().app.inject({ url: `/2.0/connectors/${TEST_CONNECTOR_UUID}/sources` });
    expect(sources.statusCode).toBe(200);
    expect(sources.json()).toEqual({
      total: 1,
      sources: [expect.objectContaining({ id_connector: one.json().id, name: 'openapi', auth_mechanism: 'webauth', disabled: null })],
    });
    expect((await ctx().app.inject({ url: '/2.0/connectors/nope/sources' })).statusCode).toBe(404);
    expect((await ctx().app.inject({ url: `/2.0/connectors/${TEST_CONNECTOR_UUID}?expand=bogus` })).json()).toMatchObject({
      code: 'invalidValue',
      field: 'expand',
    });
  });
});
