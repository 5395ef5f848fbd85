/**
 * Signed URLs: HMAC-SHA-256 with the installation's secret, so that a URL Payrail handed out (the
 * payer's return from a bank, a webview step, a dashboard link) cannot be forged or moved to
 * another payment. Used by the actions, the webview and the admin dashboard.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function sign(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

export function verifySignature(secret: string, value: string, signature: string): boolean {
  const expected = Buffer.from(sign(secret, value));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The payer's return from a bank: signed, bound to the payment (`TPP-Redirect-URI`, `TPP-Nok-Redirect-URI`). */
export function bankReturnUrls(env: { baseUrl: string; secret: string }, paymentId: number): { ok: string; nok: string } {
  const state = `${paymentId}.${sign(env.secret, `bank-return.${paymentId}`)}`;
  return { ok: `${env.baseUrl}/2.0/bank-return/ok?state=${state}`, nok: `${env.baseUrl}/2.0/bank-return/nok?state=${state}` };
}
