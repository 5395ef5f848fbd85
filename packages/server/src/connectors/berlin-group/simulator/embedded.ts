/**
 * Embedded SCA at the simulated bank (docs/banks.md): the TPP asks for it with
 * `TPP-Redirect-Preferred: false`; the initiation answers `startAuthorisationWithPsuAuthentication`;
 * `POST …/authorisations` with `PSU-ID` and `{"psuData": {"password"}}` authenticates the payer and
 * lists their SCA methods (`selectAuthenticationMethod`), or goes straight to the code with one
 * method; `PUT …/authorisations/{id}` takes `{"authenticationMethodId"}` then
 * `{"scaAuthenticationData"}` (the one-time code). A wrong password fails the authorisation and
 * rejects the payment (401 PSU_CREDENTIALS_INVALID); a wrong code answers 400 SCA_INVALID and, as
 * real banks do, leaves the authorisation open for another try until `maxTries` wrong codes, when
 * it fails (scaStatus `failed`, the payment rejected). With `passwordKey` the bank publishes a key
 * and takes the password only encrypted with it (`psuData.encryptedPassword`, a JWE compact
 * RSA-OAEP-256 + A256GCM), which it decrypts here with node:crypto alone.
 */
import { createDecipheriv, constants, type KeyObject, privateDecrypt } from 'node:crypto';
import type { Authorisation, Ledger, SimulatedPayment } from './ledger.ts';

/** What the handlers need of the API's context and request, and what they answer (api.ts's shapes). */
interface ApiContext {
  ledger: Ledger;
}
interface ApiRequest {
  body: unknown;
}
interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
}

export interface EmbeddedOptions {
  password: string;
  /** The payer's SCA methods and the code each one "sends". */
  methods: { id: string; name: string; code: string }[];
  /** Wrong one-time codes accepted before the authorisation fails (default 1: the first wrong code fails it). */
  maxTries?: number;
  /** The bank's private key: the password is taken only as `encryptedPassword` encrypted for it. */
  passwordKey?: KeyObject | null;
  /** Absolute base (scheme and host) of the next-step links, for a bank whose links lead elsewhere (default: relative links). */
  linkBase?: string | null;
}

export const DEFAULT_EMBEDDED: EmbeddedOptions = {
  password: 'bank-password-42',
  methods: [
    { id: 'sms-otp', name: 'SMS to +49 151 •••• 42', code: '123456' },
    { id: 'push-otp', name: 'Code in the bank app', code: '654321' },
  ],
};

function error(status: number, code: string, text: string): Reply {
  return { status, json: { tppMessages: [{ category: 'ERROR', code, text }] } };
}

const base = (p: SimulatedPayment) => `/v1/${p.service}/${p.product}/${encodeURIComponent(p.paymentId)}`;

function object(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The method chosen for an authorisation, and the wrong codes typed (kept beside the ledger's record). */
const chosen = new WeakMap<Authorisation, EmbeddedOptions['methods'][number]>();
const wrongCodes = new WeakMap<Authorisation, number>();

const b64 = (part: string) => Buffer.from(part, 'base64url');

/** The password of a JWE compact (RSA-OAEP-256 + A256GCM) for the bank's key, or null when it is not one. */
export function decryptPassword(jwe: string, key: KeyObject): string | null {
  try {
    const [header, encryptedKey, iv, ciphertext, tag, ...rest] = jwe.split('.');
    if (rest.length > 0 || !header || !encryptedKey || !iv || !ciphertext || !tag) return null;
    const protectedHeader = JSON.parse(b64(header).toString('utf8')) as { alg?: string; enc?: string };
    if (protectedHeader.alg !== 'RSA-OAEP-256' || protectedHeader.enc !== 'A256GCM') return null;
    const cek = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, b64(encryptedKey));
    const decipher = createDecipheriv('aes-256-gcm', cek, b64(iv));
    decipher.setAAD(Buffer.from(header, 'ascii'));
    decipher.setAuthTag(b64(tag));
    return Buffer.concat([decipher.update(b64(ciphertext)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/** The password the payer typed, as the bank takes it; an error reply when the body does not carry it so. */
function passwordOf(options: EmbeddedOptions, body: unknown): string | Reply | undefined {
  const psuData = object(object(body).psuData);
  if (!options.passwordKey) return typeof psuData.password === 'string' ? psuData.password : undefined;
  if (typeof psuData.encryptedPassword !== 'string')
    return error(400, 'FORMAT_ERROR', 'The password must be sent encrypted with the bank’s key (psuData.encryptedPassword).');
  return decryptPassword(psuData.encryptedPassword, options.passwordKey) ?? error(400, 'FORMAT_ERROR', 'The encrypted password cannot be read.');
}

function challenge(options: EmbeddedOptions, payment: SimulatedPayment, authorisation: Authorisation, method: EmbeddedOptions['methods'][number]): Reply {
  chosen.set(authorisation, method);
  authorisation.scaStatus = 'scaMethodSelected';
  const self = `${base(payment)}/authorisations/${authorisation.authorisationId}`;
  const linkBase = options.linkBase ?? '';
  return {
    status: 200,
    json: {
      scaStatus: 'scaMethodSelected',
      authorisationId: authorisation.authorisationId,
      chosenScaMethod: { authenticationType: 'SMS_OTP', authenticationMethodId: method.id, name: method.name },
      challengeData: { otpMaxLength: 6, otpFormat: 'integer', additionalInformation: `Enter the code sent by: ${method.name}` },
      _links: { authoriseTransaction: { href: `${linkBase}${self}` }, scaStatus: { href: self } },
    },
  };
}

/** `POST …/authorisations` with the payer's credentials. */
export function startEmbedded(ctx: ApiContext, options: EmbeddedOptions, payment: SimulatedPayment, request: ApiRequest, psuId: string | null): Reply {
  const password = passwordOf(options, request.body);
  if (!psuId) return error(400, 'FORMAT_ERROR', 'PSU-ID is required with the payer’s credentials.');
  if (password && typeof password === 'object') return password;
  const authorisation = ctx.ledger.addAuthorisation(payment, 'payment', 'EMBEDDED');
  if (password !== options.password) {
    ctx.ledger.refuse(payment, authorisation);
    return error(401, 'PSU_CREDENTIALS_INVALID', 'The online banking id or password is wrong.');
  }
  authorisation.scaStatus = 'psuAuthenticated';
  const self = `${base(payment)}/authorisations/${authorisation.authorisationId}`;
  if (options.methods.length === 1) {
    const reply = challenge(options, payment, authorisation, options.methods[0]!);
    return { ...reply, status: 201, headers: { 'ASPSP-SCA-Approach': 'EMBEDDED' } };
  }
  return {
    status: 201,
    headers: { 'ASPSP-SCA-Approach': 'EMBEDDED' },
    json: {
      scaStatus: 'psuAuthenticated',
      authorisationId: authorisation.authorisationId,
      scaMethods: options.methods.map((m) => ({ authenticationType: 'SMS_OTP', authenticationMethodId: m.id, name: m.name })),
      // The link carries a query parameter of the bank's own: a TPP must call it as given.
      _links: { selectAuthenticationMethod: { href: `${options.linkBase ?? ''}${self}?step=method` }, scaStatus: { href: self } },
    },
  };
}

/** `PUT …/authorisations/{id}`: the chosen method, then the one-time code. */
export function updateEmbedded(ctx: ApiContext, options: EmbeddedOptions, payment: SimulatedPayment, authorisationId: string, request: ApiRequest): Reply {
  const authorisation = payment.authorisations.find((a) => a.authorisationId === authorisationId && a.kind === 'payment');
  if (!authorisation) return error(404, 'RESOURCE_UNKNOWN', 'No such authorisation of this payment.');
  const body = object(request.body);
  if (typeof body.authenticationMethodId === 'string') {
    if (authorisation.scaStatus !== 'psuAuthenticated') return error(409, 'STATUS_INVALID', 'No method is to be chosen now.');
    const method = options.methods.find((m) => m.id === body.authenticationMethodId);
    if (!method) return error(400, 'SCA_METHOD_UNKNOWN', 'No such SCA method.');
    return challenge(options, payment, authorisation, method);
  }
  if (typeof body.scaAuthenticationData === 'string') {
    const method = chosen.get(authorisation);
    if (authorisation.scaStatus !== 'scaMethodSelected' || !method) return error(409, 'STATUS_INVALID', 'No code is expected now.');
    if (body.scaAuthenticationData !== method.code) {
      const wrong = (wrongCodes.get(authorisation) ?? 0) + 1;
      wrongCodes.set(authorisation, wrong);
      const left = (options.maxTries ?? 1) - wrong;
      if (left > 0) return error(400, 'SCA_INVALID', `The one-time code is wrong. ${left === 1 ? '1 try' : `${left} tries`} left.`);
      ctx.ledger.refuse(payment, authorisation);
      return error(
        400,
        'SCA_INVALID',
        wrong > 1 ? 'Too many wrong codes: this authorisation is blocked. Start the payment again.' : 'The one-time code is wrong.',
      );
    }
    ctx.ledger.approve(payment, authorisation);
    return { status: 200, json: { scaStatus: 'finalised', _links: { scaStatus: { href: `${base(payment)}/authorisations/${authorisationId}` } } } };
  }
  return error(400, 'FORMAT_ERROR', 'Expected authenticationMethodId or scaAuthenticationData.');
}
