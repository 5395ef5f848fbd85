/**
 * The lifecycle in real processes: `payrail serve` with 1-second test connector steps and its own
 * job loop, a webhook endpoint added with the CLI, and a receiver on 127.0.0.1.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PayrailClient } from '../../client/src/index.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import { BIN, exited, startServe, waitFor } from './support/processes.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'payrail-serve-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) {
    child.kill('SIGTERM');
    await exited(child);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`payrail ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('payrail serve runs the lifecycle', () => {
  it('delivers one signed webhook per state change of a pdng/done payment at 1-second steps', async () => {
    const received: { path: string; headers: Record<string, unknown>; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c) => (body += c));
      request.on('end', () => {
        received.push({ path: request.url ?? '', headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/payrail/hook`;
    try {
      const client = JSON.parse(cli(['client', 'create', '--name', 'Shop', '--redirect-uri', 'https://merchant.example/payment/return', '--json']));
      const endpoint = JSON.parse(cli(['webhook', 'add', '--url', hookUrl, '--event', 'PAYMENT_STATE_UPDATED', '--json']));
      expect(endpoint).toMatchObject({ id: expect.any(Number), url: hookUrl, secret_key: expect.any(String) });
      expect(JSON.parse(cli(['config', 'get']))['payment.manual_expire_time_days']).toBe('30');

      const { proc, base } = await startServe(['--data-dir', dataDir, '--log-level', 'warn', '--test-connector-step-seconds', '1']);
      children.push(proc);

      const merchant = new PayrailClient({ baseUrl: base, clientId: client.client_id, clientSecret: client.client_secret });
      const payment = await merchant.createPayment({
        client_redirect_uri: 'https://merchant.example/payment/return',
        instructions: [
          {
            label: 'pdng/done - Order 7',
            amount: 12.34,
            currency: 'EUR',
            execution_date_type: 'first_open_day',
            beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'ACME' },
          },
        ],
      });
      const validating = await merchant.updatePayment(payment.id, {
        connector_uuid: '338178e6-3d01-564f-9a7b-52ca442459bf',
        webview_url: 'https://merchant.example/own',
      });
      // The payer at the bank page (a browser's form post).
      const bank = new URL(validating.validate_uri!);
      await fetch(`${base}${bank.pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...Object.fromEntries(bank.searchParams), decision: 'approve' }),
        redirect: 'manual',
      });

      await waitFor('three webhooks', () => (received.length >= 3 ? true : undefined));
      expect(received.map((r) => JSON.parse(r.body).state)).toEqual(['validating', 'pending', 'done']);
      for (const r of received) {
        expect(
          verifyWebhookSignature(
            endpoint.secret_key,
            'POST',
            '/payrail/hook',
            String(r.headers['bi-signature-date']),
            r.body,
            String(r.headers['bi-signature']),
          ),
        ).toBe(true);
      }
      expect((await merchant.getPayment(payment.id)).state).toBe('done');
      const log = JSON.parse(cli(['webhook', 'deliveries', '--payment', String(payment.id)]));
      expect(log.deliveries.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
