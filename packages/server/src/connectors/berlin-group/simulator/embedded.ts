/**
 * Embedded SCA at the simulated bank (docs/banks.md): the TPP asks for it with
 * `TPP-Redirect-Preferred: false`; the initiation answers `startAuthorisationWithPsuAuthentication`;
 * `POST …/authorisations` with `PSU-ID` and `{"psuData": {"password"}}` authenticates the payer and
 * lists their SCA methods (`selectAuthenticationMethod`), or goes straight to the code with one
 * method; `PUT …/authorisations/{id}` takes `{"authenticationMethodId"}` then
 * `{"scaAuthenticationData"}` (the one-time code). A wrong password or code fails the
 * authorisation and rejects the payment.
 */
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

/** The method chosen for an authorisation (kept beside the ledger's record). */
const chosen = new WeakMap<Authorisation, EmbeddedOptions['methods'][number]>();

function challenge(payment: SimulatedPayment, authorisation: Authorisation, method: EmbeddedOptions['methods'][number]): Reply {
  chosen.set(authorisation, method);
  authorisation.scaStatus = 'scaMethodSelected';
  const self = `${base(payment)}/authorisations/${authorisation.authorisationId}`;
  return {
    status: 200,
    json: {
      scaStatus: 'scaMethodSelected',
      authorisationId: authorisation.authorisationId,
      chosenScaMethod: { authenticationType: 'SMS_OTP', authenticationMethodId: method.id, name: method.name },
      challengeData: { otpMaxLength: 6, otpFormat: 'integer', additionalInformation: `Enter the code sent by: ${method.name}` },
      _links: { authoriseTransaction: { href: self }, scaStatus: { href: self } },
    },
  };
}

/** `POST …/authorisations` with the payer's credentials. */
export function startEmbedded(ctx: ApiContext, options: EmbeddedOptions, payment: SimulatedPayment, request: ApiRequest, psuId: string | null): Reply {
  const password = object(object(request.body).psuData).password;
  if (!psuId) return error(400, 'FORMAT_ERROR', 'PSU-ID is required with the payer’s credentials.');
  const authorisation = ctx.ledger.addAuthorisation(payment, 'payment', 'EMBEDDED');
  if (password !== options.password) {
    ctx.ledger.refuse(payment, authorisation);
    return error(401, 'PSU_CREDENTIALS_INVALID', 'The online banking id or password is wrong.');
  }
  authorisation.scaStatus = 'psuAuthenticated';
  const self = `${base(payment)}/authorisations/${authorisation.authorisationId}`;
  if (options.methods.length === 1) {
    const reply = challenge(payment, authorisation, options.methods[0]!);
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
      _links: { selectAuthenticationMethod: { href: `${self}?step=method` }, scaStatus: { href: self } },
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
    return challenge(payment, authorisation, method);
  }
  if (typeof body.scaAuthenticationData === 'string') {
    const method = chosen.get(authorisation);
    if (authorisation.scaStatus !== 'scaMethodSelected' || !method) return error(409, 'STATUS_INVALID', 'No code is expected now.');
    if (body.scaAuthenticationData !== method.code) {
      ctx.ledger.refuse(payment, authorisation);
      return error(400, 'SCA_INVALID', 'The one-time code is wrong.');
    }
    ctx.ledger.approve(payment, authorisation);
    return { status: 200, json: { scaStatus: 'finalised', _links: { scaStatus: { href: `${base(payment)}/authorisations/${authorisationId}` } } } };
  }
  return error(400, 'FORMAT_ERROR', 'Expected authenticationMethodId or scaAuthenticationData.');
}
