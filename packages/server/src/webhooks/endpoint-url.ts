/** A webhook URL's form, and the policy endpoints and auth providers are registered under. */
import { invalid } from '../domain/errors.ts';
import { parseHttpUrl } from '../domain/urls.ts';
import type { Keyring } from '../services/secret-box.ts';

export function checkEndpointUrl(value: unknown, field = 'url'): string {
  if (typeof value === 'string' && value.length > 2048) throw invalid(field, 'must be a URL of at most 2048 characters');
  const { url, text } = parseHttpUrl(value, field);
  if (url.username || url.password) throw invalid(field, 'must not carry credentials');
  if (url.hash) throw invalid(field, 'must not contain a fragment');
  return text;
}

export interface EndpointPolicy {
  keyring: Keyring;
  /** Loopback and private addresses accepted (development). */
  allowPrivate: boolean;
}
