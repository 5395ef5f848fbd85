/**
 * Webhook failure alerts: biapi.manager.email and webhooks.alerts_frequency set through POST /2.0/config,
 * a failing receiver on loopback, and a loopback SMTP server (smtp-server) receiving the alert, on every database.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEnvironment } from '../src/jobs/environment.ts';
import { deliverDueWebhooks } from '../src/webhooks/delivery.ts';
import { bearer, describeEachDb, REDIRECT_URI } from './support/helpers.ts';

interface Mail {
  from: string;
  to: string[];
  data: string;
}

describeEachDb('webhook failure alerts', (ctx) => {
  const failing: Server = createServer((_request, response) => {
    response.writeHead(503);
    response.end();
  });
  const mails: Mail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  let hookUrl = '';
  let smtpUrl = '';
  let env: JobEnvironment;

  beforeAll(async () => {
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/hooks`;
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
    const c = ctx();
    env = { db: c.store.db, dialect: c.store.dialect, clock: c.clock, keyring: c.app.payrail.keyring, allowPrivateWebhooks: true };
  });
  afterAll(async () => {
    await new Promise((resolve) => failing.close(resolve));
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  const api = async (method: 'GET' | 'POST' | 'DELETE', path: string, payload?: object, token?: string) =>
    ctx().app.inject({ method, url: `/2.0${path}`, headers: bearer(token ?? (await ctx().token('payments:admin'))), ...(payload ? { payload } : {}) });
  const alerts = () => ctx().store.db.selectFrom('webhook_alerts').selectAll().orderBy('id').execute();
  /** One more failed attempt of every due delivery, an hour later (past any retry delay). */
  async function failOnce(withEnv: JobEnvironment = env) {
    ctx().clock.advance(3600 * 1000);
    await deliverDueWebhooks(withEnv);
  }

  it('accepts the two keys through POST /2.0/config, validated', async () => {
    expect((await api('POST', '/config', { 'biapi.manager.email': 'not an address' })).json()).toMatchObject({
      code: 'invalidValue',
      field: 'biapi.manager.email',
    });
    expect((await api('POST', '/config', { 'webhooks.alerts_frequency': '-1' })).json()).toMatchObject({
      code: 'invalidValue',
      field: 'webhooks.alerts_frequency',
    });
    expect((await api('POST', '/config', { 'webhooks.alerts_frequency': 'daily' })).statusCode).toBe(400);
    const set = await api('POST', '/config', { 'biapi.manager.email': 'ops@shop.example', 'webhooks.alerts_frequency': '0.5' });
    expect(set.json()).toMatchObject({ 'biapi.manager.email': 'ops@shop.example', 'webhooks.alerts_frequency': '0.5' });
  });

  it('records an alert (no SMTP) after repeated failures, then at most once per alerts_frequency', async () => {
    const endpoint = (await api('POST', '/webhooks', { url: hookUrl })).json();
    const id = await ctx().createPayment();
    expect((await api('POST', `/payments/${id}`, { cancel: true, client_redirect_uri: REDIRECT_URI }, await ctx().token('payments:cancel'))).statusCode).toBe(
      200,
    );
    await deliverDueWebhooks(env); // attempt 1
    await failOnce(); // 2
    expect(await alerts()).toHaveLength(0);
    await failOnce(); // 3: the endpoint keeps failing
    const first = await alerts();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ endpoint_id: endpoint.id, recipient: 'ops@shop.example', status: 'recorded', created_at: ctx().clock.now() });
    for (let i = 0; i < 10; i++) await failOnce(); // 10 hours later: still within 0.5 day
    expect(await alerts()).toHaveLength(1);
    for (let i = 0; i < 3; i++) await failOnce(); // 13 hours after the first alert
    expect((await alerts()).map((a) => a.status)).toEqual(['recorded', 'recorded']);
    expect(mails).toHaveLength(0);
  });

  it('e-mails the manager through the configured SMTP server', async () => {
    const withSmtp = { ...env, smtpUrl };
    for (let i = 0; i < 13; i++) await failOnce(withSmtp);
    const rows = await alerts();
    expect(rows.map((a) => a.status)).toEqual(['recorded', 'recorded', 'sent']);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(['ops@shop.example']);
    expect(mails[0]!.data).toMatch(/Subject: Payrail: webhook endpoint \d+ is failing/);
    expect(mails[0]!.data).toContain('/hooks');
    // An SMTP server that is gone: the alert is recorded as failed, delivery goes on.
    for (let i = 0; i < 13; i++) await failOnce({ ...env, smtpUrl: 'smtp://127.0.0.1:1' });
    expect((await alerts()).at(-1)).toMatchObject({ status: 'failed', error: expect.any(String) });
  });
});
