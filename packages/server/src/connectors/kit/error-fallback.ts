/**
 * When no code of a bank's refusal maps to a Powens error code: by HTTP status, the same for every
 * standard (a 401/404/405/406/415 is a fault of the request Payrail sent, so `bug`; a 400 names a
 * value; the rest gives no reason).
 */
export const FALLBACK_BY_HTTP: Readonly<Record<string, string>> = {
  '400': 'invalidValue',
  '401': 'bug',
  '403': 'noSpecifiedReason',
  '404': 'bug',
  '405': 'bug',
  '406': 'bug',
  '409': 'noSpecifiedReason',
  '415': 'bug',
  other: 'noSpecifiedReason',
};
