/**
 * Verifying Payrail's (and Powens') webhook signatures:
 * BI-Signature = base64(HMAC-SHA256(secret, METHOD + "." + path + "." + BI-Signature-Date + "." + raw body)).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookErrorReason = 'parsed_body' | 'compressed_body' | 'missing_header' | 'bad_date' | 'stale_date' | 'signature_mismatch';

export class WebhookVerificationError extends Error {
  readonly reason: WebhookErrorReason;
  constructor(reason: WebhookErrorReason, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

export interface VerifyOptions {
  /** The path the webhook was registered with (the URL's path, without the query string), e.g. `/hooks/payrail`. */
  path: string;
  method?: string;
  /** How old (or early) BI-Signature-Date may be; default 300 seconds. */
  toleranceSeconds?: number;
  /** Current time in ms (tests). */
  now?: number;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key ? bag[key] : undefined;
  return Array.isArray(value) ? value[0] : value;
}

function sign(secret: string, method: string, path: string, date: string, body: string): string {
  return createHmac('sha256', secret).update(`${method.toUpperCase()}.${path}.${date}.${body}`).digest('base64');
}

/**
 * Checks a webhook and returns its parsed body. `rawBody` must be the body exactly as received (a
 * string or bytes), before any JSON parsing; decompress it first if it came with gzip.
 */
export function verifyWebhook<T = Record<string, unknown>>(rawBody: string | Uint8Array, headers: HeaderBag, secret: string, options: VerifyOptions): T {
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    throw new WebhookVerificationError(
      'parsed_body',
      'pass the raw request body (string or Buffer), not a parsed object: the signature covers the exact bytes received',
    );
  }
  if (rawBody instanceof Uint8Array && rawBody[0] === 0x1f && rawBody[1] === 0x8b) {
    throw new WebhookVerificationError('compressed_body', 'the body is gzip-compressed (content-encoding: gzip): decompress it before verifying');
  }
  const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  const signature = header(headers, 'bi-signature');
  const date = header(headers, 'bi-signature-date');
  if (!signature || !date) throw new WebhookVerificationError('missing_header', 'the BI-Signature and BI-Signature-Date headers are required');
  const at = Date.parse(date);
  if (Number.isNaN(at)) throw new WebhookVerificationError('bad_date', `BI-Signature-Date is not a date: ${date.slice(0, 40)}`);
  const tolerance = (options.toleranceSeconds ?? 300) * 1000;
  const now = options.now ?? Date.now();
  if (Math.abs(now - at) > tolerance) {
    throw new WebhookVerificationError(
      'stale_date',
      `BI-Signature-Date is ${Math.round((now - at) / 1000)} s from now (tolerance ${tolerance / 1000} s): a replay, or a clock out of sync`,
    );
  }
  const expected = new TextEncoder().encode(sign(secret, options.method ?? 'POST', options.path, date, body));
  const given = new TextEncoder().encode(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    const hint = options.path.includes('?') ? ' (the path must not include the query string)' : '';
    throw new WebhookVerificationError(
      'signature_mismatch',
      `the signature does not match: check the secret, the path "${options.path}"${hint} and that the body is the raw one`,
    );
  }
  return JSON.parse(body) as T;
}

/** Signs a payload as Payrail does: headers for tests of your own webhook endpoint. */
export function signWebhookPayload(
  body: string,
  secret: string,
  options: { path: string; method?: string; date?: Date },
): { 'bi-signature': string; 'bi-signature-date': string } {
  const date = (options.date ?? new Date()).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  return { 'bi-signature': sign(secret, options.method ?? 'POST', options.path, date, body), 'bi-signature-date': date };
}
