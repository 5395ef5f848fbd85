/**
 * Reading a STET bank's answers defensively (every field may be missing or of another type), and
 * finding the payment's id where the bank's profile says it is (docs/reference/stet.md §4: the
 * `Location` header, a parameter of the consent link, its last path segment, or its fragment).
 */
import type { ResourceIdSource } from './profile.ts';

export type Json = Record<string, unknown>;

/**
 * An answer's JSON object. A body that is a JSON string holding an object is read as that object:
 * STET's own file writes every example so (a bank or a mock serving them answers a string).
 */
export function object(value: unknown): Json {
  if (typeof value === 'string' && value.trimStart().startsWith('{') && value.length <= 1_000_000) {
    try {
      return object(JSON.parse(value));
    } catch {
      return {};
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

export function str(value: unknown, max = 500): string | null {
  return typeof value === 'string' && value.trim() !== '' && value.length <= max ? value.trim() : null;
}

export function link(body: Json, name: string): string | null {
  const value = object(body._links)[name];
  return str(typeof value === 'string' ? value : object(value).href, 4000);
}

/** An absolute http(s) URL the payer's browser may be sent to, else null. */
export function browserUrl(href: string | null): string | null {
  if (!href) return null;
  try {
    const url = new URL(href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The file's resource id pattern (`paymentRequestResourceId`), without the space and slash a path segment cannot carry. */
const ID = /^[a-zA-Z0-9_\-?:().,']{1,100}$/;

function clean(value: string | null | undefined): string | null {
  if (!value) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return null;
  }
  return ID.test(decoded) ? decoded : null;
}

function lastSegment(pathname: string): string | null {
  const segments = pathname.split('/').filter(Boolean);
  return clean(segments.at(-1));
}

/**
 * The payment id of a created payment request. `location` names the resource
 * (`…/payment-requests/{id}`, absolute or relative); the other sources read the consent link.
 */
export function resourceIdOf(source: ResourceIdSource, param: string, headers: Record<string, string>, consentLink: string | null): string | null {
  if (source === 'location') {
    const location = headers.location ?? headers['content-location'];
    if (!location) return null;
    try {
      return lastSegment(new URL(location, 'http://bank.invalid').pathname);
    } catch {
      return null;
    }
  }
  if (!consentLink) return null;
  let url: URL;
  try {
    url = new URL(consentLink);
  } catch {
    return null;
  }
  if (source === 'query') return clean(url.searchParams.get(param));
  if (source === 'path') return lastSegment(url.pathname);
  // The fragment: `#obu/{id}?…` (Société Générale) or `#{id}`.
  const fragment = url.hash.replace(/^#/, '').split('?')[0] ?? '';
  return lastSegment(fragment);
}

export function paymentStatus(body: Json): string | null {
  return str(object(body.paymentRequest).paymentInformationStatus, 4) ?? str(body.paymentInformationStatus, 4);
}

export function reasonOf(body: Json): string | null {
  const request = object(body.paymentRequest);
  const direct = str(request.statusReasonInformation, 4);
  if (direct) return direct;
  const transactions = Array.isArray(request.creditTransferTransaction) ? request.creditTransferTransaction : [];
  for (const t of transactions) {
    const reason = str(object(t).statusReasonInformation, 4);
    if (reason) return reason;
  }
  return null;
}

/** Per-instruction `transactionStatus`, by position; null entries where the bank says nothing. */
export function transactionStatuses(body: Json): (string | null)[] {
  const request = object(body.paymentRequest);
  const transactions = Array.isArray(request.creditTransferTransaction) ? request.creditTransferTransaction : [];
  return transactions.map((t) => str(object(t).transactionStatus, 4));
}
