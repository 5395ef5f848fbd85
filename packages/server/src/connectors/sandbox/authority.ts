/**
 * What the sandbox banks' simulated authorization server (src/http/routes/sandbox-oauth.ts) and
 * their connectors (banks.ts) share: the client's registration, and the keys of both sides. The
 * keys are derived from the installation secret (through `sign`), so every Payrail process of one
 * installation agrees on them without storing any; they sign sandbox tokens only.
 */
import { createECDH, timingSafeEqual } from 'node:crypto';
import type { JWK } from 'jose';

export const SANDBOX_CLIENT_ID = 'payrail-sandbox-client';
export const SANDBOX_CLIENT_KID = 'sandbox-client-1';
export const SANDBOX_AS_KID = 'sandbox-as-1';
export const SANDBOX_SCOPE = 'payments';
/** How long the sandbox's authorization codes live. */
export const SANDBOX_CODE_TTL_MS = 5 * 60 * 1000;

type Sign = (value: string) => string;

/** The simulated authorization server's issuer on this Payrail (its routes live under it). */
export function sandboxIssuer(baseUrl: string): string {
  return `${baseUrl}/2.0/testbank/oauth`;
}

export function sandboxClientSecret(sign: Sign): string {
  return sign('sandbox-oauth.client-secret');
}

/** A P-256 private key (ES256) derived from the installation secret and a purpose. */
function derivedKey(sign: Sign, purpose: 'as' | 'client', kid: string): JWK {
  const d = Buffer.from(sign(`sandbox-oauth.key.${purpose}`), 'base64url');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(); // 0x04 || x || y
  return {
    kty: 'EC',
    crv: 'P-256',
    d: d.toString('base64url'),
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
    kid,
    alg: 'ES256',
    use: 'sig',
  };
}

export function sandboxKeys(sign: Sign): { as: JWK; client: JWK } {
  return { as: derivedKey(sign, 'as', SANDBOX_AS_KID), client: derivedKey(sign, 'client', SANDBOX_CLIENT_KID) };
}

/** A public JWK (the private part removed). */
export function publicJwk(key: JWK): JWK {
  const { d: _d, ...rest } = key;
  return rest;
}

/** What an authorization code stands for; the code is this, signed (the sandbox keeps no table of codes). */
export interface SandboxGrant {
  payment: number;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  nonce: string | null;
  exp: number;
}

export function encodeCode(sign: Sign, grant: SandboxGrant): string {
  const payload = Buffer.from(JSON.stringify(grant)).toString('base64url');
  return `${payload}.${sign(`sandbox-oauth.code.${payload}`)}`;
}

export function decodeCode(sign: Sign, code: string, now: number): SandboxGrant | null {
  const [payload, signature, extra] = code.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(sign(`sandbox-oauth.code.${payload}`));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const grant = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SandboxGrant;
    return grant.exp > now ? grant : null;
  } catch {
    return null;
  }
}
