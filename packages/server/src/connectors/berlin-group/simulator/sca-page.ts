/**
 * The simulated bank's SCA page: what the payer sees between the TPP's hand-off and the return.
 * The kit's bank page (kit/simulator/page.ts); the buttons are labelled exactly Approve and Refuse
 * so tests and people find them.
 */
import { html, type SafeHtml } from '../../../http/html.ts';
import { bankPage, groupedIban, resultPage as kitResultPage, type Page } from '../../kit/simulator/page.ts';
import type { Authorisation, SimulatedPayment } from './ledger.ts';
import { vopNotice } from './vop.ts';

export type { Page } from '../../kit/simulator/page.ts';

const BANK = 'Berlin Group NextGenPSD2';

interface Transfer {
  instructedAmount?: { amount?: string; currency?: string };
  creditorName?: string;
  creditorAccount?: { iban?: string };
  remittanceInformationUnstructured?: string;
}

const grouped = groupedIban;

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
  const body = payment.body as Transfer & { payments?: Transfer[] };
  const notice = payment.vop ? vopNotice(payment.vop, (Array.isArray(body.payments) ? body.payments[0] : body)?.creditorName ?? '') : null;
  return bankPage(
    BANK,
    title,
    html`<h1>${title}</h1>${describe(payment)}
    ${notice ? html`<section aria-label="Verification of Payee"><h2>${notice.title}</h2><p>${notice.text}</p></section>` : ''}
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
  return kitResultPage(BANK, title, text, back);
}
