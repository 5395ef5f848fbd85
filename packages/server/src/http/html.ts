/** Minimal auto-escaping HTML helpers for server-rendered pages. */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A fragment of trusted HTML: only produced by `html` below, so interpolated values are always escaped. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) out += item instanceof SafeHtml ? item.value : item === null || item === undefined || item === false ? '' : escapeHtml(item);
    out += strings[i + 1]!;
  });
  return new SafeHtml(out);
}
