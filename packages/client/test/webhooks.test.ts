import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { signWebhookPayload, verifyWebhook, WebhookVerificationError } from '../src/index.ts';

const secret = 's3cret';
const body = '{"id":1,"state":"done","id_webhook_data":9}';
const path = '/hooks/payrail';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('verifyWebhook', () => {
  it('accepts a valid signature and returns the payload', () => {
    const headers = signWebhookPayload(body, secret, { path });
    expect(verifyWebhook(body, headers, secret, { path })).toEqual({ id: 1, state: 'done', id_webhook_data: 9 });
    expect(verifyWebhook(Buffer.from(body), new Headers(headers), secret, { path })).toMatchObject({ id: 1 });
  });

  it('refuses a tampered body, a wrong secret, a wrong path and a stale date', () => {
    const headers = signWebhookPayload(body, secret, { path });
    expect(reason(() => verifyWebhook(body.replace('done', 'rejected'), headers, secret, { path }))).toBe('signature_mismatch');
    expect(reason(() => verifyWebhook(body, headers, 'other', { path }))).toBe('signature_mismatch');
    expect(reason(() => verifyWebhook(body, headers, secret, { path: '/other' }))).toBe('signature_mismatch');
    const old = signWebhookPayload(body, secret, { path, date: new Date(Date.now() - 10 * 60_000) });
    expect(reason(() => verifyWebhook(body, old, secret, { path }))).toBe('stale_date');
    expect(reason(() => verifyWebhook(body, old, secret, { path, toleranceSeconds: 3600 }))).toBe('accepted');
  });

  it('points at the usual mistakes', () => {
    const headers = signWebhookPayload(body, secret, { path });
    expect(reason(() => verifyWebhook(JSON.parse(body), headers, secret, { path }))).toBe('parsed_body');
    expect(reason(() => verifyWebhook(gzipSync(body), headers, secret, { path }))).toBe('compressed_body');
    expect(reason(() => verifyWebhook(body, {}, secret, { path }))).toBe('missing_header');
    expect(reason(() => verifyWebhook(body, { ...headers, 'bi-signature-date': 'yesterday' }, secret, { path }))).toBe('bad_date');
    expect(() => verifyWebhook(body, headers, secret, { path: `${path}?x=1` })).toThrow(/query string/);
  });

  it('signs like Payrail: a microsecond date and base64 HMAC-SHA256', () => {
    const headers = signWebhookPayload(body, secret, { path, date: new Date('2022-06-27T11:08:52.577Z') });
    expect(headers['bi-signature-date']).toBe('2022-06-27T11:08:52.577000Z');
    expect(headers['bi-signature']).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});
