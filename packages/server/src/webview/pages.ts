/**
 * The webview's HTML: one function per page of the flow (flow.ts decides which). Server-rendered,
 * local CSS, no inline script (the strict CSP of http/app.ts); forms work without JavaScript.
 */
import { formatMinorUnits } from '../domain/money.ts';
import type { Connector, PaymentField } from '../connectors/kit/types.ts';
import type { PaymentRecord } from '../services/payments.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { page } from './layout.ts';
import { readJson } from '../store/rows.ts';
import type { Lang, Messages } from './i18n.ts';
import { messages } from './i18n.ts';
import { flowPath, type Step } from './flow.ts';

const regionNames: Record<string, Intl.DisplayNames> = {};
function countryName(lang: Lang, code: string): string {
  regionNames[lang] ??= new Intl.DisplayNames([lang], { type: 'region' });
  return regionNames[lang].of(code) ?? code;
}

/** Only where the payer cannot be sent back safely (no registered redirect URI is known). */
export function errorPageHtml(lang: Lang, text: string): string {
  const t = messages(lang);
  return page({ lang, title: t.errorTitle, body: html`<h1>${t.errorTitle}</h1><p class="error" role="alert">${text}</p>`, footer: t.footer });
}

/** What every form of the flow carries: the signed context and the CSRF token. */
export interface FormKeys {
  w: string;
  csrf: string;
}

function hidden(keys: FormKeys): SafeHtml {
  return html`<input type="hidden" name="w" value="${keys.w}"><input type="hidden" name="csrf" value="${keys.csrf}">`;
}

function summary(record: PaymentRecord, t: Messages): SafeHtml {
  const p = record.payment;
  const first = record.instructions[0]!;
  const beneficiary = readJson(first.beneficiary);
  return html`<section class="card" aria-labelledby="summary-title"><h2 id="summary-title" class="visually-hidden">${t.amount}</h2>
<p class="amount">${formatMinorUnits(p.total_minor, p.currency)} ${p.currency}</p>
<dl><dt>${t.beneficiary}</dt><dd>${beneficiary.label ?? beneficiary.identification}</dd>
<dt>${t.reference}</dt><dd>${record.instructions.length > 1 ? `${first.label} (+${record.instructions.length - 1})` : first.label}</dd></dl></section>`;
}

export function bankListHtml(
  lang: Lang,
  keys: FormKeys,
  search: string,
  banks: { matching: number; home: Connector[]; others: Connector[] },
  homeCountry: string,
): SafeHtml {
  const t = messages(lang);
  const groups: [string, Connector[]][] = [
    [t.inCountry.replace('{country}', countryName(lang, homeCountry)), banks.home],
    [t.otherCountries, banks.others],
  ];
  return html`<h2 id="banks-title">${t.chooseBank}</h2>
<form method="get" action="${flowPath(lang)}" class="search" role="search" aria-label="${t.search}"><input type="hidden" name="w" value="${keys.w}">
<div><label for="q">${t.search}</label><input id="q" name="q" type="search" value="${search}" autocomplete="off"></div><button type="submit" class="secondary">${t.searchButton}</button></form>
${banks.matching === 0 ? html`<p role="status">${t.noBank}</p>` : ''}
${groups
  .filter(([, list]) => list.length > 0)
  .map(
    ([title, list], i) => html`<section aria-labelledby="group-${i}"><h3 id="group-${i}">${title}</h3>
<form method="post" action="${flowPath(lang)}">${hidden(keys)}<input type="hidden" name="op" value="choose">
<ul class="banks">${list.map((c) => html`<li><button type="submit" name="connector_uuid" value="${c.descriptor.uuid}">${c.descriptor.name}</button></li>`)}</ul></form></section>`,
  )}`;
}

function fieldInput(field: PaymentField, t: Messages): SafeHtml {
  const id = `field-${field.name}`;
  const label = html`<label for="${id}">${field.label}${field.required ? html` <span class="muted">(${t.required})</span>` : ''}</label>`;
  if (field.type === 'list') {
    return html`${label}<select id="${id}" name="field_${field.name}"${field.required ? html` required` : ''}>${field.required ? '' : html`<option value=""></option>`}${(field.values ?? []).map((v) => html`<option value="${v.value}">${v.label}</option>`)}</select>`;
  }
  return html`${label}<input id="${id}" name="field_${field.name}" type="${field.type === 'password' ? 'password' : 'text'}" autocomplete="off"${field.required ? html` required` : ''}${field.type === 'text' && field.name.includes('sms') ? html` inputmode="numeric" autocomplete="one-time-code"` : ''}>`;
}

function cancelForm(lang: Lang, keys: FormKeys): SafeHtml {
  const t = messages(lang);
  return html`<form method="post" action="${flowPath(lang)}">${hidden(keys)}<input type="hidden" name="op" value="cancel"><div class="actions"><button type="submit" class="danger">${t.cancel}</button></div></form>`;
}

/** The page of one step; `banks` is the bank list's HTML when the step is `banks`. */
export function stepPage(step: Step, record: PaymentRecord, lang: Lang, keys: FormKeys, options: { inputError: boolean; banks?: SafeHtml }): string {
  const t = messages(lang);
  const flow = flowPath(lang);
  const head = html`<h1>${t.title}</h1>${summary(record, t)}${options.inputError ? html`<p class="error" role="alert">${t.errorInput}</p>` : ''}`;
  let body: SafeHtml;
  let script = false;
  switch (step.kind) {
    case 'initiating':
      script = true;
      body = html`${head}<p role="status">${t.initiating}</p><form method="get" action="${flow}" data-autoresume><input type="hidden" name="w" value="${keys.w}"><div class="actions"><button type="submit">${t.checkNow}</button></div></form>`;
      break;
    case 'bankForm':
      body = html`${head}<h2>${step.connector.descriptor.name}</h2>
<form method="post" action="${flow}">${hidden(keys)}<input type="hidden" name="op" value="validate"><input type="hidden" name="connector_uuid" value="${step.connector.descriptor.uuid}">
${step.fields.length ? html`<fieldset class="card"><legend>${t.bankFields}</legend>${step.fields.map((f) => fieldInput(f, t))}</fieldset>` : ''}
${step.needsPayer ? html`<label for="payer_iban">${t.payerAccount}</label><input id="payer_iban" name="payer_iban" required autocomplete="off" spellcheck="false">` : ''}
<div class="actions"><button type="submit">${t.continue}</button><a class="button secondary" href="${flow}?w=${keys.w}">${t.back}</a></div></form>${cancelForm(lang, keys)}`;
      break;
    case 'banks':
      body = html`${head}${options.banks ?? ''}${cancelForm(lang, keys)}`;
      break;
    case 'unknown':
      body = html`${head}<h2>${step.initiating ? t.initiating : t.unknownTitle}</h2>${step.initiating ? '' : html`<p role="status">${t.unknownText}</p>`}
${step.retry ? html`<form method="post" action="${flow}">${hidden(keys)}<input type="hidden" name="op" value="validate"><input type="hidden" name="connector_uuid" value="${step.retry.descriptor.uuid}"><div class="actions"><button type="submit">${t.unknownRetry}</button></div></form>` : html`<p class="muted">${t.unknownWait}</p>`}${cancelForm(lang, keys)}`;
      break;
    case 'redirect':
      body = html`${head}<p>${t.redirecting}</p><div class="actions"><a class="button" href="${step.uri}">${t.goToBank}</a></div>${cancelForm(lang, keys)}`;
      break;
    case 'decoupled':
      script = true;
      body = html`${head}<h2>${t.waitTitle}</h2><p role="status">${step.description ?? ''}</p><p class="muted">${t.waitText}</p>
<form method="post" action="${flow}" data-autoresume>${hidden(keys)}<input type="hidden" name="op" value="resume"><div class="actions"><button type="submit">${t.checkNow}</button></div></form>${cancelForm(lang, keys)}`;
      break;
    case 'fields':
      body = html`${head}<h2>${t.fieldsTitle}</h2>${step.description ? html`<p>${step.description}</p>` : ''}
<form method="post" action="${flow}">${hidden(keys)}<input type="hidden" name="op" value="fields">${step.fields.map((f) => fieldInput(f, t))}
<div class="actions"><button type="submit">${t.continue}</button></div></form>${cancelForm(lang, keys)}`;
      break;
    case 'psu':
      body = html`${head}<h2>${t.psuTitle}</h2><form method="post" action="${flow}">${hidden(keys)}<input type="hidden" name="op" value="psu">
<div class="actions"><button type="submit" name="answer" value="yes">${t.yes}</button><button type="submit" name="answer" value="no" class="secondary">${t.no}</button></div></form>`;
      break;
  }
  return page({ lang, title: t.title, body, script, footer: t.footer });
}
