/**
 * Who may frame the payer's pages. Powens' webview library opens the webview in an iframe on the
 * merchant's page, so the webview and the test bank allow framing by the origins of the client's
 * registered redirect URIs, and by nobody else (never `*`).
 */
import { PAGE_CSP } from '../http/csp.ts';

/** The distinct origins of these URIs, as a CSP source list; `'none'` when there is none. */
export function frameAncestors(redirectUris: readonly string[]): string {
  const origins = new Set<string>();
  for (const uri of redirectUris) {
    try {
      const origin = new URL(uri).origin;
      // Only web origins can be framing ancestors; an opaque origin ("null") or a custom scheme cannot.
      if (/^https?:\/\/[^\s;,']+$/.test(origin)) origins.add(origin);
    } catch {
      // not a URL: never registered, but harmless to skip
    }
  }
  return origins.size ? [...origins].join(' ') : "'none'";
}

/** The pages' strict CSP with `frame-ancestors` opened to these origins only. */
export function framedPageCsp(redirectUris: readonly string[]): string {
  return PAGE_CSP.replace("frame-ancestors 'none'", `frame-ancestors ${frameAncestors(redirectUris)}`);
}

/** Moved to services/webview-sessions.ts (no SQL in the webview); re-exported for the test bank's pages. */
export { clientRedirectUris } from '../services/webview-sessions.ts';
