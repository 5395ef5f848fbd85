/** Request headers of the initiation and authorisation calls (docs/reference/berlin-group.md §3). */
import { isIPv4 } from 'node:net';
import type { PsuHttp } from '../kit/types.ts';
import type { BerlinGroupProfile, PsuHeader } from './profile.ts';

/**
 * `PSU-IP-Address` must be an IPv4 address (format `ipv4` in 1.3.12): the payer's, unwrapped from an
 * IPv4-mapped IPv6 address, else the TPP's own as the standard says.
 */
export function psuIpAddress(payerIp: string | null | undefined, profile: BerlinGroupProfile): string {
  const ip = (payerIp ?? '').trim().replace(/^::ffff:/i, '');
  return isIPv4(ip) ? ip : profile.tpp_ip_address;
}

export interface InitiationHeaderInput {
  profile: BerlinGroupProfile;
  payerIp: string | null | undefined;
  returnUrls: { ok: string; nok: string };
  psuId: string | null;
  /** The payer's browser request, when the payer is at Payrail's page (never stored). */
  psuHttp?: PsuHttp | null;
}

const PSU_SOURCE: Record<PsuHeader, keyof PsuHttp> = {
  'PSU-IP-Port': 'ip_port',
  'PSU-User-Agent': 'user_agent',
  'PSU-Accept': 'accept',
  'PSU-Accept-Charset': 'accept_charset',
  'PSU-Accept-Encoding': 'accept_encoding',
  'PSU-Accept-Language': 'accept_language',
  'PSU-Http-Method': 'http_method',
};

/** The `PSU-*` context headers the bank's profile lists (`psu_headers`), from the payer's request; none when the payer is not there. */
export function psuContextHeaders(profile: BerlinGroupProfile, http: PsuHttp | null | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!http) return headers;
  for (const name of profile.psu_headers) {
    const value = http[PSU_SOURCE[name]];
    if (value) headers[name] = value;
  }
  return headers;
}

/** Headers for `initiatePayment` (X-Request-ID and signing headers are added by the core). */
export function initiationHeaders(input: InitiationHeaderInput): Record<string, string> {
  const { profile } = input;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'PSU-IP-Address': psuIpAddress(input.payerIp, profile),
  };
  if (profile.embedded) {
    // Embedded SCA: the payer's credentials and code go through Payrail's page.
    headers['TPP-Redirect-Preferred'] = 'false';
  } else if (profile.sca_approach === 'redirect') {
    headers['TPP-Redirect-Preferred'] = 'true';
    headers['TPP-Redirect-URI'] = input.returnUrls.ok;
    headers['TPP-Nok-Redirect-URI'] = input.returnUrls.nok;
  } else {
    headers['TPP-Decoupled-Preferred'] = 'true';
  }
  if (profile.explicit_authorisation) headers['TPP-Explicit-Authorisation-Preferred'] = 'true';
  Object.assign(headers, psuIdHeaders(input.psuId, profile), psuContextHeaders(profile, input.psuHttp));
  return headers;
}

export function psuIdHeaders(psuId: string | null, profile: BerlinGroupProfile): Record<string, string> {
  if (!psuId) return {};
  return { 'PSU-ID': psuId, ...(profile.psu_id_type ? { 'PSU-ID-Type': profile.psu_id_type } : {}) };
}

/** Headers for `startPaymentAuthorisation` and its cancellation twin (body `{}`). */
export function authorisationHeaders(input: InitiationHeaderInput): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'PSU-IP-Address': psuIpAddress(input.payerIp, input.profile),
  };
  if (input.profile.embedded) {
    headers['TPP-Redirect-Preferred'] = 'false';
  } else if (input.profile.sca_approach === 'redirect') {
    headers['TPP-Redirect-Preferred'] = 'true';
    headers['TPP-Redirect-URI'] = input.returnUrls.ok;
    headers['TPP-Nok-Redirect-URI'] = input.returnUrls.nok;
  }
  Object.assign(headers, psuIdHeaders(input.psuId, input.profile), psuContextHeaders(input.profile, input.psuHttp));
  return headers;
}
