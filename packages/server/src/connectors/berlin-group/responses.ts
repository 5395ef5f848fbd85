/**
 * Reading the bank's answers defensively: every field may be missing, of another type, or (for
 * links) a bare string instead of `{href}` (ING, docs/reference/berlin-group.md §11). Nothing here trusts a value
 * beyond its shape.
 */
export type Json = Record<string, unknown>;

export function object(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

export function str(value: unknown, max = 500): string | null {
  return typeof value === 'string' && value.trim() !== '' && value.length <= max ? value.trim() : null;
}

/** A link of `_links`, as `{href}` or a bare string. */
export function link(body: Json, name: string): string | null {
  const links = object(body._links);
  const value = links[name];
  return str(typeof value === 'string' ? value : object(value).href, 4000);
}

export function hasLink(body: Json, name: string): boolean {
  return link(body, name) !== null;
}

/** An absolute http(s) URL the payer's browser may be sent to (`scaRedirect`), else null. */
export function browserUrl(href: string | null): string | null {
  if (!href) return null;
  try {
    const url = new URL(href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** `ASPSP-SCA-Approach` (header names are case-insensitive; values upper case in the file). */
export function scaApproachHeader(headers: Record<string, string>): string | null {
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === 'aspsp-sca-approach') return value.trim().toUpperCase();
  return null;
}

/** The ISO 20022 code of `transactionStatus`, as the bank wrote it (kept raw, upper-cased for matching only by the table). */
export function transactionStatus(body: Json): string | null {
  return str(body.transactionStatus, 35);
}
