/** The SDK against a real `payrail serve` on 127.0.0.1 (no HTTP mocks): every endpoint. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayrailClient, PayrailError, verifyWebhook } from '../src/index.ts';
import { paymentBody, REDIRECT_URI, startServer, type RunningServer } from './server.ts';

const TEST_CONNECTOR = '338178e6-3d01-564f-9a7b-52ca442459bf';
let server: RunningServer;
let client: PayrailClient;
let tokenCalls = 0;

beforeAll(async () => {
  server = await startServer(['--test-connector-step-seconds', '1']);
  client = new PayrailClient({
    baseUrl: server.base,
    clientId: server.clientId,
    clientSecret: server.clientSecret,
    fetch: (input, init) => {
      if (String(input).endsWith('/auth/token')) tokenCalls++;
      return fetch(input, init);
    },
  });
});
afterAll(async () => server?.stop());

describe('PayrailClient against payrail serve', () => {
  it('fetches one service token and reuses it', async () => {
    await client.listPayments();
    await client.listPayments({ limit: '5' });
    expect(tokenCalls).toBe(1);
  });

  it('runs the one-time payment flow: payment, scoped token, webview URL, status', async () => {
    const payment = await client.createPayment(paymentBody);
    expect(payment).toMatchObject({ state: 'created', client_state: 'order-42', instructions: [{ label: 'Order 42' }] });
    const scoped = await client.createScopedToken(payment.id);
    expect(scoped).toMatchObject({ scope: 'payments:validate', id_payment: payment.id, expires_in: 604800 });
    const url = client.webviewUrl({ paymentId: payment.id, code: scoped.token, redirectUri: REDIRECT_URI, state: 'order-42', lang: 'fr' });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Payer par virement');
    expect((await client.getPayment(payment.id, { token: scoped.token })).state).toBe('created');
  });

  it('sends an Idempotency-Key on every POST, and replays with the same key', async () => {
    const a = await client.createPayment(paymentBody, { idempotencyKey: 'order-42-try' });
    const b = await client.createPayment(paymentBody, { idempotencyKey: 'order-42-try' });
    expect(b.id).toBe(a.id);
    const c = await client.createPayment(paymentBody);
    expect(c.id).not.toBe(a.id);
  });

  it('raises typed errors with the Powens code, field and request id', async () => {
    const bad = structuredClone(paymentBody);
    bad.instructions[0]!.beneficiary.identification = 'FR76XXXXXXXXXXXXXXX';
    const error = await client.createPayment(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayrailError);
    expect(error).toMatchObject({ status: 400, code: 'invalidValue', field: 'instructions[0].beneficiary.identification', requestId: expect.any(Number) });
    await expect(client.getPayment(987654)).rejects.toMatchObject({ status: 404, code: 'notFound' });
    const wrong = new PayrailClient({ baseUrl: server.base, clientId: server.clientId, clientSecret: 'wrong' });
    await expect(wrong.listPayments()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('lists payments with filters, and drives validation: decoupled, fields, cancel', async () => {
    const listed = await client.listPayments({ state: 'created', order_by: 'id', reverse: 'true', limit: '2' });
    expect(listed.payments).toHaveLength(2);
    expect(listed.total).toBeGreaterThanOrEqual(2);

    const otp = await client.createPayment(paymentBody);
    const token = (await client.createScopedToken(otp.id)).token;
    const asked = await client.updatePayment(
      otp.id,
      { connector_uuid: TEST_CONNECTOR, webview_url: `${server.base}/own`, fields: { use_case_pay: 'otp_sms' } },
      { token },
    );
    expect(asked).toMatchObject({ state: 'validating', action: 'additionalInformationNeeded' });
    expect((await client.updatePayment(otp.id, { fields: { openapisms: '1234' } }, { token })).state).toBe('done');

    const decoupled = await client.createPayment(paymentBody);
    const waiting = await client.updatePayment(decoupled.id, {
      connector_uuid: TEST_CONNECTOR,
      webview_url: `${server.base}/own`,
      fields: { use_case_pay: 'decoupled' },
    });
    expect(waiting.action).toBe('decoupled');
    expect((await client.updatePayment(decoupled.id, { resume: true })).state).toBe('validating');

    const cancelled = await client.cancelPayment((await client.createPayment(paymentBody)).id, { client_redirect_uri: REDIRECT_URI });
    expect(cancelled).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient' });
  });

  it('reads connectors and incompatibilities', async () => {
    const connectors = await client.listConnectors({ country_codes: 'FR' });
    expect(connectors.total).toBe(1);
    const connector = await client.getConnector(TEST_CONNECTOR, { expand: ['payment_fields'] });
    expect(connector).toMatchObject({ uuid: TEST_CONNECTOR, payment_fields: [expect.objectContaining({ name: 'use_case_pay' })] });
    const jpy = await client.createPayment({ ...paymentBody, instructions: [{ ...paymentBody.instructions[0]!, currency: 'JPY', amount: 1000 }] });
    expect((await client.getIncompatibilities(jpy.id))[0]!.reasons[0]).toMatchObject({ code: 'nspCurrency' });
    expect((await client.listConnectors({ id_payment: String(jpy.id) })).total).toBe(0);
  });

  it('manages configuration, confirms payments manually, and receives verified webhooks', async () => {
    const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c) => (body += c));
      request.on('end', () => {
        received.push({ body, headers: request.headers });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = await client.createWebhook(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`);
      expect((await client.listWebhooks()).webhooks.map((w) => w.id)).toContain(endpoint.id);
      expect((await client.setConfig({ 'payment.auto_confirmation': '0' }))['payment.auto_confirmation']).toBe('0');
      const payment = await client.createPayment(paymentBody);
      const validating = await client.updatePayment(payment.id, {
        connector_uuid: TEST_CONNECTOR,
        webview_url: `${server.base}/own`,
        fields: { use_case_pay: 'redirect' },
      });
      await fetch(validating.validate_uri!, { redirect: 'manual' });
      expect((await client.getPayment(payment.id)).action).toBe('confirm');
      expect((await client.confirmPayment(payment.id, true)).state).toBe('done');
      await client.setConfig({ 'payment.auto_confirmation': '1' });
      const until = Date.now() + 10_000;
      while (received.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const payloads = received.map((r) => verifyWebhook<{ id: number; state: string }>(r.body, r.headers, endpoint.secret_key, { path: '/hooks' }));
      expect(payloads.map((p) => p.state)).toEqual(['validating', 'done']);
      const deliveries = await client.listDeliveries({ payment_id: String(payment.id) });
      expect(deliveries.deliveries).toHaveLength(2);
      expect((await client.replayDelivery(deliveries.deliveries[0]!.id as number)).id).toEqual(expect.any(Number));
      expect(await client.deleteWebhook(endpoint.id)).toEqual({ success: 'ok' });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
