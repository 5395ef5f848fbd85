/**
 * UK Open Banking's detached JWS (`x-jws-signature`, read/write data API profile, "Message
 * Signing"): PS256, `kid`, and the three Open Banking claims `http://openbanking.org.uk/iat`,
 * `…/iss` and `…/tan` in the protected header, all listed in `crit`. Banks on 3.1.3 or older also
 * want `b64: false` (RFC 7797: the body signed as is, not base64url-encoded) with `b64` in `crit`;
 * later versions dropped it. The value sent is `<protected>..<signature>`: the body travels apart.
 * Used by the connector (signing requests, verifying answers) and the model bank (the reverse).
 */
import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';

export const OB_IAT = 'http://openbanking.org.uk/iat';
export const OB_ISS = 'http://openbanking.org.uk/iss';
export const OB_TAN = 'http://openbanking.org.uk/tan';
/** jose refuses a `crit` name it does not know: these three are declared as understood. */
const RECOGNISED = { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } as const;
const encoder = new TextEncoder();

export interface DetachedSigningOptions {
  kid: string;
  /** `http://openbanking.org.uk/iss`: the TPP's `{org-id}/{software-statement-id}` (or the bank's id on answers). */
  iss: string;
  /** `http://openbanking.org.uk/tan`: the trust anchor's domain. */
  tan: string;
  /** `b64: false` (3.1.3 and older). */
  unencodedPayload: boolean;
  now: number;
}

/** Signs `body` (the exact bytes sent) and returns the detached compact JWS. */
export async function signDetached(body: string, key: KeyObject, options: DetachedSigningOptions): Promise<string> {
  const { FlattenedSign } = await import('jose');
  const crit = [...(options.unencodedPayload ? ['b64'] : []), OB_IAT, OB_ISS, OB_TAN];
  const header = {
    alg: 'PS256',
    kid: options.kid,
    typ: 'JOSE',
    cty: 'application/json',
    ...(options.unencodedPayload ? { b64: false } : {}),
    [OB_IAT]: Math.floor(options.now / 1000) - 1,
    [OB_ISS]: options.iss,
    [OB_TAN]: options.tan,
    crit,
  };
  const jws = await new FlattenedSign(encoder.encode(body)).setProtectedHeader(header).sign(key, { crit: RECOGNISED });
  return `${jws.protected}..${jws.signature}`;
}

export type DetachedCheck =
  | { ok: true; header: Record<string, unknown> }
  /** `missing`: no signature; `malformed`: not a detached JWS; `claims`: an Open Banking claim missing or wrong; `invalid`: the signature does not verify. */
  | { ok: false; reason: 'missing' | 'malformed' | 'claims' | 'invalid'; detail: string };

export interface DetachedVerifyOptions {
  now: number;
  /** The `http://openbanking.org.uk/iss` expected, when known. */
  iss?: string;
  /** Trust anchors accepted in `tan` (default: any non-empty). */
  tan?: readonly string[];
}

/**
 * Verifies a detached JWS over `body` against a key set (the other side's JWKS) or one public key:
 * PS256 only, the three claims present (`iat` a past number), `crit` exactly those (plus `b64`
 * when the payload is unencoded), then the signature over the exact bytes.
 */
export async function verifyDetached(
  signature: string | undefined,
  body: string,
  keys: JSONWebKeySet | KeyObject,
  options: DetachedVerifyOptions,
): Promise<DetachedCheck> {
  if (!signature) return { ok: false, reason: 'missing', detail: 'no x-jws-signature' };
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2]) return { ok: false, reason: 'malformed', detail: 'not <protected>..<signature>' };
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed', detail: 'the protected header is not JSON' };
  }
  if (header.alg !== 'PS256') return { ok: false, reason: 'claims', detail: 'alg must be PS256' };
  if (typeof header.kid !== 'string' || header.kid === '') return { ok: false, reason: 'claims', detail: 'kid missing' };
  const iat = header[OB_IAT];
  if (typeof iat !== 'number' || iat * 1000 > options.now + 60_000) return { ok: false, reason: 'claims', detail: `${OB_IAT} missing or in the future` };
  if (typeof header[OB_ISS] !== 'string' || (options.iss !== undefined && header[OB_ISS] !== options.iss))
    return { ok: false, reason: 'claims', detail: `${OB_ISS} missing or not the expected party` };
  const tan = header[OB_TAN];
  if (typeof tan !== 'string' || tan === '' || (options.tan && !options.tan.includes(tan)))
    return { ok: false, reason: 'claims', detail: `${OB_TAN} missing or not trusted` };
  const unencoded = header.b64 === false;
  const expected = [...(unencoded ? ['b64'] : []), OB_IAT, OB_ISS, OB_TAN].sort().join(',');
  if (!Array.isArray(header.crit) || [...header.crit].sort().join(',') !== expected)
    return { ok: false, reason: 'claims', detail: 'crit must list exactly the Open Banking claims' };
  const { createLocalJWKSet, flattenedVerify } = await import('jose');
  const jws = { protected: parts[0], payload: unencoded ? body : Buffer.from(body, 'utf8').toString('base64url'), signature: parts[2] };
  try {
    if ('keys' in keys) await flattenedVerify(jws, createLocalJWKSet(keys), { algorithms: ['PS256'], crit: RECOGNISED });
    else await flattenedVerify(jws, keys, { algorithms: ['PS256'], crit: RECOGNISED });
    return { ok: true, header };
  } catch (error) {
    return { ok: false, reason: 'invalid', detail: (error as Error).message.slice(0, 120) };
  }
}
