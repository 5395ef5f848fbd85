/** Request headers of the initiation and authorisation calls (docs/reference/berlin-group.md §3). */
import { isIPv4 } from 'node:net';
import type { BerlinGroupProfile } from './profile.ts';

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
  psuUserAgent?: string | null;
  psuAcceptLanguage?: string | null;
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
  Object.assign(headers, psuIdHeaders(input.psuId, profile));
  if (input.psuUserAgent) headers['PSU-User-Agent'] = input.psuUserAgent;
  if (input.psuAcceptLanguage) headers['PSU-Accept-Language'] = input.psuAcceptLanguage;
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
  Object.assign(headers, psuIdHeaders(input.psuId, input.profile));
  return headers;
}
