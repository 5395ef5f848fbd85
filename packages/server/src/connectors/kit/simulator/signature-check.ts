/**
 * How a simulated bank (STET, Berlin Group) checks a request's draft-cavage signature: the `Digest` against the
 * body, then the `Signature` over the components it lists, with the TPP's certificate.
 */
import { createHash, createVerify, type X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? null);
}

/** The parameters of the `Signature` header (lower-case names), or null without one. */
function parameters(headers: IncomingHttpHeaders): Map<string, string> | null {
  const signature = header(headers, 'signature');
  if (!signature) return null;
  const params = new Map<string, string>();
  for (const m of signature.matchAll(/(\w+)="([^"]*)"/g)) params.set(m[1]!.toLowerCase(), m[2]!);
  return params;
}

/** What the bank sees of a signature without checking it: its `keyId` and the components it lists. */
export function signatureParams(headers: IncomingHttpHeaders): { keyId: string | null; headers: string[] } | null {
  const params = parameters(headers);
  return params ? { keyId: params.get('keyid') ?? null, headers: (params.get('headers') ?? '').split(' ').filter(Boolean) } : null;
}

/** Null when the request is signed right; else why not. */
export function checkSignature(method: string, target: string, headers: IncomingHttpHeaders, raw: Buffer, cert: X509Certificate): string | null {
  const digest = header(headers, 'digest');
  if (raw.length > 0 || digest) {
    const expected = `SHA-256=${createHash('sha256').update(raw).digest('base64')}`;
    if (digest !== expected) return 'Digest does not match the body';
  }
  const params = parameters(headers);
  if (!params) return 'Signature is missing';
  const names = (params.get('headers') ?? '').split(' ').filter(Boolean);
  if (!params.get('signature') || names.length === 0) return 'Signature has no headers or signature';
  for (const required of ['digest', 'x-request-id']) if (!names.includes(required)) return `Signature must cover ${required}`;
  const lines: string[] = [];
  for (const name of names) {
    if (name === '(request-target)') lines.push(`(request-target): ${method.toLowerCase()} ${target}`);
    else {
      const value = header(headers, name);
      if (value === null) return `signed header ${name} is missing`;
      lines.push(`${name}: ${value}`);
    }
  }
  const ok = createVerify('RSA-SHA256').update(lines.join('\n')).verify(cert.publicKey, params.get('signature')!, 'base64');
  return ok ? null : 'Signature does not verify';
}
