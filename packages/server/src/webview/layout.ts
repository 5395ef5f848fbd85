/** The page shell shared by the webview and the test bank: local CSS only, no script, strict CSP. */
import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from '../http/html.ts';

export const PAGE_CSS = `
:root { color-scheme: light dark; --fg: #15191e; --muted: #55606c; --bg: #ffffff; --card: #f5f7fa; --line: #c9d1d9; --accent: #0b57d0; --accent-fg: #ffffff; --danger: #b3261e; --focus: #f59e0b; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8edf2; --muted: #a7b1bc; --bg: #0f1419; --card: #1a2129; --line: #3a4450; --accent: #8ab4f8; --accent-fg: #0f1419; --danger: #f2b8b5; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 34rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; } h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; margin: .75rem 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .25rem .75rem; margin: 0; } dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.amount { font-size: 1.6rem; font-weight: 700; }
button, .button { display: inline-block; min-height: 44px; padding: .6rem 1rem; border-radius: .4rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
input, select { width: 100%; min-height: 44px; padding: .5rem; font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: .4rem; }
ul.banks { list-style: none; padding: 0; margin: 0; } ul.banks li { margin: .4rem 0; }
ul.banks button { width: 100%; text-align: left; background: var(--bg); color: var(--fg); border-color: var(--line); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: 1rem; }
.muted { color: var(--muted); } .error { color: var(--danger); font-weight: 600; }
.search { display: flex; gap: .5rem; align-items: end; } .search div { flex: 1; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { margin-top: 2rem; font-size: .85rem; color: var(--muted); }
`;

export function page(options: {
  lang: string;
  title: string;
  body: SafeHtml;
  redirectTo?: string;
  noscriptRedirectTo?: string;
  script?: boolean;
  footer?: string;
}): string {
  return html`<!doctype html>
<html lang="${options.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">${options.redirectTo ? html`<meta http-equiv="refresh" content="0;url=${options.redirectTo}">` : ''}${options.noscriptRedirectTo ? html`<noscript><meta http-equiv="refresh" content="0;url=${options.noscriptRedirectTo}"></noscript>` : ''}
<title>${options.title}</title><link rel="stylesheet" href="/2.0/assets/payrail.css">${options.script ? html`<script src="/2.0/assets/webview.js" defer></script>` : ''}</head>
<body><main>${options.body}${options.footer ? html`<footer>${options.footer}</footer>` : ''}</main></body></html>`.value;
}

/**
 * The webview's only script (served from our origin, so the CSP needs no inline script):
 * - the decoupled wait re-submits its resume form every 5 s (without JavaScript the payer presses
 *   the same button);
 * - an exit page inside a frame posts Powens' `powensWebviewTermination` message to the parent,
 *   only to the origin it would have sent the payer to; outside a frame it goes there at once;
 * - the consent return (`/2.0/consent/return`) posts the URL fragment's values (an OpenID Connect
 *   hybrid answer, which never reaches a server) to the server, and clears them from the address bar.
 */
export const WEBVIEW_JS = `"use strict";
const form = document.querySelector("form[data-autoresume]");
if (form) setTimeout(() => form.submit(), 5000);
const exit = document.querySelector("a[data-exit]");
if (exit) {
  const message = { type: "powensWebviewTermination", data: JSON.parse(exit.dataset.message) };
  if (window.parent !== window) window.parent.postMessage(message, exit.dataset.origin);
  else window.location.replace(exit.href);
}
const fragment = document.querySelector("form[data-fragment]");
if (fragment && window.location.hash.length > 1) {
  for (const [name, value] of new URLSearchParams(window.location.hash.slice(1))) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    fragment.append(input);
  }
  history.replaceState(null, "", window.location.pathname);
  fragment.submit();
}
`;

/** Where the payer leaves the webview, with the callback parameters of docs/reference/powens-pay-api.md §7.3. */
export interface WebviewExit {
  url: string;
  /** The callback parameters, also the data of the termination message. */
  params: Record<string, string | number>;
}

/**
 * Every exit of the webview: to the merchant at the top level (script, or a meta refresh without
 * JavaScript), or as a \`powensWebviewTermination\` message to the parent when framed. The data
 * carries the callback parameters, plus \`errorDescription\` as Powens' library names it.
 */
export function exitPage(reply: FastifyReply, exit: WebviewExit, lang: string, text: { title: string; link: string }, csp: string) {
  const data: Record<string, string | number> = { ...exit.params };
  if (typeof exit.params.error_description === 'string') data.errorDescription = exit.params.error_description;
  const body = html`<h1>${text.title}</h1><p><a class="button" href="${exit.url}" target="_top" data-exit data-origin="${new URL(exit.url).origin}" data-message="${JSON.stringify(data)}">${text.link}</a></p>`;
  return reply
    .code(200)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .send(page({ lang, title: text.title, body, script: true, noscriptRedirectTo: exit.url }));
}

/**
 * Sends the browser to \`url\`. Same origin: a 303. Another origin (the merchant, a bank): a page
 * that moves on at once, because browsers apply the CSP form-action to every redirect that follows
 * a form, and the pages' form-action stays 'self'.
 */
export function navigate(reply: FastifyReply, url: string, selfOrigin: string, lang: string, text: { title: string; link: string }, csp: string) {
  if (new URL(url, selfOrigin).origin === selfOrigin) return reply.redirect(url, 303);
  const body = html`<h1>${text.title}</h1><p><a class="button" href="${url}">${text.link}</a></p>`;
  return reply
    .code(200)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .send(page({ lang, title: text.title, body, redirectTo: url }));
}

/** A page with one message (a link that is not valid, a payment no longer waiting), under the given CSP. */
export function messagePage(reply: FastifyReply, status: number, text: { title: string; message: string }, csp: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .send(page({ lang: 'en', title: text.title, body: html`<h1>${text.title}</h1><p class="error" role="alert">${text.message}</p>` }));
}
