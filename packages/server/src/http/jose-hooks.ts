/**
 * Request and response hooks for Powens' security features, with `jose`:
 * - `sign_response=true` on a /2.0 request: the JSON answer is replaced by a compact JWS (RS256,
 *   `application/jose`) whose payload is `{request_url, response_timestamp, response_payload}`, signed
 *   with the current signing key; the header names it (`kid`) and where to fetch it (`key_url`).
 * - End-to-end encryption: a sensitive input sent as a compact JWE (RSA-OAEP-256 / A256GCM, for the
 *   key of GET /2.0/publickey) is decrypted before validation; one that does not decrypt is a 400
 *   naming the field.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatDateTime } from '../domain/dates.ts';
import { invalid } from '../domain/errors.ts';
import { currentSigningKey, decryptionKey, ENCRYPT_ALG, ENCRYPT_ENC, SIGN_ALG } from '../services/jose-keys.ts';

const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function wantsSignature(request: FastifyRequest): boolean {
  return request.url.startsWith('/2.0/') && (request.query as Record<string, unknown> | undefined)?.sign_response === 'true';
}

export function registerResponseSigning(app: FastifyInstance): void {
  // Callback style: an answer that is not to be signed (nearly all) passes through without a promise.
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => {
    if (!wantsSignature(request) || typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').includes('json')) {
      done(null, payload);
      return;
    }
    signedAnswer(app, request, reply, payload).then(
      (jws) => done(null, jws),
      (error: Error) => done(error),
    );
  });
}

async function signedAnswer(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, payload: string): Promise<string> {
  const { store, keyring, clock, publicUrl } = app.payrail;
  const base = publicUrl ?? `${request.protocol}://${request.host}`;
  const { id, key } = await currentSigningKey(store.db, keyring, clock);
  const body = JSON.stringify({
    request_url: `${base}${request.url}`,
    response_timestamp: formatDateTime(clock.now()),
    response_payload: JSON.parse(payload),
  });
  // jose is loaded on first use, not at start-up (docs/performance.md).
  const { CompactSign } = await import('jose');
  reply.header('content-type', 'application/jose');
  return new CompactSign(new TextEncoder().encode(body))
    .setProtectedHeader({ alg: SIGN_ALG, typ: 'JOSE', kid: String(id), key_url: `${base}/2.0/sign-keys/${id}` })
    .sign(key);
}

async function decryptValue(app: FastifyInstance, field: string, value: string): Promise<string> {
  const { compactDecrypt, decodeProtectedHeader } = await import('jose');
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(value);
    if (header.alg !== ENCRYPT_ALG || header.enc !== ENCRYPT_ENC) throw new Error('algorithm');
    kid = header.kid;
  } catch {
    throw invalid(field, `is not a compact JWE with alg ${ENCRYPT_ALG} and enc ${ENCRYPT_ENC}`);
  }
  const { store, keyring } = app.payrail;
  const key = await decryptionKey(store.db, keyring, kid);
  if (!key) throw invalid(field, `is encrypted for a key this installation does not have (${kid ?? 'no kid'}); use GET /2.0/publickey`);
  try {
    const { plaintext } = await compactDecrypt(value, key, { keyManagementAlgorithms: [ENCRYPT_ALG], contentEncryptionAlgorithms: [ENCRYPT_ENC] });
    const text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    if (!text.includes('\u0000')) return text;
  } catch {
    // a wrong key, a tampered value or bad UTF-8: all the same answer
  }
  throw invalid(field, 'could not be decrypted with the key of GET /2.0/publickey');
}

/** Decrypts, in place, the JWE values of the named objects of a JSON body (`fields`, `payer`). */
export function decryptJweInputs(app: FastifyInstance, objects: readonly string[]) {
  return async function decryptJwe(request: FastifyRequest): Promise<void> {
    const body = request.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object') return;
    for (const name of objects) {
      const object = body[name];
      if (!object || typeof object !== 'object' || Array.isArray(object)) continue;
      for (const [key, value] of Object.entries(object as Record<string, unknown>)) {
        if (typeof value === 'string' && value.length > 40 && COMPACT_JWE.test(value)) {
          (object as Record<string, unknown>)[key] = await decryptValue(app, `${name}.${key}`, value);
        }
      }
    }
  };
}

/**
 * The hosted webview's form values (`field_NAME`, answers the payer typed) that arrive as compact
 * JWE, decrypted: a page that encrypts them for GET /2.0/publickey (as the API's `fields` allow)
 * may post them so. Throws `invalidValue` naming `fields.NAME` when one does not decrypt.
 */
export async function decryptJweFormFields(app: FastifyInstance, form: Record<string, string>, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...form };
  for (const [key, value] of Object.entries(form)) {
    if (key.startsWith(prefix) && value.length > 40 && COMPACT_JWE.test(value)) out[key] = await decryptValue(app, `fields.${key.slice(prefix.length)}`, value);
  }
  return out;
}
