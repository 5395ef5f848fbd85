/** URL fields: present, a string, absolute; the checks each use adds (registration, origin, query) stay with it. */
import { invalid, missing } from './errors.ts';

/** The URL and the text it was given as. */
export interface CheckedUrl {
  url: URL;
  text: string;
}

export function parseAbsoluteUrl(value: unknown, field: string): CheckedUrl {
  if (value === undefined || value === null || value === '') throw missing(field);
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  try {
    return { url: new URL(value), text: value };
  } catch {
    throw invalid(field, 'must be an absolute URL');
  }
}

export function parseHttpUrl(value: unknown, field: string): CheckedUrl {
  const checked = parseAbsoluteUrl(value, field);
  if (checked.url.protocol !== 'https:' && checked.url.protocol !== 'http:') throw invalid(field, 'must be an http(s) URL');
  return checked;
}
