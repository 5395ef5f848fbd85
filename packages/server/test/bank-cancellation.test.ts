/**
 * Cancellation as documented (issue 10 item 4, docs/reference/powens-pay-api.md §12) with the test bank: a pending payment is
 * cancelled through the connector, at once or after the payer approves the cancellation at the
 * bank (state_detail cancelling + validate_uri); final and instant payments are notSupported.
 */
import { expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { bearer, describeEachDb, guideBody, REDIRECT_URI, type TestContext } from './support/helpers.ts';

const NOT_SUPPORTED = 'Bad request, please check your request parameters.';

describeEachDb('cancellation through the connector', (ctx) => {
  async function pendingPayment(c: TestContext, label: string, type: 'first_open_day' | 'instant' = 'first_open_day') {
    const body = guideBody(type);
    (body.instructions[0] as Record<string, unknown>).label = label;
    const id = await c.createPayment(body);
    const token = await c.scopedToken(id);
    const validated = await c.app.inject({
      method: 'POST',
      url: `/2.0/payments/${id}`,
      headers: bearer(token),
      payload: { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own' },
    });
    await submitBankForm(c, validated.json().validate_uri, 'approve');
    return id;
  }
  async function submitBankForm(c: TestContext, uri: string, decision: string) {
    const u = new URL(uri);
    const form = new URLSearchParams({ ...Object.fromEntries(u.searchParams), decision });
    return c.app.inject({ method: 'POST', url: u.pathname, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
  }
  async function cancel(
    c: TestContext,
    id: number,
    body: Record<string, unknown> = { cancel: true, client_redirect_uri: REDIRECT_URI, client_state: 'cancel-7' },
  ) {
    return c.app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(await c.token('payments:cancel')), payload: body });
  }

  it('cancels a pending payment at the bank at once: rejected, CancelledByClient, the bank status kept', async () => {
    const c = ctx();
    const id = await pendingPayment(c, 'pdng/pdng/done - Order 1');
    const before = await c.app.inject({ method: 'GET', url: `/2.0/payments/${id}`, headers: bearer(await c.token('payments:admin')) });
    expect(before.json().state).toBe('pending');
    const cancelled = await cancel(c, id);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient', state_detail: null });
    const row = await c.store.db
      .selectFrom('payments as p')
      .innerJoin('payment_attempts as a', 'a.id', 'p.current_attempt_id')
      .select(['a.bank_status', 'a.next_sync_at'])
      .where('p.id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ bank_status: 'CANC', next_sync_at: null });
  });

  it('when the payer must approve at the bank: pending + cancelling + validate_uri, then the approval rejects the payment and returns the payer to the cancellation redirect URI', async () => {
    const c = ctx();
    const id = await pendingPayment(c, 'pdng/pdng/done - cancel_approval');
    const asked = await cancel(c, id, { cancel: true, client_redirect_uri: 'https://shop.example/return', client_state: 'cancel-7' });
    expect(asked.json()).toMatchObject({
      state: 'pending',
      state_detail: 'cancelling',
      action: 'redirect',
      client_redirect_uri: 'https://shop.example/return',
    });
    const validateUri = asked.json().validate_uri as string;
    expect(validateUri).toMatch(/\/2\.0\/testbank\/authorize\?payment=\d+&purpose=cancel&sig=/);
    const page = await c.app.inject({ method: 'GET', url: new URL(validateUri).pathname + new URL(validateUri).search });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Approve the cancellation');
    // A second cancel while the payer is asked is refused.
    expect((await cancel(c, id)).json()).toMatchObject({ code: 'invalidState' });
    const back = await submitBankForm(c, validateUri, 'approve');
    expect(back.body).toContain(`https://shop.example/return?state=cancel-7&amp;id_payment=${id}&amp;payment_state=rejected&amp;error_code=CancelledByClient`);
    const after = await c.app.inject({ method: 'GET', url: `/2.0/payments/${id}`, headers: bearer(await c.token('payments:admin')) });
    expect(after.json()).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient', state_detail: null, validate_uri: null });
  });

  it('a payer who refuses the cancellation at the bank leaves the payment pending, no longer cancelling', async () => {
    const c = ctx();
    const id = await pendingPayment(c, 'pdng/pdng/done - cancel_approval');
    const asked = await cancel(c, id);
    await submitBankForm(c, asked.json().validate_uri, 'refuse');
    const after = await c.app.inject({ method: 'GET', url: `/2.0/payments/${id}`, headers: bearer(await c.token('payments:admin')) });
    expect(after.json()).toMatchObject({ state: 'pending', state_detail: null, validate_uri: null, action: null });
  });

  it('refuses a final payment and an instant one with notSupported and the documented description; client_redirect_uri is required and checked', async () => {
    const c = ctx();
    const done = await pendingPayment(c, 'done - Order 2');
    for (const id of [done, await pendingPayment(c, 'pdng/pdng/done - Order 3', 'instant')]) {
      const refused = await cancel(c, id);
      expect([refused.statusCode, refused.json().code, refused.json().description]).toEqual([400, 'notSupported', NOT_SUPPORTED]);
    }
    const pending = await pendingPayment(c, 'pdng/pdng/done - Order 4');
    expect((await cancel(c, pending, { cancel: true })).json()).toMatchObject({ code: 'missingParameter', field: 'client_redirect_uri' });
    expect((await cancel(c, pending, { cancel: true, client_redirect_uri: 'https://evil.example/x' })).json()).toMatchObject({
      code: 'invalidValue',
      field: 'client_redirect_uri',
    });
    expect((await c.app.inject({ method: 'GET', url: `/2.0/payments/${pending}`, headers: bearer(await c.token('payments:admin')) })).json().state).toBe(
      'pending',
    );
  });
});
