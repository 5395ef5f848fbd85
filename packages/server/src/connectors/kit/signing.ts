/**
 * HTTP signatures in the draft-cavage form (draft-cavage-http-signatures-10) with a `Digest`
 * (SHA-256) of the body, as the European PSD2 standards use them. What is signed, the `keyId` and
 * whether the certificate travels in a header differ per standard: a `SignatureScheme` says it
 * (Berlin Group's below; STET's in connectors/stet/signature.ts), the module hands it to the
 * bank's transport (`ConnectorModule.signatureScheme`). The signature itself is made by
 * `http-message-signatures`' cavage implementation.
 */
import { createHash, createPrivateKey, createSign, X509Certificate, type KeyObject } from 'node:crypto';

export interface BankSigner {
  keyId: string;
  /** Adds Digest and Signature (and the scheme's certificate header) to `headers` (which must hold X-Request-ID). */
  sign(request: { method: string; url: string; headers: Record<string, string>; body: string }): Promise<Record<string, string>>;
}

/** How one standard (or one bank) signs its requests. */
export interface SignatureScheme {
  /** The `keyId` published with the signature, from the signing certificate. */
  keyId(cert: X509Certificate): string;
  /**
   * The components signed, in order, given the lower-case names of the headers present (Digest
   * included); `@request-target` is written `(request-target)` in the signature.
   */
  fields(present: ReadonlySet<string>): string[];
  /** A header that carries the signing certificate (base64 DER), when the standard wants one. */
  certificateHeader?: string;
}

/** RFC 4514 order (most specific first), as Berlin Group's examples write the issuer. */
export function issuerDn(cert: X509Certificate): string {
  return cert.issuer.split('\n').filter(Boolean).reverse().join(',');
}

export function signatureKeyId(cert: X509Certificate): string {
  return `SN=${cert.serialNumber.toUpperCase()},CA=${issuerDn(cert)}`;
}

/** Headers Berlin Group signs when present, besides digest and x-request-id (always). */
const BG_OPTIONAL_SIGNED = ['psu-id', 'psu-corporate-id', 'tpp-redirect-uri', 'date'];

/**
 * NextGenPSD2 IG §12: `Signature` over digest, x-request-id and the PSU/redirect/date headers
 * present, keyId `SN=<serial hex>,CA=<issuer DN>`, rsa-sha256, and the signing certificate in
 * `TPP-Signature-Certificate`.
 */
export const BERLIN_GROUP_SIGNATURE: SignatureScheme = {
  keyId: signatureKeyId,
  fields: (present) => ['digest', 'x-request-id', ...BG_OPTIONAL_SIGNED.filter((h) => present.has(h))],
  certificateHeader: 'TPP-Signature-Certificate',
};

export function digestHeader(body: string): string {
  return `SHA-256=${createHash('sha256').update(body, 'utf8').digest('base64')}`;
}

export function createBankSigner(signingKeyPem: string, signingCertPem: string, scheme: SignatureScheme = BERLIN_GROUP_SIGNATURE): BankSigner {
  const key: KeyObject = createPrivateKey(signingKeyPem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error('the signing key must be an RSA key (the PSD2 standards sign with rsa-sha256)');
  const cert = new X509Certificate(signingCertPem);
  if (!cert.checkPrivateKey(key)) throw new Error('the signing key does not belong to the signing certificate');
  const keyId = scheme.keyId(cert);
  const certificate = cert.raw.toString('base64');
  return {
    keyId,
    async sign(request) {
      const headers: Record<string, string> = { ...request.headers, Digest: digestHeader(request.body) };
      if (scheme.certificateHeader) headers[scheme.certificateHeader] = certificate;
      const present = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
      const fields = scheme.fields(present);
      // Loaded on the first signed call, not at start-up (docs/performance.md).
      const { cavage } = await import('http-message-signatures');
      const signed = await cavage.signMessage(
        {
          key: { sign: async (data: Buffer) => createSign('RSA-SHA256').update(data).sign(key) },
          fields,
          params: ['keyid', 'alg'],
          paramValues: { keyid: keyId, alg: 'rsa-v1_5-sha256' },
        },
        { method: request.method, url: request.url, headers },
      );
      return signed.headers as Record<string, string>;
    },
  };
}
