/**
 * The webview's signed context: after the entry URL's `code` is verified, the flow carries this
 * HMAC-signed blob instead of the token (so the token is never handed to a bank or kept in the
 * address bar).
 *
 * CSRF: every form carries a token bound to the payment's scoped code (an HMAC of a digest of the
 * code and the payment id, under the installation secret). It needs no cookie, so the forms work
 * inside a cross-site iframe, where browsers withhold (third-party) cookies.
 */
import { createHash } from 'node:crypto';
import { sign, verifySignature } from '../services/signed-urls.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Lang } from './i18n.ts';
import { saveWebviewState, webviewState } from '../services/webview-sessions.ts';

export interface WebviewContext {
  paymentId: number;
  domainId: number;
  clientId: string;
  redirectUri: string;
  state: string | null;
  lang: Lang;
  expiresAt: number;
  /** A digest of the scoped code the payer entered with (never the code itself). */
  codeTag: string;
}

export function codeTag(code: string): string {
  return createHash('sha256').update(`payrail-webview-code.${code}`).digest('base64url').slice(0, 32);
}

export function encodeContext(secret: string, ctx: WebviewContext): string {
  const payload = Buffer.from(
    JSON.stringify([ctx.paymentId, ctx.domainId, ctx.clientId, ctx.redirectUri, ctx.state, ctx.lang, ctx.expiresAt, ctx.codeTag]),
  ).toString('base64url');
  return `${payload}.${sign(secret, `webview.${payload}`)}`;
}

export function decodeContext(secret: string, value: unknown, now: number): WebviewContext | null {
  if (typeof value !== 'string' || value.length > 8192) return null;
  const [payload, signature, extra] = value.split('.');
  if (!payload || !signature || extra !== undefined || !verifySignature(secret, `webview.${payload}`, signature)) return null;
  try {
    const [paymentId, domainId, clientId, redirectUri, state, lang, expiresAt, tag] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof expiresAt !== 'number' || expiresAt <= now || typeof tag !== 'string') return null;
    return { paymentId, domainId, clientId, redirectUri, state, lang, expiresAt, codeTag: tag };
  } catch {
    return null;
  }
}

export function csrfToken(secret: string, ctx: WebviewContext): string {
  return sign(secret, `csrf.${ctx.codeTag}.${ctx.paymentId}`);
}

export function checkCsrf(secret: string, ctx: WebviewContext, token: unknown): boolean {
  return typeof token === 'string' && token.length > 0 && verifySignature(secret, `csrf.${ctx.codeTag}.${ctx.paymentId}`, token);
}

/** The context with the stored entry `state` filled in (the flow's `w` carries none). */
export async function withWebviewState(db: Kysely<Database>, ctx: WebviewContext): Promise<WebviewContext> {
  if (ctx.state !== null) return ctx;
  return { ...ctx, state: await webviewState(db, ctx.paymentId) };
}

export { saveWebviewState };
