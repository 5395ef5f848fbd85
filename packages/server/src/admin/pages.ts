/** The dashboard's pages, rendered from what queries.ts reads. Every value goes through `html` (escaped). */
import { payeeVerificationOf } from '../connectors/kit/payee-verification.ts';
import type { Connector } from '../connectors/kit/types.ts';

/** A connector's name from the registry's list (banks removed since included), else its uuid. */
function bankName(connectors: readonly Connector[], uuid: string): string {
  return connectors.find((c) => c.descriptor.uuid === uuid)?.descriptor.name ?? uuid;
}
import { formatMinorUnits } from '../domain/money.ts';
import { PAYMENT_STATES } from '../domain/states.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { CONFIG_KEYS } from '../services/config.ts';
import { latencyChart, volumeChart } from './charts.ts';
import type { AdminMessages } from './i18n.ts';
import { dataTable } from './layout.ts';
import type {
  clientsWithRedirects,
  configuredBanks,
  connectorUsage,
  dailyVolume,
  dailyWebhookLatency,
  domainConfigs,
  endpointHealth,
  PaymentFilters,
  paymentTimeline,
  searchPayments,
} from './queries.ts';

type Awaited2<T extends (...args: never[]) => unknown> = Awaited<ReturnType<T>>;

export function when(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '' : new Date(Number(ms)).toISOString().slice(0, 19).replace('T', ' ');
}

function percent(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 100)} %`;
}

function stateBadge(state: string): SafeHtml {
  return html`<span class="state state-${state}">${state}</span>`;
}

export function paymentsPage(
  t: AdminMessages,
  filters: PaymentFilters,
  result: Awaited2<typeof searchPayments> | null,
  error: string | null,
  volume: Awaited2<typeof dailyVolume>,
  query: string,
  connectors: readonly Connector[],
): SafeHtml {
  const field = (name: keyof PaymentFilters, label: string, type = 'text') =>
    html`<div><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" value="${filters[name] ?? ''}"></div>`;
  const total = volume.reduce((s, p) => s + p.count, 0);
  const rated = volume.filter((p) => p.rate !== null);
  const rate = rated.length ? rated.reduce((s, p) => s + p.rate! * p.count, 0) / rated.reduce((s, p) => s + p.count, 0) : null;
  const rows = (result?.rows ?? []).map(
    (r) => html`<tr><td class="num"><a href="/admin/payments/${r.id}">${r.id}</a></td><td>${stateBadge(r.state)}</td>
<td class="num">${formatMinorUnits(r.total_minor, r.currency)} ${r.currency}</td><td class="mono">${r.client_state ?? ''}</td><td class="num">${when(r.register_date)}</td>
<td>${r.connector_uuid ? bankName(connectors, r.connector_uuid) : ''}</td><td>${r.domain}</td></tr>`,
  );
  const pages = result ? Math.max(1, Math.ceil(result.total / 50)) : 1;
  const link = (page: number) => `/admin/payments?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(query)), page: String(page) })}`;
  return html`<h1>${t.payments}</h1>
<div class="charts">${volumeChart(volume, t.volumeChart, t.volumeSummary(total, percent(rate)))}</div>
<h2 id="filters">${t.filters}</h2>
<form class="filters" method="get" action="/admin/payments" aria-labelledby="filters">
${field('id', t.id)}
<div><label for="f-state">${t.state}</label><select id="f-state" name="state"><option value="">${t.anyState}</option>${PAYMENT_STATES.map((s) => html`<option value="${s}"${filters.state === s ? html` selected` : ''}>${s}</option>`)}</select></div>
${field('client_state', t.clientState)}${field('amount', t.amount)}${field('currency', t.currency)}${field('min_date', t.fromDate, 'date')}${field('max_date', t.toDate, 'date')}${field('domain', t.domain)}
<div><button type="submit">${t.search}</button></div></form>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
${
  result
    ? html`<p class="muted" role="status">${t.results(result.rows.length, result.total)}</p>
${result.rows.length ? dataTable(t.payments, [t.id, t.state, t.amount, t.clientState, t.registered, t.bank, t.domain], rows) : html`<p>${t.noPayments}</p>`}
${pages > 1 ? html`<p>${result.page > 1 ? html`<a href="${link(result.page - 1)}">${t.previous}</a> ` : ''}${result.page < pages ? html`<a href="${link(result.page + 1)}">${t.next}</a>` : ''}</p>` : ''}`
    : ''
}`;
}

export function timelinePage(
  t: AdminMessages,
  data: NonNullable<Awaited2<typeof paymentTimeline>>,
  csrf: string,
  notice: string | null,
  connectors: readonly Connector[],
): SafeHtml {
  const p = data.payment;
  const events = data.events.map(
    (e) =>
      html`<li><span class="num">${when(e.created_at)}</span> — ${e.type === 'state_changed' ? html`${e.from_state ?? '∅'} → ${stateBadge(e.to_state ?? '')}` : e.type}${e.data ? html` <span class="muted mono">${e.data}</span>` : ''}</li>`,
  );
  // A payment initiated more than once shows its attempts, and which attempt each exchange belongs to.
  const several = data.attempts.length > 1;
  const exchanges = data.exchanges.map(
    (
      x,
    ) => html`<tr>${several ? html`<td class="num">${x.attempt ?? '—'}</td>` : ''}<td class="num">${when(x.created_at)}</td><td class="mono">${x.method} ${x.path}</td><td class="num">${x.status ?? '—'}</td><td class="num">${x.duration_ms} ms</td>
<td class="mono">${x.request_id}</td><td>${x.error ?? ''}${x.request_body || x.response_body ? html`<details><summary>${t.detail}</summary><pre>${x.request_body ?? ''}</pre><pre>${x.response_body ?? ''}</pre></details>` : ''}</td></tr>`,
  );
  const attempts = data.attempts.map(
    (
      a,
    ) => html`<tr><td class="num">${a.number}${a.current ? html` <span class="muted">(${t.current})</span>` : ''}</td><td>${bankName(connectors, a.connector_uuid)}</td>
<td class="mono">${a.bank_payment_id ?? '—'}</td><td class="mono">${a.bank_status ?? '—'}</td><td>${a.outcome}</td><td class="num">${when(a.created_at)}</td><td class="num">${a.calls}</td></tr>`,
  );
  const deliveries = data.deliveries.map(
    (d) => html`<tr><td class="num">#${d.id}</td><td class="mono">${d.url}</td><td>${d.announced ? stateBadge(d.announced) : ''}</td><td>${d.status}</td>
<td><ul class="attempts">${d.attempts.map((a) => html`<li class="attempt"><span class="${a.error ? 'bad' : 'ok'}">${a.status_code ?? a.error ?? '—'}</span> · ${a.duration_ms} ms · ${when(a.attempted_at)}</li>`)}</ul></td>
<td><form method="post" action="/admin/deliveries/${d.id}/replay"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" aria-label="${`${t.replay} #${d.id}`}">${t.replay}</button></form></td></tr>`,
  );
  // The current attempt's raw bank status, and the payee's name check when the bank made one.
  const current = data.attempts.find((a) => a.current) ?? data.attempts.at(-1);
  const payee = current ? payeeVerificationOf(current.connector_data) : null;
  const bankFacts = html`${current?.bank_status ? html`<dt>${t.bankStatus}</dt><dd class="mono">${current.bank_status}</dd>` : ''}${
    payee
      ? html`<dt>${t.payeeCheck}</dt><dd>${payee.result ? t.payeeResults[payee.result] : t.payeeUnknown} <span class="muted mono">(${payee.bank_code})</span></dd>`
      : ''
  }`;
  return html`<h1>${t.payment} ${p.id} ${stateBadge(p.state)}</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<div class="card"><dl class="facts"><dt>${t.amount}</dt><dd>${formatMinorUnits(Number(p.total_minor), p.currency)} ${p.currency} (${data.instructions.length})</dd>
<dt>${t.clientState}</dt><dd class="mono">${p.client_state ?? ''}</dd><dt>${t.bank}</dt><dd>${p.connector_uuid ? bankName(connectors, p.connector_uuid) : '—'}</dd>
<dt>${t.domain}</dt><dd>${p.domain}</dd><dt>${t.registered}</dt><dd>${when(p.register_date)}</dd>${bankFacts}${p.error_code ? html`<dt>${t.error}</dt><dd>${p.error_code}: ${p.error_description ?? ''}</dd>` : ''}</dl></div>
<h2 id="changes">${t.stateChanges}</h2><ol class="timeline" aria-labelledby="changes">${events}</ol>
${
  several
    ? html`<h2>${t.bankAttempts}</h2>${dataTable(t.bankAttempts, [t.attempt, t.bank, t.bankPaymentId, t.bankStatus, t.outcome, t.started, t.calls], attempts)}
`
    : ''
}<h2>${t.bankExchanges}</h2>${exchanges.length ? dataTable(t.bankExchanges, [...(several ? [t.attempt] : []), t.when, 'HTTP', t.status, t.duration, 'X-Request-ID', t.detail], exchanges) : html`<p class="muted">${t.noBankExchanges}</p>`}
<h2>${t.deliveries}</h2>${deliveries.length ? dataTable(t.deliveries, ['#', t.endpoint, t.state, t.status, t.attempts, ''], deliveries) : html`<p class="muted">${t.noDeliveries}</p>`}`;
}

export function webhooksPage(t: AdminMessages, endpoints: Awaited2<typeof endpointHealth>, latency: Awaited2<typeof dailyWebhookLatency>): SafeHtml {
  const measured = latency.filter((p) => p.avg !== null);
  const count = measured.reduce((s, p) => s + p.count, 0);
  const avg = count ? `${Math.round(measured.reduce((s, p) => s + p.avg! * p.count, 0) / count)} ms` : '—';
  const rows = endpoints.map(
    (e) => html`<tr><td class="num">${e.id}</td><td class="mono">${e.url}</td><td>${e.domain}</td><td>${e.enabled ? t.yes : t.no}</td>
<td class="num ${e.rate === null ? '' : e.rate >= 0.95 ? 'ok' : 'bad'}">${percent(e.rate)} (${e.attempts})</td><td>${e.lastError ? html`${e.lastError.error} <span class="muted">${when(e.lastError.attempted_at)}</span>` : '—'}</td><td class="num">${e.backlog}</td></tr>`,
  );
  return html`<h1>${t.webhooks}</h1><div class="charts">${latencyChart(latency, t.latencyChart, t.latencySummary(avg))}</div>
<h2>${t.endpoint}</h2>${dataTable(t.webhooks, ['#', 'URL', t.domain, t.enabled, t.successRate, t.lastError, t.backlog], rows)}`;
}

export function banksPage(
  t: AdminMessages,
  banks: Awaited2<typeof configuredBanks>,
  usage: Awaited2<typeof connectorUsage>,
  connectors: readonly Connector[],
): SafeHtml {
  const builtIn = connectors
    .filter((c) => c.bank === null)
    .map((c) => {
      const u = usage(c.descriptor.uuid);
      return html`<tr><td>${c.descriptor.name}</td><td class="mono">${c.descriptor.uuid}</td><td>${c.descriptor.countries.join(', ')}</td><td>${c.descriptor.beta ? 'beta' : c.descriptor.hidden ? 'hidden' : 'active'}</td><td class="num">${u.count} (${u.done} done)</td></tr>`;
    });
  const configured = banks.map(
    (b) => html`<tr><td>${b.name}</td><td class="mono">${b.uuid}</td><td>${b.standard}</td><td class="mono">${b.base_url}</td><td>${b.country ?? ''}</td>
<td class="num"><span class="ok">${b.ok}</span> / <span class="${b.refused ? 'bad' : ''}">${b.refused}</span> / <span class="${b.unknown ? 'bad' : ''}">${b.unknown}</span></td></tr>`,
  );
  return html`<h1>${t.banks}</h1><h2>${t.builtInConnectors}</h2>${dataTable(t.builtInConnectors, [t.name, 'UUID', t.countries, t.status, t.payments30d], builtIn)}
<h2>${t.configuredBanks}</h2>${configured.length ? dataTable(t.configuredBanks, [t.name, 'UUID', t.standard, 'URL', t.countries, t.attempts24h], configured) : html`<p class="muted">${t.noBanks}</p>`}`;
}

export function clientsPage(t: AdminMessages, clients: Awaited2<typeof clientsWithRedirects>): SafeHtml {
  const rows = clients.map(
    (c) =>
      html`<tr><td>${c.name}</td><td class="mono">${c.client_id}</td><td>${c.domain}</td><td><ul>${c.redirect_uris.map((u) => html`<li class="mono">${u}</li>`)}</ul></td><td class="num">${when(c.created_at)}</td></tr>`,
  );
  return html`<h1>${t.clients}</h1>${dataTable(t.clients, [t.name, t.clientId, t.domain, t.redirectUris, t.registered], rows)}`;
}

export function configPage(t: AdminMessages, domains: Awaited2<typeof domainConfigs>): SafeHtml {
  return html`<h1>${t.config}</h1>${domains.map(
    (d) =>
      html`<h2>${t.domain}: ${d.name}</h2>${dataTable(
        `${t.config} ${d.name}`,
        [t.key, t.value],
        Object.entries(CONFIG_KEYS).map(
          ([key, spec]) =>
            html`<tr><td class="mono">${key}</td><td class="mono">${d.values[key] ?? spec.default}${d.values[key] === undefined ? html` <span class="muted">(default)</span>` : ''}</td></tr>`,
        ),
      )}`,
  )}`;
}
