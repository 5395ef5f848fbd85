/**
 * The UK Open Banking payment initiation connector for one configured bank (spec/obie/, read/write
 * data API and payment initiation profiles): a client-credentials token, the consent
 * (`POST /domestic-payment-consents` or the scheduled / standing-order one) signed with a detached
 * JWS under an attempt-bound idempotency key, the payer's consent through the kit's OpenID Connect
 * hybrid flow (a signed request object naming the consent as `openbanking_intent_id`; the id_token
 * checked before the code is exchanged), then the payment with the payer's token and the consent's
 * very Initiation and Risk, then its status. Every call goes through the core's `ctx.http`.
 *
 * A consent or payment whose answer was lost is asked again with the same idempotency key (the
 * bank answers with the resource it created first), never sent under a new key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  bankDescriptor,
  type BankResponse,
  type ConfiguredBank,
  type Connector,
  type ConnectorContext,
  type ConnectorOutcome,
  type ConnectorPayment,
  type PaymentSettings,
} from '../kit/index.ts';
import {
  checkReturn,
  clientCredentials,
  consentReturnUrl,
  exchangeCode,
  type OAuthClient,
  openPending,
  openToken,
  sealPending,
  sealToken,
  startAuthorization,
  type TokenSet,
} from '../kit/oauth.ts';
import { mapBankError } from './error-table.ts';
import { type Bodies, buildBodies, consentBody, paymentBody, resourceKind } from './initiation.ts';
import { signDetached, verifyDetached } from './jws.ts';
import { checkOptions, type ObieOptions } from './profile.ts';
import { mapPaymentStatus } from './status-table.ts';
import { CONSENT_STATUS, RESOURCES, type ResourceKind } from './versions.ts';

/** What the connector keeps for an attempt (never a secret: the payer's token is sealed in `consent`). */
export interface ObieData {
  kind?: ResourceKind;
  /** `Initiation.InstructionIdentification` of this attempt (the bodies are rebuilt from it). */
  instruction_id?: string;
  /** The attempt's idempotency keys: one for the consent, one for the payment. */
  consent_key?: string;
  payment_key?: string;
  consent_id?: string;
  /** The payment was sent (its answer may have been lost). */
  payment_sent?: boolean;
  payment_id?: string;
  authorize?: string;
  initiated_at?: number;
  returned_at?: number;
  last_status?: string | null;
  [key: string]: unknown;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

type Json = Record<string, unknown>;

const object = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});
const str = (value: unknown, max = 500): string | null => (typeof value === 'string' && value.trim() !== '' && value.length <= max ? value : null);

function dataOf(payment: ConnectorPayment): ObieData {
  return (payment.data ?? {}) as ObieData;
}

function unknown(reason: string, data: ObieData): ConnectorOutcome {
  return { kind: 'unknown', reason, data };
}

function isUnknownStatus(status: number): boolean {
  return status >= 500 || status === 429 || status < 200;
}

function reasonOf(response: BankResponse): string {
  return response.kind === 'unknown' ? response.reason : `HTTP ${response.status}`;
}

/** `<payment id>…`: ours, unique per attempt, at most 35 characters. */
function newInstructionId(paymentId: number): string {
  return `PR${paymentId}-${randomBytes(9).toString('base64url')}`.slice(0, 35);
}

export function createObieConnector(bank: ConfiguredBank, settings: PaymentSettings): Connector {
  const options: ObieOptions = checkOptions(bank.profile);
  const descriptor = bankDescriptor(bank, settings);
  const consentStatus = CONSENT_STATUS[options.api_version];
  // Per connector (per bank), in memory: the discovery document, the bank's keys and a client token.
  let discovery: { doc: Discovery; at: number } | null = null;
  let jwks: { keys: import('jose').JSONWebKeySet; at: number } | null = null;
  let appToken: { token: TokenSet; at: number } | null = null;

  async function discover(ctx: ConnectorContext): Promise<Discovery | null> {
    if (discovery && ctx.now - discovery.at < 3_600_000) return discovery.doc;
    const response = await ctx.http.send({ operation: 'discovery', method: 'GET', path: '/', url: `${options.issuer}/.well-known/openid-configuration` });
    if (response.kind !== 'response' || response.status !== 200) return null;
    const body = object(response.body);
    const urls = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'].map((k) => str(body[k], 2000));
    if (str(body.issuer, 2000)?.replace(/\/+$/, '') !== options.issuer || urls.some((u) => !u || !/^https?:\/\//.test(u))) return null;
    const [authorization_endpoint, token_endpoint, jwks_uri] = urls as string[];
    discovery = { doc: { authorization_endpoint: authorization_endpoint!, token_endpoint: token_endpoint!, jwks_uri: jwks_uri! }, at: ctx.now };
    return discovery.doc;
  }

  async function bankKeys(ctx: ConnectorContext, doc: Discovery, fresh = false): Promise<import('jose').JSONWebKeySet | null> {
    if (jwks && !fresh && ctx.now - jwks.at < 3_600_000) return jwks.keys;
    const response = await ctx.http.send({ operation: 'jwks', method: 'GET', path: '/', url: doc.jwks_uri });
    if (response.kind !== 'response' || response.status !== 200 || !Array.isArray(object(response.body).keys)) return null;
    jwks = { keys: response.body as import('jose').JSONWebKeySet, at: ctx.now };
    return jwks.keys;
  }

  function client(ctx: ConnectorContext, doc: Discovery): OAuthClient {
    const key = ctx.http.signingKey;
    if (!key) throw new Error('this bank has no signing key');
    return {
      clientId: options.client_id,
      issuer: options.issuer,
      authorizationEndpoint: doc.authorization_endpoint,
      tokenEndpoint: doc.token_endpoint,
      redirectUri: consentReturnUrl(ctx.baseUrl),
      scope: 'openid payments',
      auth:
        options.token_auth === 'tls_client_auth' ? { method: 'tls_client_auth' } : { method: 'private_key_jwt', key, kid: options.signing_kid, alg: 'PS256' },
      requestObject: { key, kid: options.signing_kid, alg: 'PS256' },
      idTokenAlgorithms: ['PS256'],
    };
  }

  /** A client-credentials token (scope `payments`), kept until a minute before it expires. */
  async function applicationToken(
    ctx: ConnectorContext,
    doc: Discovery,
  ): Promise<{ ok: true; token: string } | { ok: false; outcome: 'unknown' | 'refused'; reason: string }> {
    if (appToken && (appToken.token.expires_at ?? appToken.at + 300_000) - 60_000 > ctx.now) return { ok: true, token: appToken.token.access_token };
    const answer = await clientCredentials(ctx.http, client(ctx, doc), { scope: 'payments', now: ctx.now });
    if (answer.kind === 'unknown') return { ok: false, outcome: 'unknown', reason: `token: ${answer.reason}` };
    if (answer.kind === 'refused') return { ok: false, outcome: 'refused', reason: `the bank refused our client token (${answer.error})` };
    appToken = { token: answer.token, at: ctx.now };
    return { ok: true, token: answer.token.access_token };
  }

  function headers(token: string, payment: ConnectorPayment | null): Record<string, string> {
    return {
      Authorization: `Bearer ${token}`,
      'x-fapi-interaction-id': randomUUID(),
      ...(options.financial_id ? { 'x-fapi-financial-id': options.financial_id } : {}),
      ...(payment?.psu_ip_address ? { 'x-fapi-customer-ip-address': payment.psu_ip_address } : {}),
    };
  }

  /** A signed POST: the body serialised once, signed over those exact bytes, sent as they are. */
  async function post(
    ctx: ConnectorContext,
    operation: string,
    path: string,
    token: string,
    key: string,
    body: Json,
    payment: ConnectorPayment,
  ): Promise<BankResponse> {
    const text = JSON.stringify(body);
    const signature = await signDetached(text, ctx.http.signingKey!, {
      kid: options.signing_kid,
      iss: options.jws_iss ?? options.client_id,
      tan: options.jws_tan,
      unencodedPayload: options.jws_unencoded_payload,
      now: ctx.now,
    });
    return ctx.http.send({
      operation,
      method: 'POST',
      path,
      headers: { ...headers(token, payment), 'x-idempotency-key': key, 'x-jws-signature': signature, 'Content-Type': 'application/json' },
      body: text,
    });
  }

  /** The bank's signature on an answer, where the profile asks for it: a failure means the answer is not trusted. */
  async function trusted(ctx: ConnectorContext, doc: Discovery, response: Extract<BankResponse, { kind: 'response' }>): Promise<boolean> {
    if (!options.verify_response_signatures) return true;
    const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    let keys = await bankKeys(ctx, doc);
    if (!keys) return false;
    let check = await verifyDetached(response.headers['x-jws-signature'], text, keys, { now: ctx.now });
    if (!check.ok && check.reason === 'invalid') {
      keys = await bankKeys(ctx, doc, true); // a rotated key: read the set once more
      if (keys) check = await verifyDetached(response.headers['x-jws-signature'], text, keys, { now: ctx.now });
    }
    return check.ok;
  }

  function bodiesOf(payment: ConnectorPayment, data: ObieData): Bodies {
    return buildBodies(payment, options, data.instruction_id!);
  }

  /** Consent created: the payer goes to the bank's authorize page with a signed request object. */
  async function authorize(ctx: ConnectorContext, payment: ConnectorPayment, doc: Discovery, data: ObieData): Promise<ConnectorOutcome> {
    const { url, pending } = await startAuthorization(client(ctx, doc), {
      flow: 'oidc-hybrid',
      paymentId: payment.id,
      now: ctx.now,
      claims: {
        id_token: {
          openbanking_intent_id: { value: data.consent_id, essential: true },
          acr: { essential: true, values: ['urn:openbanking:psd2:sca', 'urn:openbanking:psd2:ca'] },
        },
      },
    });
    return { kind: 'redirect', validate_uri: url, bank_reference: data.consent_id, data: { ...data, authorize: url }, consent: sealPending(ctx, pending) };
  }

  /** POSTs the consent under the attempt's key (first time, or again after a lost answer) and sends the payer on. */
  async function createConsent(ctx: ConnectorContext, payment: ConnectorPayment, data: ObieData): Promise<ConnectorOutcome> {
    const bodies = bodiesOf(payment, data);
    if (!bodies.ok) return { kind: 'refused', error_code: bodies.error_code, error_description: bodies.description, data };
    const doc = await discover(ctx);
    if (!doc) return unknown("the bank's discovery document could not be read", data);
    const token = await applicationToken(ctx, doc);
    if (!token.ok)
      return token.outcome === 'unknown' ? unknown(token.reason, data) : { kind: 'refused', error_code: 'bug', error_description: token.reason, data };
    const response = await post(ctx, 'initiate', RESOURCES[bodies.kind].consents, token.token, data.consent_key!, consentBody(bodies), payment);
    if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(reasonOf(response), data);
    if (response.status >= 300) {
      const error = mapBankError(response.status, response.body);
      return { kind: 'refused', error_code: error.error_code, error_description: error.description, bank_status: error.bank_code, data };
    }
    if (!(await trusted(ctx, doc, response))) return unknown("the bank's answer carries no valid signature", data);
    const answer = object(object(response.body).Data);
    const consentId = str(answer.ConsentId, 128);
    if (!consentId) return unknown('the bank answered without a ConsentId', data);
    const status = str(answer.Status, 40);
    const created: ObieData = { ...data, consent_id: consentId, last_status: status };
    if (status === consentStatus.rejected) {
      const error = mapBankError(400, response.body);
      return {
        kind: 'state',
        state: 'rejected',
        error_code: error.bank_code ? error.error_code : 'noSpecifiedReason',
        error_description: error.bank_code ? error.description : 'The bank rejected the consent.',
        bank_status: status,
        bank_reference: consentId,
        data: created,
      };
    }
    return authorize(ctx, payment, doc, created);
  }

  function fromPayment(body: unknown, data: ObieData, paymentId: string | null): ConnectorOutcome | null {
    const answer = object(object(body).Data);
    const status = str(answer.Status, 40);
    if (!status) return null;
    const state = mapPaymentStatus(status);
    const next: ObieData = { ...data, last_status: status, ...(paymentId ? { payment_id: paymentId } : {}) };
    if (state === null) return null;
    if (state === 'rejected') {
      const error = mapBankError(400, body);
      return {
        kind: 'state',
        state: 'rejected',
        error_code: error.bank_code ? error.error_code : 'noSpecifiedReason',
        error_description: error.bank_code ? error.description : `The bank rejected the payment (${status}).`,
        bank_status: status,
        ...(paymentId ? { bank_reference: paymentId } : {}),
        data: next,
      };
    }
    return { kind: 'state', state, bank_status: status, ...(paymentId ? { bank_reference: paymentId } : {}), data: next };
  }

  /** POSTs the payment with the payer's token under the attempt's payment key (again after a lost answer: same key). */
  async function submit(ctx: ConnectorContext, payment: ConnectorPayment, data: ObieData, token: TokenSet): Promise<ConnectorOutcome> {
    const bodies = bodiesOf(payment, data);
    if (!bodies.ok) return { kind: 'refused', error_code: bodies.error_code, error_description: bodies.description, data };
    const doc = await discover(ctx);
    if (!doc) return unknown("the bank's discovery document could not be read", data);
    const sent: ObieData = { ...data, payment_sent: true };
    const response = await post(
      ctx,
      'submit',
      RESOURCES[bodies.kind].payments,
      token.access_token,
      data.payment_key!,
      paymentBody(bodies, data.consent_id!),
      payment,
    );
    if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(reasonOf(response), sent);
    if (response.status >= 300) {
      const error = mapBankError(response.status, response.body);
      return { kind: 'state', state: 'rejected', error_code: error.error_code, error_description: error.description, bank_status: error.bank_code, data: sent };
    }
    if (!(await trusted(ctx, doc, response))) return unknown("the bank's answer carries no valid signature", sent);
    const id = str(object(object(response.body).Data)[RESOURCES[bodies.kind].idField], 40);
    if (!id) return unknown('the bank answered without a payment id', sent);
    return (
      fromPayment(response.body, sent, id) ?? { kind: 'state', state: 'pending', bank_reference: id, bank_status: null, data: { ...sent, payment_id: id } }
    );
  }

  async function readStatus(ctx: ConnectorContext, data: ObieData): Promise<ConnectorOutcome | null> {
    const doc = await discover(ctx);
    if (!doc) return unknown("the bank's discovery document could not be read", data);
    const token = await applicationToken(ctx, doc);
    if (!token.ok) return token.outcome === 'unknown' ? unknown(token.reason, data) : null;
    const kind = data.kind ?? 'domestic';
    const response = await ctx.http.send({
      operation: 'status',
      method: 'GET',
      path: `${RESOURCES[kind].payments}/${encodeURIComponent(data.payment_id!)}`,
      headers: headers(token.token, null),
    });
    if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(reasonOf(response), data);
    if (response.status >= 300) return null;
    if (!(await trusted(ctx, doc, response))) return null;
    return fromPayment(response.body, data, null);
  }

  return {
    descriptor,
    bank,
    consentFlows: ['oidc-hybrid'],

    async start(payment, _input, ctx) {
      const data: ObieData = {
        kind: resourceKind(payment),
        instruction_id: newInstructionId(payment.id),
        // Bound to this attempt: a new attempt has new keys; a lost answer is asked again with these.
        consent_key: randomUUID(),
        payment_key: randomUUID(),
        initiated_at: ctx.now,
      };
      return createConsent(ctx, payment, data);
    },

    async bankReturn(payment, params, ctx) {
      const data: ObieData = { ...dataOf(payment), returned_at: ctx.now };
      const pending = openPending(ctx, payment.consent);
      if (!pending) return { kind: 'state', state: 'rejected', error_code: 'bug', error_description: 'The consent of this payment was lost.', data };
      const doc = await discover(ctx);
      if (!doc) return unknown("the bank's discovery document could not be read", data);
      const keys = await bankKeys(ctx, doc);
      if (!keys) return unknown("the bank's key set could not be read", data);
      const c = client(ctx, doc);
      const checked = await checkReturn(c, pending, params, { now: ctx.now, jwks: keys });
      // Not this payer's answer: nothing changes, the payment still waits at the bank.
      if (checked.foreign) return { kind: 'redirect', validate_uri: String(data.authorize), data };
      const { authorize: _used, ...rest } = data;
      const reject = (error_code: string, error_description: string): ConnectorOutcome => ({
        kind: 'state',
        state: 'rejected',
        error_code,
        error_description,
        bank_status: rest.last_status ?? null,
        data: rest,
        consent: null,
      });
      if (!checked.ok) return reject(checked.error_code, checked.error_description);
      // OBIE security profile: the id_token names the consent the payer authorised.
      if (checked.idToken?.openbanking_intent_id !== data.consent_id) return reject('authenticationFailed', "The bank's id_token names another consent.");
      const exchange = await exchangeCode(ctx.http, c, { code: checked.code, verifier: pending.verifier, now: ctx.now });
      if (exchange.kind === 'unknown') return { ...unknown(`token exchange: ${exchange.reason}`, rest), consent: null };
      if (exchange.kind === 'refused') return reject('authenticationFailed', `The bank refused the authorization (${exchange.error}).`);
      const outcome = await submit(ctx, payment, rest, exchange.token);
      // The payer's token stays sealed on the attempt: a lost payment answer is asked again with it.
      return { ...outcome, consent: sealToken(ctx, exchange.token) };
    },

    async resume(payment) {
      const data = dataOf(payment);
      return data.authorize ? { kind: 'redirect', validate_uri: data.authorize, data } : unknown('nothing to resume', data);
    },

    async submitFields(payment) {
      return { kind: 'refused', error_code: 'bug', error_description: 'This bank asks for no information.', data: dataOf(payment) };
    },

    async psuValidate(payment) {
      return { kind: 'refused', error_code: 'bug', error_description: 'This bank asks for no confirmation step.', data: dataOf(payment) };
    },

    async status(payment, ctx) {
      const data = dataOf(payment);
      // The consent's answer was lost: ask again under the same key; the bank answers with the consent it made.
      // The payer was told the bank did not confirm: the consent is kept on record, and only the payer's
      // fresh attempt (new keys, a new consent) goes on; nothing is paid without the payer's authorisation.
      if (!data.consent_id && data.consent_key) {
        const again = await createConsent(ctx, payment, data);
        if (again.kind !== 'redirect') return again;
        const { authorize: _unused, ...kept } = again.data as ObieData;
        return { kind: 'unknown', reason: 'the lost consent was found at the bank; the payer starts afresh', data: kept };
      }
      // The payment's answer was lost: the same, with the payer's token kept sealed.
      if (data.payment_sent && !data.payment_id) {
        const token = openToken(ctx, payment.consent);
        if (!token) return null;
        return submit(ctx, payment, data, token);
      }
      if (!data.payment_id) return null;
      const outcome = await readStatus(ctx, data);
      if (outcome?.kind !== 'state') return outcome;
      if (outcome.state === payment.state && data.last_status === outcome.bank_status) return null;
      return outcome;
    },

    async cancel(payment) {
      return {
        kind: 'refused',
        error_code: 'notSupported',
        error_description: 'UK Open Banking offers no cancellation of an initiated payment.',
        data: dataOf(payment),
      };
    },

    pollIntervalMs(payment, ctx) {
      const data = dataOf(payment);
      const since = data.returned_at ?? data.initiated_at ?? ctx.now;
      const elapsed = Math.max(0, ctx.now - since);
      const atBankPage = (payment.state === 'created' || payment.state === 'validating') && data.authorize && data.returned_at === undefined;
      const first = atBankPage ? options.poll_payer_ms : options.poll_initial_ms;
      return Math.min(options.poll_max_ms, Math.max(first, Math.round(elapsed / 4)));
    },
  };
}
