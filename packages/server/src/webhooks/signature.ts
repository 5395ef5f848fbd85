/**
 * Powens' webhook HMAC signature (docs/reference/powens-pay-api.md §9.4): BI-Signature = base64(HMAC-SHA256(secret,
 * METHOD + "." + path + "." + date + "." + body)), BI-Signature-Date = the UTC ISO 8601 date
 * with microseconds. `path` is the receiver URL's path, without the query string.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signatureDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function webhookSignature(secret: string, method: string, path: string, date: string, body: string): string {
  return createHmac('sha256', secret).update(`${method.toUpperCase()}.${path}.${date}.${body}`).digest('base64');
}

export function verifyWebhookSignature(secret: string, method: string, path: string, date: string, body: string, signature: string): boolean {
  const expected = Buffer.from(webhookSignature(secret, method, path, date, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
