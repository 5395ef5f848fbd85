/** Token scopes (docs/reference/powens-pay-api.md §2.2). */
import { invalid, missing } from './errors.ts';

export const SCOPES = [
  'payments:admin',
  'payments:read-only',
  'payments:allow-sensitive',
  'payments:validate',
  'payments:cancel',
  'payments',
  'payment-links:admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes a payment-scoped token may carry: never admin (nor its deprecated alias). */
export const SCOPED_TOKEN_SCOPES: readonly Scope[] = ['payments:validate', 'payments:cancel', 'payments:read-only', 'payments:allow-sensitive'];

/** `payments` is the deprecated alias of `payments:admin`. */
export function isAdmin(scopes: readonly string[]): boolean {
  return scopes.includes('payments:admin') || scopes.includes('payments');
}

/** Reads `scope` given as a space- or comma-separated string or as an array of strings. */
export function parseScopeParam(value: unknown, field = 'scope'): Scope[] {
  if (value === undefined || value === null || value === '') throw missing(field);
  const parts = Array.isArray(value)
    ? value.flatMap((v) => (typeof v === 'string' ? v.split(/[\s,]+/) : [v]))
    : typeof value === 'string'
      ? value.split(/[\s,]+/)
      : null;
  if (!parts) throw invalid(field, 'must be a string or an array of strings');
  const scopes: Scope[] = [];
  for (const part of parts) {
    if (part === '') continue;
    if (typeof part !== 'string' || !SCOPES.includes(part as Scope)) {
      throw invalid(field, `unknown scope ${JSON.stringify(part).slice(0, 60)}; known scopes: ${SCOPES.join(', ')}`);
    }
    if (!scopes.includes(part as Scope)) scopes.push(part as Scope);
  }
  if (scopes.length === 0) throw missing(field);
  return scopes;
}
