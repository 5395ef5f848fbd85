/**
 * The webview's signed context: after the entry URL's `code` is verified, the flow carries this
 * HMAC-signed blob instead of the token (so the token is never handed to a bank or kept in the
 * address bar), and every form carries a CSRF token bound to a cookie (double submit).
 */
import { randomBytes } from 'node:crypto';
import { sign, verifySignature } from '../services/payment-actions.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Lang } from './i18n.ts';

export interface WebviewContext {
  paymentId: number;
  domainId: number;
  clientId: string;
  redirectUri: string;
  state: string | null;
  lang: Lang;
  expiresAt: number;
}

export const CSRF_COOKIE = 'payrail_csrf';

/**
 * The entry URL's `state` (up to 2,000 characters, any Unicode) is stored per payment instead of
 * riding in `w`: in `w` it made every URL and form field several kilobytes long, past what the
 * forms accepted. The latest entry's state wins; an entry without one clears it.
 */
export async function saveWebviewState(db: Kysely<Database>, paymentId: number, state: string | null): Promise<void> {
  if (state === null || state === '') {
    await db.deleteFrom('webview_states').where('payment_id', '=', paymentId).execute();
    return;
  }
  await db.insertInto('webview_states').values({ payment_id: paymentId, state }).onConflict((oc) => oc.column('payment_id').doUpdateSet({ state })).execute();
}

export async function webviewState(db: Kysely<Database>, paymentId: number): Promise<string | null> {
  const row = await db.selectFrom('webview_states').select('state').where('payment_id', '=', paymentId).executeTakeFirst();
  return row?.state ?? null;
}

export function encodeContext(secret: string, ctx: WebviewContext): string {
  const payload = Buffer.from(JSON.stringify([ctx.paymentId, ctx.domainId, ctx.clientId, ctx.redirectUri, ctx.state, ctx.lang, ctx.expiresAt])).toString('base64url');
  return `${payload}.${sign(secret, `webview.${payload}`)}`;
}

export function decodeContext(secret: string, value: unknown, now: number): WebviewContext | null {
  if (typeof value !== 'string' || value.length > 8192) return null;
  const [payload, signature, extra] = value.split('.');
  if (!payload || !signature || extra !== undefined || !verifySignature(secret, `webview.${payload}`, signature)) return null;
  try {
    const [paymentId, domainId, clientId, redirectUri, state, lang, expiresAt] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof expiresAt !== 'number' || expiresAt <= now) return null;
    return { paymentId, domainId, clientId, redirectUri, state, lang, expiresAt };
  } catch {
    return null;
  }
}

export function newCsrfCookie(): string {
  return randomBytes(24).toString('base64url');
}

export function csrfToken(secret: string, cookie: string, paymentId: number): string {
  return sign(secret, `csrf.${cookie}.${paymentId}`);
}

export function checkCsrf(secret: string, cookie: string | undefined, token: unknown, paymentId: number): boolean {
  return typeof cookie === 'string' && cookie.length > 0 && typeof token === 'string' && verifySignature(secret, `csrf.${cookie}.${paymentId}`, token);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
