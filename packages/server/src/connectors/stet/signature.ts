/**
 * STET's HTTP signature (draft-cavage, `Digest` SHA-256; docs/reference/stet.md §2): `keyId` in the form
 * the bank wants (a URL to the QSealC, the client id, the certificate's serial, or its base64 DER),
 * and the components the bank's profile lists, `psu-*` standing for every PSU header sent. Digest
 * and X-Request-ID are always signed. No certificate header: the bank fetches it by `keyId`.
 */
import type { SignatureScheme } from '../kit/signing.ts';
import type { StetOptions } from './profile.ts';

export function stetSignatureScheme(profile: Pick<StetOptions, 'key_id_form' | 'key_id' | 'client_id' | 'signed_headers'>): SignatureScheme {
  return {
    keyId(cert) {
      switch (profile.key_id_form) {
        case 'client_id':
          return profile.client_id;
        case 'serial':
          return cert.serialNumber.toUpperCase();
        case 'der':
          return cert.raw.toString('base64');
        default:
          return profile.key_id ?? cert.serialNumber.toUpperCase();
      }
    },
    fields(present) {
      const out: string[] = [];
      const add = (name: string) => {
        if (!out.includes(name)) out.push(name);
      };
      for (const wanted of profile.signed_headers) {
        if (wanted === '(request-target)') add('@request-target');
        else if (wanted.endsWith('*')) for (const h of [...present].filter((p) => p.startsWith(wanted.slice(0, -1))).sort()) add(h);
        else if (present.has(wanted)) add(wanted);
      }
      for (const always of ['digest', 'x-request-id']) if (!out.includes(always)) out.push(always);
      return out;
    },
  };
}
