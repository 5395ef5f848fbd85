/**
 * The HTML page of a simulated bank (consent page, result page): a plain form that works without
 * JavaScript, under a strict CSP with a per-page nonce. Shared by every standard's simulator.
 */
import { randomBytes } from 'node:crypto';
import { html, type SafeHtml } from '../../../http/html.ts';

export interface Page {
  body: string;
  headers: Record<string, string>;
}

/** `form-action` also governs the redirect after the POST: the TPP's return URIs must be allowed. */
export function bankPage(bank: string, title: string, content: SafeHtml, formTargets: string[] = []): Page {
  const nonce = randomBytes(16).toString('base64');
  const origins = [
    ...new Set(
      formTargets.flatMap((u) => {
        try {
          return [new URL(u).origin];
        } catch {
          return [];
        }
      }),
    ),
  ];
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — Payrail sandbox bank</title>
<style nonce="${nonce}">
body{font-family:system-ui,sans-serif;margin:0;background:#eef2f6;color:#14202b}
main{max-width:28rem;margin:2rem auto;background:#fff;padding:1.5rem;border-radius:8px}
h1{font-size:1.3rem;margin-top:0} dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}
dt{font-weight:600} dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;gap:1rem;margin-top:1.5rem} button{font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;border:1px solid #14202b;cursor:pointer}
button[value=approve]{background:#0b5d1e;color:#fff;border-color:#0b5d1e} button[value=refuse]{background:#fff;color:#8a1010;border-color:#8a1010}
.note{color:#44505c;font-size:.9rem} label{display:block;margin-top:1rem} input[type=text]{font-size:1rem;padding:.4rem;width:10rem}
</style></head>
<body><main><p class="note">Payrail sandbox bank (${bank} simulator)</p>${content}</main></body></html>`;
  const csp = [
    `default-src 'none'`,
    `style-src 'nonce-${nonce}'`,
    `form-action 'self' ${origins.join(' ')}`.trim(),
    `frame-ancestors 'none'`,
    `base-uri 'none'`,
  ].join('; ');
  return {
    body: body.value,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    },
  };
}

/** IBANs in groups of four, as banks print them. */
export const groupedIban = (iban: string | undefined) => iban?.replace(/(.{4})(?=.)/g, '$1 ');

/** Shown when nothing is left to decide, or after a decision taken outside a redirect. */
export function resultPage(bank: string, title: string, text: string, back: string | null): Page {
  return bankPage(bank, title, html`<h1>${title}</h1><p>${text}</p>${back ? html`<p><a href="${back}">Back to the merchant</a></p>` : ''}`);
}
