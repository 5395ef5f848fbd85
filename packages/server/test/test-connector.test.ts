/** Every scenario of the test connector, through the own-webview protocol (POST /2.0/payments/{id}). */
import { describe, expect, it } from 'vitest';
import { legacyScenario, testConnector, TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { bearer, describeEachDb, guideBody } from './support/helpers.ts';
import { systemClock } from '../src/domain/clock.ts';

const WEBVIEW_URL = 'https://merchant.example/own-webview?step=back';

describeEachDb('test connector through POST /2.0/payments/{id}', (ctx) => {
  async function start(useCase: string | null, options: { label?: string; type?: 'instant' | 'first_open_day' } = {}) {
    const body = guideBody(options.type ?? 'instant');
    if (options.label) body.instructions[0]!.label = options.label;
    const id = await ctx().createPayment(body);
    const token = await ctx().scopedToken(id);
    const response = await ctx().app.inject({
      method: 'POST',
      url: `/2.0/payments/${id}`,
      headers: bearer(token),
      payload: {
        connector_uuid: TEST_CONNECTOR_UUID,
        webview_url: WEBVIEW_URL,
        validate_mechanism: 'webauth',
        fields: useCase ? { use_case_pay: useCase } : {},
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    return { id, token, payment: response.json() };
  }
  const post = (id: number, token: string, payload: object) =>
    ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(token), payload });
  const read = async (id: number, token: string) => (await ctx().app.inject({ url: `/2.0/payments/${id}`, headers: bearer(token) })).json();

  /** Follows validate_uri to the simulated bank page and answers it as the payer would. */
  async function atBank(validateUri: string, decision: 'approve' | 'refuse', total = '50.90 EUR') {
    const url = new URL(validateUri);
    const pageResponse = await ctx().app.inject({ url: url.pathname + url.search });
    expect(pageResponse.statusCode).toBe(200);
    expect(pageResponse.body).toContain(total);
    const form = new URLSearchParams({ ...Object.fromEntries(url.searchParams), decision });
    return ctx().app.inject({ method: 'POST', url: url.pathname, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
  }

  /** Visits a validate_uri as the payer's browser would (a GET). */
  async function visit(validateUri: string) {
    const url = new URL(validateUri);
    return ctx().app.inject({ url: url.pathname + url.search });
  }

  it("redirect: visiting validate_uri (Powens' webauth callback) makes the payment done and returns to webview_url", async () => {
    const { id, token, payment } = await start('redirect');
    expect(payment).toMatchObject({
      state: 'validating',
      action: 'redirect',
      connector_uuid: TEST_CONNECTOR_UUID,
      id_connector: 40,
      validate_mechanism: 'webauth',
    });
    expect(payment.validate_uri).toMatch(/\/2\.0\/webauth\/callback\?state=\d+\.[\w-]+&authFactorValue=AUTHENTICATION_VALIDATED$/);
    const back = await visit(payment.validate_uri);
    // validate_uri answers a real 3xx to webview_url (a plain GET visit, so no CSP form-action is involved).
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(WEBVIEW_URL);
    const done = await read(id, token);
    expect(done).toMatchObject({ state: 'done', action: null, validate_uri: null, error_code: null });
    expect(done.validate_date).toBe('2026-01-15 10:00:00');
    const events = await ctx().store.db.selectFrom('payment_events').select(['from_state', 'to_state']).where('payment_id', '=', id).orderBy('id').execute();
    expect(events.map((e) => `${e.from_state ?? ''}>${e.to_state}`)).toEqual(['>created', 'created>validating', 'validating>done']);
  });

  it('redirect: a second visit changes nothing; a forged state is refused; another authFactorValue refuses', async () => {
    const { id, token, payment } = await start('redirect');
    await visit(payment.validate_uri);
    const again = await visit(payment.validate_uri);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe(WEBVIEW_URL);
    const forged = await visit(payment.validate_uri.replace(/state=(\d+)\.[\w-]+/, 'state=$1.forged'));
    expect(forged.statusCode).toBe(400);
    expect((await read(id, token)).state).toBe('done');
    const refused = await start('redirect');
    await visit(refused.payment.validate_uri.replace('AUTHENTICATION_VALIDATED', 'AUTHENTICATION_REFUSED'));
    expect(await read(refused.id, refused.token)).toMatchObject({ state: 'rejected', error_code: 'CancelledByUser' });
  });

  it('legacy (default): the bank page shows the transfer; refusing there → rejected CancelledByUser', async () => {
    const { id, token, payment } = await start(null);
    expect(payment.validate_uri).toContain('/2.0/testbank/authorize?');
    await atBank(payment.validate_uri, 'refuse');
    expect(await read(id, token)).toMatchObject({ state: 'rejected', error_code: 'CancelledByUser' });
  });

  it('redirect_no_confirmation → done', async () => {
    const { id, token, payment } = await start('redirect_no_confirmation');
    await visit(payment.validate_uri);
    expect((await read(id, token)).state).toBe('done');
  });

  it('a bank form cannot be replayed or forged', async () => {
    const { id, token, payment } = await start('legacy');
    await atBank(payment.validate_uri, 'refuse');
    const url = new URL(payment.validate_uri);
    const replay = await ctx().app.inject({
      method: 'POST',
      url: url.pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...Object.fromEntries(url.searchParams), decision: 'approve' }).toString(),
    });
    expect(replay.statusCode).toBe(409);
    const forged = await ctx().app.inject({
      method: 'POST',
      url: url.pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...Object.fromEntries(url.searchParams), sig: 'forged', decision: 'approve' }).toString(),
    });
    expect(forged.statusCode).toBe(400);
    expect((await read(id, token)).state).toBe('rejected');
  });

  it.each([
    ['pdng/done - My label', 'pending', null],
    ['done - Shop', 'done', null],
    ['canc - Shop', 'rejected', 'CancelledByUser'],
    ['rjct - Shop', 'rejected', 'noSpecifiedReason'],
    ['err - Shop', 'rejected', 'invalidAmount'],
    ['bug - Shop', 'rejected', 'bug'],
    ['Plain label', 'done', null],
  ])('legacy label %s → %s after approval', async (label, state, errorCode) => {
    const { id, token, payment } = await start(null, { label, type: 'first_open_day' });
    expect(payment.action).toBe('redirect');
    await atBank(payment.validate_uri, 'approve');
    expect(await read(id, token)).toMatchObject({ state, error_code: errorCode });
  });

  it('bulk: a later label naming its own tokens follows them (Payrail extension); a mix of done and rejected makes the payment partial', async () => {
    const body = guideBody('instant');
    body.instructions[0]!.label = 'done - Invoice 1';
    body.instructions.push(
      { ...structuredClone(body.instructions[0]!), label: 'rjct - Invoice 2' },
      { ...structuredClone(body.instructions[0]!), label: 'Invoice 3' },
    );
    const id = await ctx().createPayment(body);
    const token = await ctx().scopedToken(id);
    const validating = (await post(id, token, { connector_uuid: TEST_CONNECTOR_UUID, webview_url: WEBVIEW_URL })).json();
    await atBank(validating.validate_uri, 'approve', '152.70 EUR');
    const payment = await read(id, token);
    expect(payment).toMatchObject({ state: 'partial', error_code: null });
    expect(payment.instructions.map((i: { state: string }) => i.state)).toEqual(['done', 'rejected', 'done']);
  });

  it('bulk: all instructions rejected → rejected; a one-time payment sets its instruction state too', async () => {
    const body = guideBody('instant');
    body.instructions[0]!.label = 'canc - Invoice 1';
    body.instructions.push({ ...structuredClone(body.instructions[0]!), label: 'rjct - Invoice 2' });
    const id = await ctx().createPayment(body);
    const token = await ctx().scopedToken(id);
    await atBank((await post(id, token, { connector_uuid: TEST_CONNECTOR_UUID, webview_url: WEBVIEW_URL })).json().validate_uri, 'approve', '101.80 EUR');
    expect(await read(id, token)).toMatchObject({
      state: 'rejected',
      error_code: 'CancelledByUser',
      instructions: [{ state: 'rejected' }, { state: 'rejected' }],
    });
    const single = await start(null, { label: 'pdng/done - One' });
    await atBank(single.payment.validate_uri, 'approve');
    expect(await read(single.id, single.token)).toMatchObject({ state: 'pending', instructions: [{ state: 'pending' }] });
  });

  it('decoupled: waits ≈10 s, then resume → done', async () => {
    const { id, token, payment } = await start('decoupled');
    expect(payment).toMatchObject({ state: 'validating', action: 'decoupled', error_description: 'Please confirm the transaction in the phone app.' });
    const early = await post(id, token, { resume: true });
    expect(early.json()).toMatchObject({ state: 'validating', action: 'decoupled' });
    ctx().clock.advance(10_000);
    expect((await post(id, token, { resume: true })).json()).toMatchObject({ state: 'done', action: null });
  });

  it('decoupled_cancelled: after ≈10 s → rejected CancelledByUser', async () => {
    const { id, token } = await start('decoupled_cancelled');
    ctx().clock.advance(10_000);
    expect((await post(id, token, { resume: true })).json()).toMatchObject({ state: 'rejected', error_code: 'CancelledByUser' });
  });

  it('decoupled_expired: still waiting at 10 s, rejected authenticationFailed at 20 s', async () => {
    const { id, token } = await start('decoupled_expired');
    ctx().clock.advance(10_000);
    expect((await post(id, token, { resume: true })).json()).toMatchObject({ state: 'validating', action: 'decoupled' });
    ctx().clock.advance(10_000);
    expect((await post(id, token, { resume: true })).json()).toMatchObject({
      state: 'rejected',
      error_code: 'authenticationFailed',
      error_description: 'The decoupled validation has expired.',
    });
  });

  it('otp_sms: asks for openapisms; a wrong code → rejected authenticationFailed', async () => {
    const { id, token, payment } = await start('otp_sms');
    expect(payment).toMatchObject({ state: 'validating', action: 'additionalInformationNeeded' });
    expect(payment.fields).toEqual([expect.objectContaining({ name: 'openapisms', type: 'text', required: true })]);
    expect(payment.fields[0].label).toContain('1234');
    expect((await post(id, token, { fields: { openapisms: '9999' } })).json()).toMatchObject({
      state: 'rejected',
      error_code: 'authenticationFailed',
      fields: [],
    });
  });

  it('otp_sms: the right code (1234) → done; a missing one is refused', async () => {
    const { id, token } = await start('otp_sms');
    const missing = await post(id, token, { fields: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'missingParameter', field: 'fields.openapisms' });
    expect((await post(id, token, { fields: { openapisms: '1234' } })).json()).toMatchObject({ state: 'done' });
  });

  it('otp_plus_decoupled: OTP, then a decoupled approval → done', async () => {
    const { id, token } = await start('otp_plus_decoupled');
    expect((await post(id, token, { fields: { openapisms: '1234' } })).json()).toMatchObject({ state: 'validating', action: 'decoupled' });
    ctx().clock.advance(10_000);
    expect((await post(id, token, { resume: true })).json()).toMatchObject({ state: 'done' });
  });

  it('account_choice: main → done, snd → rejected invalidEmitter, other → refused', async () => {
    const first = await start('account_choice');
    expect(first.payment.fields[0]).toMatchObject({ name: 'account_id', type: 'list', values: [{ value: 'main' }, { value: 'snd' }] });
    const bad = await post(first.id, first.token, { fields: { account_id: 'savings' } });
    expect(bad.json()).toMatchObject({ code: 'invalidValue', field: 'fields.account_id' });
    expect((await post(first.id, first.token, { fields: { account_id: 'main' } })).json()).toMatchObject({ state: 'done' });
    const second = await start('account_choice');
    expect((await post(second.id, second.token, { fields: { account_id: 'snd' } })).json()).toMatchObject({
      state: 'rejected',
      error_code: 'invalidEmitter',
      error_description: 'Please select the main account.',
    });
  });

  it('refuses operations the state does not allow, and unknown use cases and foreign webview URLs', async () => {
    const { id, token } = await start('redirect');
    const again = await post(id, token, { connector_uuid: TEST_CONNECTOR_UUID, webview_url: WEBVIEW_URL });
    expect([again.statusCode, again.json().code]).toEqual([409, 'invalidState']);
    const resume = await post(id, token, { resume: true });
    expect([resume.statusCode, resume.json().code]).toEqual([409, 'invalidState']);
    const psu = await post(id, token, { psu_validate: true });
    expect([psu.statusCode, psu.json().code]).toEqual([409, 'invalidState']);

    const fresh = await ctx().createPayment(guideBody('instant'));
    const freshToken = await ctx().scopedToken(fresh);
    const useCase = await post(fresh, freshToken, { connector_uuid: TEST_CONNECTOR_UUID, webview_url: WEBVIEW_URL, fields: { use_case_pay: 'teleport' } });
    expect(useCase.json()).toMatchObject({ code: 'invalidValue', field: 'fields.use_case_pay' });
    const foreign = await post(fresh, freshToken, { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://evil.example/back' });
    expect(foreign.json()).toMatchObject({ code: 'invalidValue', field: 'webview_url' });
    const noConnector = await post(fresh, freshToken, { webview_url: WEBVIEW_URL });
    expect(noConnector.json()).toMatchObject({ code: 'missingParameter', field: 'connector_uuid' });
    const noWebview = await post(fresh, freshToken, { connector_uuid: TEST_CONNECTOR_UUID });
    expect(noWebview.json()).toMatchObject({ code: 'missingParameter', field: 'webview_url' });
    expect((await read(fresh, freshToken)).state).toBe('created');
  });

  it('cancels through the API: created → rejected CancelledByClient; a final payment stays final', async () => {
    const id = await ctx().createPayment();
    const cancelToken = await ctx().token('payments:cancel');
    const cancelled = await post(id, cancelToken, { cancel: true, client_redirect_uri: 'https://merchant.example/payment/return' });
    expect(cancelled.json()).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient' });
    // A final payment: Powens' notSupported with its documented description (no code prefix).
    const again = await post(id, cancelToken, { cancel: true, client_redirect_uri: 'https://merchant.example/payment/return' });
    expect([again.statusCode, again.json().code, again.json().description]).toEqual([
      400,
      'notSupported',
      'Bad request, please check your request parameters.',
    ]);
    // client_redirect_uri is required (PaymentCancelRequest).
    const noRedirect = await post(id, cancelToken, { cancel: true });
    expect(noRedirect.json()).toMatchObject({ code: 'missingParameter', field: 'client_redirect_uri' });
    const readOnly = await ctx().token('payments:read-only');
    expect((await post(id, readOnly, { cancel: true })).statusCode).toBe(403);
    const validateOnly = await ctx().scopedToken(await ctx().createPayment());
    const scopedCancel = await ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(validateOnly), payload: { cancel: true } });
    expect(scopedCancel.statusCode).toBe(403);
  });

  it('accepts validation_mechanism as an alias and lets admin tokens validate', async () => {
    const id = await ctx().createPayment(guideBody('instant'));
    const admin = await ctx().token('payments:admin');
    const response = await post(id, admin, {
      connector_uuid: TEST_CONNECTOR_UUID,
      webview_url: WEBVIEW_URL,
      validation_mechanism: 'webauth',
      fields: { use_case_pay: 'decoupled' },
    });
    expect(response.json()).toMatchObject({ state: 'validating', action: 'decoupled', validate_mechanism: 'webauth' });
  });
});

describeEachDb('connectors and incompatibilities', (ctx) => {
  it('lists Pay connectors with their payment settings, filtered by country', async () => {
    const all = await ctx().app.inject({ url: '/2.0/connectors' });
    expect(all.json().total).toBe(1);
    expect(all.json().connectors[0]).toMatchObject({ uuid: TEST_CONNECTOR_UUID, id: 40, name: 'Connecteur de test', products: ['pay'] });
    expect(all.json().connectors[0].payment_settings).toMatchObject({ available_validate_mechanisms: ['webauth'], providing_payer_account: 'optional' });
    expect((await ctx().app.inject({ url: '/2.0/connectors?country_codes=fr' })).json().total).toBe(1);
    expect((await ctx().app.inject({ url: '/2.0/connectors?country_codes=US' })).json().total).toBe(0);
  });

  it('expands payment_fields and countries; accepts numeric ids', async () => {
    const one = await ctx().app.inject({ url: `/2.0/connectors/${TEST_CONNECTOR_UUID}?expand=payment_fields,countries` });
    expect(one.json().payment_fields).toEqual([expect.objectContaining({ name: 'use_case_pay', type: 'list', auth_mechanisms: ['webauth'], required: false })]);
    expect(one.json().countries).toContainEqual({ id: 'FR', name: 'France' });
    expect((await ctx().app.inject({ url: '/2.0/connectors/40' })).json().uuid).toBe(TEST_CONNECTOR_UUID);
    expect((await ctx().app.inject({ url: '/2.0/connectors/nope' })).statusCode).toBe(404);
    expect((await ctx().app.inject({ url: '/2.0/connectors?expand=everything' })).json().field).toBe('expand');
  });

  it('filters by compatibility with a payment (id_payment, public as Powens documents it)', async () => {
    const jpy = guideBody('instant');
    Object.assign(jpy.instructions[0]!, { currency: 'JPY', amount: 1000 });
    const id = await ctx().createPayment(jpy);
    expect((await ctx().app.inject({ url: `/2.0/connectors?id_payment=${id}` })).json().total).toBe(0);
    const token = await ctx().scopedToken(id);
    const reasons = await ctx().app.inject({ url: `/2.0/payments/${id}/incompatibilities`, headers: bearer(token) });
    expect(reasons.json()).toEqual([
      expect.objectContaining({
        connector_uuid: TEST_CONNECTOR_UUID,
        type: 'incompatible',
        reasons: [expect.objectContaining({ code: 'nspCurrency', value_payment: 'JPY' })],
      }),
    ]);
    const ok = await ctx().createPayment(guideBody('instant'));
    const okToken = await ctx().scopedToken(ok);
    expect((await ctx().app.inject({ url: `/2.0/connectors?id_payment=${ok}` })).json().total).toBe(1);
    expect((await ctx().app.inject({ url: `/2.0/payments/${ok}/incompatibilities`, headers: bearer(okToken) })).json()).toEqual([]);
    const validate = await ctx().app.inject({
      method: 'POST',
      url: `/2.0/payments/${id}`,
      headers: bearer(token),
      payload: { connector_uuid: TEST_CONNECTOR_UUID, webview_url: WEBVIEW_URL },
    });
    expect(validate.json()).toMatchObject({ code: 'invalidValue', field: 'connector_uuid' });
    expect(validate.json().description).toContain('nspCurrency');
  });

  it('reports execution dates out of the connector window', async () => {
    const far = guideBody('deferred');
    far.instructions[0]!.execution_date = '2027-06-01';
    const id = await ctx().createPayment(far);
    const admin = await ctx().token('payments:admin');
    const reasons = (await ctx().app.inject({ url: `/2.0/payments/${id}/incompatibilities`, headers: bearer(admin) })).json();
    expect(reasons[0].reasons.map((r: { code: string }) => r.code)).toEqual(['maxDateDelta']);
  });
});

describe('test connector legacy scenarios', () => {
  it('parses the label grammar', () => {
    expect(legacyScenario('pdng/done - My label')).toEqual(['pdng', 'done']);
    expect(legacyScenario('pdng/pdng - x')).toEqual(['pdng', 'pdng', 'done']);
    expect(legacyScenario('pdng/rjct - x')).toEqual(['pdng', 'rjct']);
    expect(legacyScenario('Just a label')).toEqual(['done']);
    expect(legacyScenario('pdng/pdng/pdng/done - x')).toEqual(['pdng', 'pdng', 'pdng', 'done']);
  });

  it('moves one state per step after approval: 15 minutes first open day, 15 seconds instant', async () => {
    const ctx = {
      now: 0,
      clock: systemClock,
      baseUrl: 'http://x',
      testStepMs: 15 * 60_000,
      sign: () => 's',
      http: { send: () => Promise.reject(new Error('the test bank calls no bank')) },
      returnUrls: { ok: 'http://x/ok', nok: 'http://x/nok' },
    };
    const beneficiary = { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME', bic: null };
    const payment = {
      id: 1,
      state: 'pending',
      action: null,
      state_detail: null,
      execution_date_type: 'first_open_day' as const,
      currency: 'EUR',
      payer: null,
      psu_ip_address: null,
      bank_payment_id: null,
      instructions: [
        {
          amount_minor: 100,
          currency: 'EUR',
          label: 'pdng/pdng/done - x',
          execution_date: null,
          reference_id: 'r',
          beneficiary,
          start_date: null,
          end_date: null,
          frequency: null,
        },
      ],
      data: { tokens: [['pdng', 'pdng', 'done']], approved_at: 0, step: 0 },
    };
    expect(await testConnector.status(payment, { ...ctx, now: 14 * 60_000 })).toBeNull();
    expect(await testConnector.status(payment, { ...ctx, now: 15 * 60_000 })).toMatchObject({
      kind: 'state',
      state: 'pending',
      instructions: ['pending'],
      data: { step: 1 },
    });
    expect(await testConnector.status(payment, { ...ctx, now: 30 * 60_000 })).toMatchObject({ kind: 'state', state: 'done', data: { step: 2 } });
    const deferred = { ...payment, execution_date_type: 'deferred' as const, instructions: [{ ...payment.instructions[0]!, execution_date: '1970-01-02' }] };
    expect(await testConnector.status(deferred, { ...ctx, now: 30 * 60_000 })).toBeNull(); // before its execution date
    expect(await testConnector.status(deferred, { ...ctx, now: 86_400_000 + 15 * 60_000 })).toMatchObject({ state: 'pending', data: { step: 1 } });
    const instant = { ...payment, execution_date_type: 'instant' as const };
    expect(await testConnector.status(instant, { ...ctx, now: 15_000 })).toMatchObject({ state: 'pending' });
    expect(await testConnector.status(instant, { ...ctx, now: 30_000 })).toMatchObject({ state: 'done' });
  });
});
