/**
 * The simulated bank's SCA page: what the payer sees between the TPP's hand-off and the return.
 * A plain HTML form (works without JavaScript) under a strict CSP; the buttons are labelled
 * exactly Approve and Refuse so tests and people find them.
 */
import { randomBytes } from 'node:crypto';
import { html, type SafeHtml } from '../../../http/html.ts';
import type { Authorisation, SimulatedPayment } from './ledger.ts';

export interface Page {
  body: string;
  headers: Record<string, string>;
}

/** `form-action` also governs the redirect after the POST: the TPP's return URIs must be allowed. */
function page(title: string, content: SafeHtml, formTargets: string[] = []): Page {
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
.note{color:#44505c;font-size:.9rem}
</style></head>
<body><main><p class="note">Payrail sandbox bank (Berlin Group NextGenPSD2 simulator)</p>${content}</main></body></html>`;
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

interface Transfer {
  instructedAmount?: { amount?: string; currency?: string };
  creditorName?: string;
  creditorAccount?: { iban?: string };
  remittanceInformationUnstructured?: string;
}

/** IBANs in groups of four, as banks print them. */
const grouped = (iban: string | undefined) => iban?.replace(/(.{4})(?=.)/g, '$1 ');

function describe(payment: SimulatedPayment): SafeHtml {
  const body = payment.body as Transfer & { payments?: Transfer[]; debtorAccount?: { iban?: string }; frequency?: string; startDate?: string };
  const transfers = Array.isArray(body.payments) ? body.payments : [body];
  const rows = transfers.map(
    (t, i) => html`
    ${transfers.length > 1 ? html`<dt>Payment ${i + 1}</dt><dd></dd>` : ''}
    <dt>Amount</dt><dd>${t.instructedAmount?.amount} ${t.instructedAmount?.currency}</dd>
    <dt>To</dt><dd>${t.creditorName}</dd>
    <dt>Account</dt><dd>${grouped(t.creditorAccount?.iban)}</dd>
    ${t.remittanceInformationUnstructured ? html`<dt>Reference</dt><dd>${t.remittanceInformationUnstructured}</dd>` : ''}`,
  );
  return html`<dl>${rows}
    ${body.frequency ? html`<dt>Every</dt><dd>${body.frequency} from ${body.startDate}</dd>` : ''}
    ${body.debtorAccount?.iban ? html`<dt>From</dt><dd>${grouped(body.debtorAccount.iban)}</dd>` : ''}</dl>`;
}

export function scaPage(payment: SimulatedPayment, authorisation: Authorisation, action: string): Page {
  const cancelling = authorisation.kind === 'cancellation';
  const title = cancelling ? 'Cancel this payment?' : 'Confirm this payment';
  const targets = [payment.redirectUri, payment.nokRedirectUri].filter((u): u is string => !!u);
  return decisionPage(payment, title, action, { token: authorisation.formToken }, targets);
}

/** The payment and the two buttons; `hidden` fields go back with the decision (the form token above all). */
export function decisionPage(payment: SimulatedPayment, title: string, action: string, hidden: Record<string, string>, targets: string[]): Page {
  const fields = Object.entries(hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return page(
    title,
    html`<h1>${title}</h1>${describe(payment)}
    <form method="post" action="${action}">
      ${fields}
      <div class="actions"><button type="submit" name="decision" value="approve">Approve</button>
      <button type="submit" name="decision" value="refuse">Refuse</button></div>
    </form>`,
    targets,
  );
}

/** Shown when nothing is left to decide, or after a decision on a decoupled authorisation. */
export function resultPage(title: string, text: string, back: string | null): Page {
  return page(title, html`<h1>${title}</h1><p>${text}</p>${back ? html`<p><a href="${back}">Back to the merchant</a></p>` : ''}`);
}
