/** Server-rendered SVG pictures (no script): daily volume with success rate, webhook latency. */
import { html, type SafeHtml } from '../http/html.ts';
import type { DayPoint } from './queries.ts';

const W = 560;
const H = 180;
const PAD = { left: 40, right: 40, top: 12, bottom: 24 };

function dayLabel(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(5, 10);
}

function frame(title: string, summary: string, inner: SafeHtml[]): SafeHtml {
  return html`<figure class="chart"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${`${title}: ${summary}`}" preserveAspectRatio="xMidYMid meet">
<title>${title}</title>${inner}</svg><figcaption>${title} — ${summary}</figcaption></figure>`;
}

function axis(days: number[], max: number, unit: string): SafeHtml[] {
  const x0 = PAD.left;
  const y0 = H - PAD.bottom;
  const step = (W - PAD.left - PAD.right) / days.length;
  return [
    html`<line class="axis" x1="${x0}" y1="${y0}" x2="${W - PAD.right}" y2="${y0}"/>`,
    html`<text class="tick" x="${x0 - 4}" y="${PAD.top + 8}" text-anchor="end">${`${Math.round(max)}${unit}`}</text>`,
    html`<text class="tick" x="${x0 - 4}" y="${y0}" text-anchor="end">0</text>`,
    ...days
      .filter((_, i) => i % 2 === 0)
      .map((d) => {
        const i = days.indexOf(d);
        return html`<text class="tick" x="${x0 + step * i + step / 2}" y="${H - 6}" text-anchor="middle">${dayLabel(d)}</text>`;
      }),
  ];
}

/** Bars: payments per day; line: success rate (right axis, 0–100 %). */
export function volumeChart(points: DayPoint[], title: string, summary: string): SafeHtml {
  const max = Math.max(1, ...points.map((p) => p.count));
  const step = (W - PAD.left - PAD.right) / points.length;
  const plotH = H - PAD.top - PAD.bottom;
  const bars = points.map((p, i) => {
    const h = (p.count / max) * plotH;
    return html`<rect class="bar" x="${(PAD.left + step * i + step * 0.15).toFixed(1)}" y="${(H - PAD.bottom - h).toFixed(1)}" width="${(step * 0.7).toFixed(1)}" height="${h.toFixed(1)}"><title>${`${dayLabel(p.day)}: ${p.count}`}</title></rect>`;
  });
  const rated = points.map((p, i) => ({ p, i })).filter(({ p }) => p.rate !== null);
  const line = rated.map(({ p, i }) => `${(PAD.left + step * i + step / 2).toFixed(1)},${(H - PAD.bottom - p.rate! * plotH).toFixed(1)}`).join(' ');
  const dots = rated.map(
    ({ p, i }) =>
      html`<circle class="dot" cx="${(PAD.left + step * i + step / 2).toFixed(1)}" cy="${(H - PAD.bottom - p.rate! * plotH).toFixed(1)}" r="3"><title>${`${dayLabel(p.day)}: ${Math.round(p.rate! * 100)} %`}</title></circle>`,
  );
  return frame(title, summary, [
    ...axis(
      points.map((p) => p.day),
      max,
      '',
    ),
    html`<text class="tick" x="${W - PAD.right + 4}" y="${PAD.top + 8}">100 %</text>`,
    ...bars,
    rated.length > 1 ? html`<polyline class="rate" points="${line}"/>` : html``,
    ...dots,
  ]);
}

/** Bars: average webhook latency per day, in ms. */
export function latencyChart(points: { day: number; avg: number | null; count: number }[], title: string, summary: string): SafeHtml {
  const max = Math.max(1, ...points.map((p) => p.avg ?? 0));
  const step = (W - PAD.left - PAD.right) / points.length;
  const plotH = H - PAD.top - PAD.bottom;
  const bars = points
    .filter((p) => p.avg !== null)
    .map((p) => {
      const i = points.indexOf(p);
      const h = (p.avg! / max) * plotH;
      return html`<rect class="bar latency" x="${(PAD.left + step * i + step * 0.15).toFixed(1)}" y="${(H - PAD.bottom - h).toFixed(1)}" width="${(step * 0.7).toFixed(1)}" height="${h.toFixed(1)}"><title>${`${dayLabel(p.day)}: ${Math.round(p.avg!)} ms (${p.count})`}</title></rect>`;
    });
  return frame(title, summary, [
    ...axis(
      points.map((p) => p.day),
      max,
      ' ms',
    ),
    ...bars,
  ]);
}
