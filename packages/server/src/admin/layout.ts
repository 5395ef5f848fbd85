/** The dashboard's page shell and stylesheet: local CSS only, no script, one column on a phone. */
import { html, type SafeHtml } from '../http/html.ts';
import type { AdminLang, AdminMessages } from './i18n.ts';

/** No script at all; forms post to the dashboard only. */
export const ADMIN_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export const ADMIN_CSS = `
:root { color-scheme: light; --fg: #15191e; --muted: #4f5a66; --bg: #ffffff; --card: #f5f7fa; --line: #c9d1d9; --accent: #0b57d0; --accent-fg: #ffffff; --ok: #116b2f; --bad: #a8201a; --focus: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: .5rem; top: .5rem; background: var(--bg); padding: .25rem .5rem; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
header.top .brand { font-weight: 700; margin-right: auto; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem .75rem; list-style: none; margin: 0; padding: 0; }
nav a { display: inline-block; padding: .5rem .25rem; min-height: 44px; line-height: 28px; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; border-bottom: 3px solid var(--accent); }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .25rem 0 1rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; margin: .75rem 0; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: .5rem; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--card); white-space: nowrap; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .88em; overflow-wrap: anywhere; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .5rem .75rem; align-items: end; }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
input, select { width: 100%; min-height: 44px; padding: .4rem .5rem; font: inherit; color: var(--fg); background: var(--bg); border: 1px solid #6b7682; border-radius: .35rem; }
button, .button { display: inline-block; min-height: 44px; padding: .5rem 1rem; border-radius: .35rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
button.link { background: transparent; color: var(--accent); border-color: transparent; padding: .5rem .25rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.state { font-weight: 600; } .state-done, .state-accepted, .ok { color: var(--ok); } .state-rejected, .state-expired, .bad { color: var(--bad); }
.muted { color: var(--muted); } .error { color: var(--bad); font-weight: 600; } .notice { color: var(--ok); font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
figure.chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .5rem; }
figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: var(--muted); }
svg .axis { stroke: #6b7682; } svg .tick { font-size: 11px; fill: #4f5a66; }
svg .bar { fill: #0b57d0; } svg .bar.latency { fill: #7c3aed; } svg .rate { fill: none; stroke: #116b2f; stroke-width: 2.5; } svg .dot { fill: #116b2f; }
dl.facts { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; margin: 0; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
ol.timeline li { margin: 0 0 .6rem .75rem; }
.signin { max-width: 26rem; margin: 3rem auto; }
.signin form > div { margin-bottom: .75rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .82rem; margin: .25rem 0; }
details summary { cursor: pointer; min-height: 24px; }
@media (max-width: 40rem) { main { padding: .75rem; } th, td { padding: .4rem; } }
`;

export type Section = 'payments' | 'webhooks' | 'banks' | 'clients' | 'config';

export function adminPage(options: {
  lang: AdminLang;
  t: AdminMessages;
  title: string;
  body: SafeHtml;
  section?: Section;
  operator?: string;
  csrf?: string;
  path?: string;
}): string {
  const { t, lang } = options;
  const sections: Section[] = ['payments', 'webhooks', 'banks', 'clients', 'config'];
  const other: AdminLang = lang === 'fr' ? 'en' : 'fr';
  const back = options.path ?? '/admin/payments';
  const header = options.operator
    ? html`<header class="top"><span class="brand">${t.title}</span>
<nav aria-label="${t.nav}"><ul>${sections.map((s) => html`<li><a href="/admin/${s}"${s === options.section ? html` aria-current="page"` : ''}>${t[s]}</a></li>`)}</ul></nav>
<a href="/admin/lang?to=${other}&amp;back=${encodeURIComponent(back)}" lang="${other}" hreflang="${other}">${other === 'fr' ? 'Français' : 'English'}</a>
<form method="post" action="/admin/logout"><input type="hidden" name="csrf" value="${options.csrf ?? ''}"><button class="link" type="submit">${t.signOut} (${options.operator})</button></form></header>`
    : html`<header class="top"><span class="brand">${t.title}</span><a href="/admin/lang?to=${other}&amp;back=${encodeURIComponent(back)}" lang="${other}" hreflang="${other}">${other === 'fr' ? 'Français' : 'English'}</a></header>`;
  return html`<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${options.title} — ${t.title}</title><link rel="stylesheet" href="/admin/assets/admin.css"></head>
<body><a class="skip" href="#main">${t.skip}</a>${header}<main id="main">${options.body}</main></body></html>`.value;
}

/** A table in a scrollable, focusable region (phones scroll it sideways, keyboards too). */
export function dataTable(label: string, headers: string[], rows: SafeHtml[]): SafeHtml {
  return html`<div class="table-wrap" role="region" aria-label="${label}" tabindex="0"><table><thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}
