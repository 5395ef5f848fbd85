/**
 * The Berlin Group HTTP signature (NextGenPSD2 IG §12, draft-cavage-http-signatures-10): `Digest`
 * of the body, `Signature` over digest, x-request-id and the PSU/redirect/date headers present,
 * keyId `SN=<serial hex>,CA=<issuer DN>`, rsa-sha256, and the signing certificate in
 * `TPP-Signature-Certificate`. The signature itself is made by `http-message-signatures`' cavage
 * implementation; this file only chooses what Berlin Group signs.
 */
import { createHash, createPrivateKey, createSign, X509Certificate, type KeyObject } from 'node:crypto';

/** Headers Berlin Group signs when present, besides digest and x-request-id (always). */
const OPTIONAL_SIGNED = ['psu-id', 'psu-corporate-id', 'tpp-redirect-uri', 'date'];

export interface BankSigner {
  keyId: string;
  /** Adds Digest, Signature and TPP-Signature-Certificate to `headers` (which must hold X-Request-ID). */
  sign(request: { method: string; url: string; headers: Record<string, string>; body: string }): Promise<Record<string, string>>;
}

/** RFC 4514 order (most specific first), as Berlin Group's examples write the issuer. */
export function issuerDn(cert: X509Certificate): string {
  return cert.issuer.split('\n').filter(Boolean).reverse().join(',');
}

export function signatureKeyId(cert: X509Certificate): string {
  return `SN=${cert.serialNumber.toUpperCase()},CA=${issuerDn(cert)}`;
}

export function digestHeader(body: string): string {
  return `SHA-256=${createHash('sha256').update(body, 'utf8').digest('base64')}`;
}

export function createBankSigner(signingKeyPem: string, signingCertPem: string): BankSigner {
  const key: KeyObject = createPrivateKey(signingKeyPem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error('the signing key must be an RSA key (Berlin Group signs with rsa-sha256)');
  const cert = new X509Certificate(signingCertPem);
  if (!cert.checkPrivateKey(key)) throw new Error('the signing key does not belong to the signing certificate');
  const keyId = signatureKeyId(cert);
  const certificate = cert.raw.toString('base64');
  return {
    keyId,
    async sign(request) {
      const headers: Record<string, string> = { ...request.headers, Digest: digestHeader(request.body), 'TPP-Signature-Certificate': certificate };
      const present = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
      const fields = ['digest', 'x-request-id', ...OPTIONAL_SIGNED.filter((h) => present.has(h))];
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
