/**
 * A UK Open Banking model bank on `node:http`: the authorization server (discovery document, JWKS,
 * token endpoint with client credentials and authorization code, `private_key_jwt`, the authorize
 * page with Approve and Refuse) and the payment initiation API of one version (domestic payments,
 * scheduled payments, standing orders; consents, idempotency by key, consent/payment matching,
 * signed answers, statuses over time), with the kit's injectable faults and a control endpoint.
 * Shipped with Payrail (`payrail bank simulate --standard obie`) and used by the tests as the far
 * side of the connector, behind `prism proxy --errors`. Every URL it gives is built from its own
 * configured address: its answers never depend on the request's Host header.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { systemClock, type Clock } from '../../../domain/clock.ts';
import { html } from '../../../http/html.ts';
import { Faults, FaultError, type Fault, type FaultSpec } from '../../kit/simulator/faults.ts';
import { failRequest, listen, parseJson, readBody, type Incoming } from '../../kit/simulator/http.ts';
import { bankPage, resultPage, type Page } from '../../kit/simulator/page.ts';
import { hashBody, Received } from '../../kit/simulator/received.ts';
import { halfHash } from '../../kit/oauth.ts';
import { signDetached, verifyDetached } from '../jws.ts';
import { API_ROOT, type ApiVersion, RESOURCES, type ResourceKind } from '../versions.ts';
import { type Consent, ModelBank, type Payment } from './bank.ts';
import { errorCode, PAYMENT_STATUSES, statusForCode } from './codes.ts';
import { loadOrCreateKey, MODEL_CLIENT_ID, publicJwk, type KeyPair } from './keys.ts';

export const OPERATIONS = [
  'token',
  'CreateDomesticPaymentConsents',
  'GetDomesticPaymentConsentsConsentId',
  'CreateDomesticPayments',
  'GetDomesticPaymentsDomesticPaymentId',
  'CreateDomesticScheduledPaymentConsents',
  'GetDomesticScheduledPaymentConsentsConsentId',
  'CreateDomesticScheduledPayments',
  'GetDomesticScheduledPaymentsDomesticScheduledPaymentId',
  'CreateDomesticStandingOrderConsents',
  'GetDomesticStandingOrderConsentsConsentId',
  'CreateDomesticStandingOrders',
  'GetDomesticStandingOrdersDomesticStandingOrderId',
] as const;
export type Operation = (typeof OPERATIONS)[number];

const NAMES: Record<ResourceKind, string> = { domestic: 'Domestic', scheduled: 'DomesticScheduled', 'standing-order': 'DomesticStandingOrder' };
const PAYMENT_NAMES: Record<ResourceKind, string> = {
  domestic: 'DomesticPayments',
  scheduled: 'DomesticScheduledPayments',
  'standing-order': 'DomesticStandingOrders',
};

export interface ObieSimulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The standard's version the payment API speaks (default 4.0). */
  apiVersion?: ApiVersion;
  clock?: Clock;
  /** Time from the payment's submission to its final status (in process at half of it). Default 4 s. */
  settleAfterMs?: number;
  /** Where its keys are kept (the bank's and the TPP client's); created when missing. */
  keysDir: string;
  /** Its public address when reached under another one (the issuer and every link are built from it). */
  publicUrl?: string;
  log?: (line: string) => void;
}

export interface ObieSimulator {
  /** Where it listens (the issuer). */
  url: string;
  /** The payment API root: the bank's base URL for `payrail bank add`. */
  baseUrl: string;
  issuer: string;
  apiVersion: ApiVersion;
  clientId: string;
  /** The TPP's signing key: `kid` and absolute path of its PEM file. */
  clientKey: { kid: string; path: string };
  bankKey: KeyPair;
  faults: Faults<Operation>;
  /** Behaviour changeable while it runs: `signAnswers` false signs answers with a key not in its JWKS (a bank whose signature fails). */
  settings: { signAnswers: boolean };
  bank: ModelBank;
  received: Received<Operation>;
  /** Takes the payer's decision headlessly: where the browser would be sent. */
  decide(consentId: string, decision: 'approve' | 'refuse'): Promise<string>;
  close(): Promise<void>;
}

interface Ticket {
  consentId: string;
  redirectUri: string;
  state: string;
  nonce: string;
  codeChallenge: string | null;
  formToken: string;
  expiresAt: number;
}

/** What the model bank reads of a request object. */
interface RequestClaims {
  response_type?: unknown;
  scope?: unknown;
  redirect_uri?: unknown;
  state?: unknown;
  nonce?: unknown;
  code_challenge?: unknown;
  claims?: { id_token?: { openbanking_intent_id?: { value?: unknown } } };
}

/** What the authorize page shows of a consent's Initiation (any of the three resources, either version). */
interface ShownInitiation {
  InstructedAmount?: { Amount?: string; Currency?: string };
  FirstPaymentAmount?: { Amount?: string; Currency?: string };
  CreditorAccount?: { SchemeName?: string; Identification?: string; Name?: string };
  RemittanceInformation?: { Unstructured?: string | string[]; Reference?: string };
  Reference?: string;
  RequestedExecutionDateTime?: string;
  Frequency?: string;
  FirstPaymentDateTime?: string;
  MandateRelatedInformation?: { Frequency?: { Type?: string }; FirstPaymentDateTime?: string };
}

interface Reply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

const IDEMPOTENCY_KEY = /^(?!\s)(.*)(\S)$/;
const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export async function startObieSimulator(options: ObieSimulatorOptions): Promise<ObieSimulator> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const version: ApiVersion = options.apiVersion ?? '4.0';
  const bank = new ModelBank({ version, clock, settleAfterMs: options.settleAfterMs ?? 4_000 });
  const faults = new Faults<Operation>({
    standard: `UK Open Banking ${version}`,
    operations: OPERATIONS,
    rejectStatus: (code, status) => statusForCode(code, status),
  });
  const received = new Received<Operation>();
  const hanging = new Set<Socket>();
  const bankKey = loadOrCreateKey(options.keysDir, 'model-bank-signing');
  const clientKey = loadOrCreateKey(options.keysDir, 'tpp-signing');
  const tickets = new Map<string, Ticket>();
  const settings = { signAnswers: true };
  const assertions = new Set<string>();
  let self = '';
  const issuer = () => options.publicUrl ?? self;
  const apiRoot = API_ROOT[version];

  // ---- answers of the payment API: signed, with the interaction id ----

  async function sendApi(response: ServerResponse, request: IncomingMessage, reply: Reply): Promise<void> {
    const interaction = header(request, 'x-fapi-interaction-id') ?? randomUUID();
    const headers: Record<string, string> = { 'x-fapi-interaction-id': interaction, ...reply.headers };
    let text: string | undefined;
    if (reply.json !== undefined) {
      text = JSON.stringify(reply.json);
      headers['Content-Type'] = 'application/json';
      headers['x-jws-signature'] = await signDetached(text, settings.signAnswers ? bankKey.privateKey : clientKey.privateKey, {
        kid: bankKey.kid,
        iss: 'model-bank',
        tan: 'openbanking.org.uk',
        unencodedPayload: false,
        now: clock.now(),
      });
    }
    response.writeHead(reply.status, headers);
    response.end(text);
  }

  function error(status: number, code: string, message: string, path?: string): Reply {
    const entry = { ErrorCode: errorCode(version, code), Message: message, ...(path ? { Path: path } : {}) };
    return { status, json: { Code: String(status), Id: randomUUID().slice(0, 36), Message: message, Errors: [entry] } };
  }

  const link = (path: string) => ({ Links: { Self: `${issuer()}${apiRoot}${path}` }, Meta: {} });

  function consentView(consent: Consent): Reply['json'] {
    return {
      Data: {
        ConsentId: consent.id,
        CreationDateTime: iso(consent.createdAt),
        Status: consent.status,
        StatusUpdateDateTime: iso(consent.statusAt),
        ...(consent.permission ? { Permission: 'Create' } : {}),
        Initiation: consent.initiation,
      },
      Risk: consent.risk,
      ...link(`${RESOURCES[consent.kind].consents}/${consent.id}`),
    };
  }

  function paymentView(payment: Payment): Reply['json'] {
    const { status, at } = bank.status(payment);
    return {
      Data: {
        [RESOURCES[payment.kind].idField]: payment.id,
        ConsentId: payment.consentId,
        CreationDateTime: iso(payment.createdAt),
        Status: status,
        StatusUpdateDateTime: iso(at),
        Initiation: payment.initiation,
      },
      ...link(`${RESOURCES[payment.kind].payments}/${payment.id}`),
    };
  }

  /** The TPP's detached JWS over the exact body: U019 missing, U018 malformed, U016/U017 claims, U015 invalid. */
  async function checkSignature(request: IncomingMessage, raw: Buffer): Promise<Reply | null> {
    const check = await verifyDetached(header(request, 'x-jws-signature'), raw.toString('utf8'), clientKey.publicKey, { now: clock.now() });
    if (check.ok) return check.header.kid === clientKey.kid ? null : error(400, 'U016', 'kid is not the registered key', 'x-jws-signature');
    const code = { missing: 'U019', malformed: 'U018', claims: 'U017', invalid: 'U015' }[check.reason];
    return error(400, code, check.detail, 'x-jws-signature');
  }

  function bearer(request: IncomingMessage, kind: 'client' | 'psu') {
    const value = /^Bearer (.+)$/.exec(header(request, 'authorization') ?? '')?.[1];
    const token = bank.token(value);
    return token && token.kind === kind ? token : undefined;
  }

  const unauthorised = (): Reply => ({ status: 401 });

  function checkInitiation(kind: ResourceKind, body: Record<string, unknown>): Reply | null {
    const data = (body.Data ?? {}) as Record<string, unknown>;
    const initiation = data.Initiation as Record<string, unknown> | undefined;
    if (!initiation || typeof initiation !== 'object') return error(400, 'U004', 'Data.Initiation is required', 'Data.Initiation');
    if (!body.Risk || typeof body.Risk !== 'object') return error(400, 'U004', 'Risk is required', 'Risk');
    const amount = (kind === 'standing-order' ? initiation.FirstPaymentAmount : initiation.InstructedAmount) as Record<string, unknown> | undefined;
    if (!amount || typeof amount.Amount !== 'string' || !/^\d{1,13}(\.\d{1,5})?$/.test(amount.Amount) || Number(amount.Amount) <= 0)
      return error(400, 'U002', 'the amount is not valid', 'Data.Initiation.InstructedAmount.Amount');
    if (amount.Currency !== 'GBP') return error(400, 'U023', 'this bank pays in GBP only', 'Data.Initiation.InstructedAmount.Currency');
    const creditor = (initiation.CreditorAccount ?? {}) as Record<string, unknown>;
    const id = String(creditor.Identification ?? '');
    if (
      creditor.SchemeName === 'UK.OBIE.SortCodeAccountNumber'
        ? !/^\d{14}$/.test(id)
        : creditor.SchemeName !== 'UK.OBIE.IBAN' || !/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(id)
    )
      return error(400, 'U021', 'the creditor account is not a sort code and account number or an IBAN', 'Data.Initiation.CreditorAccount');
    if (typeof creditor.Name !== 'string' || creditor.Name === '')
      return error(400, 'U004', 'the creditor name is required', 'Data.Initiation.CreditorAccount.Name');
    if ((kind !== 'domestic') !== (data.Permission === 'Create')) return error(400, 'U002', 'Permission must be Create', 'Data.Permission');
    return null;
  }

  /** POST of a consent or a payment: signature, idempotency key (same key and body → the first resource), then `create`. */
  async function post(
    request: IncomingMessage,
    body: Incoming,
    scope: string,
    create: (json: Record<string, unknown>) => { reply: Reply; id?: string },
    existing: (id: string) => Reply,
  ): Promise<Reply> {
    const key = header(request, 'x-idempotency-key');
    if (!key) return error(400, 'U007', 'x-idempotency-key is required', 'x-idempotency-key');
    if (key.length > 40 || !IDEMPOTENCY_KEY.test(key)) return error(400, 'U006', 'x-idempotency-key is at most 40 characters', 'x-idempotency-key');
    const signature = await checkSignature(request, body.raw);
    if (signature) return signature;
    const json = parseJson(body.raw);
    if (!json || typeof json !== 'object' || Array.isArray(json)) return error(400, 'U010', 'the body is not a JSON object');
    const hash = hashBody(canonical(json));
    const first = bank.keyUse(scope, key);
    if (first) {
      if (first.bodyHash !== hash) return error(400, 'U006', 'this x-idempotency-key was used with another body', 'x-idempotency-key');
      return existing(first.resourceId);
    }
    const made = create(json as Record<string, unknown>);
    if (made.id) bank.rememberKey(scope, key, { bodyHash: hash, resourceId: made.id });
    return made.reply;
  }

  async function serveApi(
    request: IncomingMessage,
    method: string,
    segments: string[],
    body: Incoming,
  ): Promise<{ operation: Operation | null; reply: () => Promise<Reply> }> {
    const [resource, id, extra] = segments;
    const kind = (Object.keys(RESOURCES) as ResourceKind[]).find((k) => RESOURCES[k].consents === `/${resource}` || RESOURCES[k].payments === `/${resource}`);
    if (!kind || extra !== undefined) return { operation: null, reply: async () => error(404, 'U011', 'no such resource') };
    const isConsent = RESOURCES[kind].consents === `/${resource}`;
    if (method === 'POST' && id === undefined && isConsent)
      return {
        operation: `Create${NAMES[kind]}PaymentConsents` as Operation,
        reply: async () => {
          const client = bearer(request, 'client');
          if (!client) return unauthorised();
          return post(
            request,
            body,
            `consent ${kind}`,
            (json) => {
              const problem = checkInitiation(kind, json);
              if (problem) return { reply: problem };
              const data = json.Data as Record<string, unknown>;
              const consent = bank.createConsent(
                kind,
                data.Permission === 'Create',
                data.Initiation as Record<string, unknown>,
                json.Risk as Record<string, unknown>,
              );
              log(`Consent ${consent.id} created (${kind})`);
              return { reply: { status: 201, json: consentView(consent) }, id: consent.id };
            },
            (consentId) => ({ status: 201, json: consentView(bank.consents.get(consentId)!) }),
          );
        },
      };
    if (method === 'GET' && id !== undefined && isConsent)
      return {
        operation: `Get${NAMES[kind]}PaymentConsentsConsentId` as Operation,
        reply: async () => {
          if (!bearer(request, 'client')) return unauthorised();
          const consent = bank.consents.get(id);
          return consent && consent.kind === kind ? { status: 200, json: consentView(consent) } : error(400, 'U011', 'no such consent', 'ConsentId');
        },
      };
    if (method === 'POST' && id === undefined && !isConsent)
      return {
        operation: `Create${PAYMENT_NAMES[kind]}` as Operation,
        reply: async () => {
          const psu = bearer(request, 'psu');
          if (!psu) return unauthorised();
          return post(
            request,
            body,
            `payment ${kind}`,
            (json) => {
              const data = (json.Data ?? {}) as Record<string, unknown>;
              const consent = typeof data.ConsentId === 'string' ? bank.consents.get(data.ConsentId) : undefined;
              if (!consent || consent.kind !== kind || psu.consentId !== consent.id)
                return { reply: error(400, 'U011', 'no such consent for this token', 'Data.ConsentId') };
              if (consent.status !== (version === '4.0' ? 'AUTH' : 'Authorised'))
                return { reply: error(400, 'U009', `the consent is ${consent.status}`, 'Data.ConsentId') };
              if (canonical(data.Initiation) !== canonical(consent.initiation))
                return { reply: error(400, 'U008', 'the Initiation differs from the consent', 'Data.Initiation') };
              if (canonical(json.Risk) !== canonical(consent.risk)) return { reply: error(400, 'U008', 'the Risk differs from the consent', 'Risk') };
              const payment = bank.createPayment(consent);
              log(`Payment ${payment.id} created for consent ${consent.id}`);
              return { reply: { status: 201, json: paymentView(payment) }, id: payment.id };
            },
            (paymentId) => ({ status: 201, json: paymentView(bank.payments.get(paymentId)!) }),
          );
        },
      };
    if (method === 'GET' && id !== undefined && !isConsent)
      return {
        operation: `Get${PAYMENT_NAMES[kind]}${RESOURCES[kind].idField}` as Operation,
        reply: async () => {
          if (!bearer(request, 'client')) return unauthorised();
          const payment = bank.payments.get(id);
          return payment && payment.kind === kind
            ? { status: 200, json: paymentView(payment) }
            : error(400, 'U011', 'no such payment', RESOURCES[kind].idField);
        },
      };
    return { operation: null, reply: async () => ({ status: 405 }) };
  }

  // ---- the authorization server ----

  function discovery() {
    const base = issuer();
    return {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      jwks_uri: `${base}/jwks`,
      response_types_supported: ['code id_token'],
      grant_types_supported: ['client_credentials', 'authorization_code'],
      scopes_supported: ['openid', 'payments'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['PS256'],
      id_token_signing_alg_values_supported: ['PS256'],
      request_object_signing_alg_values_supported: ['PS256'],
      request_parameter_supported: true,
      claims_parameter_supported: true,
      subject_types_supported: ['public'],
      acr_values_supported: ['urn:openbanking:psd2:sca', 'urn:openbanking:psd2:ca'],
    };
  }

  const oauthError = (status: number, code: string, description: string): Reply => ({ status, json: { error: code, error_description: description } });

  /** `private_key_jwt` (RFC 7523): signed by the registered client key, for this server, unexpired, never replayed. */
  async function authenticateClient(form: URLSearchParams): Promise<string | null> {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return null;
    const assertion = form.get('client_assertion');
    if (!assertion) return null;
    const { jwtVerify } = await import('jose');
    try {
      const { payload } = await jwtVerify(assertion, clientKey.publicKey, {
        issuer: MODEL_CLIENT_ID,
        subject: MODEL_CLIENT_ID,
        audience: [`${issuer()}/token`, issuer()],
        algorithms: ['PS256'],
        currentDate: new Date(clock.now()),
        requiredClaims: ['exp', 'jti'],
      });
      if (assertions.has(String(payload.jti))) return null;
      assertions.add(String(payload.jti));
      return MODEL_CLIENT_ID;
    } catch {
      return null;
    }
  }

  async function token(raw: Buffer): Promise<Reply> {
    const form = new URLSearchParams(raw.toString('utf8'));
    const client = await authenticateClient(form);
    if (!client) return oauthError(401, 'invalid_client', 'the client could not be authenticated (private_key_jwt)');
    const grant = form.get('grant_type');
    if (grant === 'client_credentials') {
      if (!(form.get('scope') ?? '').split(' ').includes('payments')) return oauthError(400, 'invalid_scope', 'scope must include payments');
      return { status: 200, json: { access_token: bank.issueToken('client', null), token_type: 'Bearer', expires_in: 3600, scope: 'payments' } };
    }
    if (grant === 'authorization_code') {
      const code = bank.codes.get(form.get('code') ?? '');
      if (!code || code.used || code.expiresAt < clock.now()) return oauthError(400, 'invalid_grant', 'unknown, used or expired code');
      code.used = true;
      if (form.get('redirect_uri') !== code.redirectUri) return oauthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
      if (code.codeChallenge) {
        const verifier = form.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== code.codeChallenge) return oauthError(400, 'invalid_grant', 'PKCE verifier mismatch');
      }
      return { status: 200, json: { access_token: bank.issueToken('psu', code.consentId), token_type: 'Bearer', expires_in: 3600, scope: 'openid payments' } };
    }
    return oauthError(400, 'unsupported_grant_type', 'client_credentials or authorization_code');
  }

  function page(response: ServerResponse, status: number, p: Page): void {
    response.writeHead(status, p.headers);
    response.end(p.body);
  }

  /** GET /authorize: the signed request object checked, then the consent shown with Approve and Refuse. */
  async function authorizePage(response: ServerResponse, url: URL): Promise<void> {
    const fail = (text: string) => page(response, 400, resultPage('Model bank', 'Request refused', text, null));
    const requestObject = url.searchParams.get('request');
    if (url.searchParams.get('client_id') !== MODEL_CLIENT_ID || !requestObject) return fail('Unknown client or no request object.');
    const { jwtVerify } = await import('jose');
    let claims: RequestClaims;
    try {
      ({ payload: claims } = await jwtVerify<RequestClaims>(requestObject, clientKey.publicKey, {
        issuer: MODEL_CLIENT_ID,
        audience: issuer(),
        algorithms: ['PS256'],
        currentDate: new Date(clock.now()),
        requiredClaims: ['exp', 'nbf'],
      }));
    } catch (e) {
      return fail(`The request object is not valid (${(e as Error).message.slice(0, 80)}).`);
    }
    if (claims.response_type !== 'code id_token' || url.searchParams.get('response_type') !== 'code id_token')
      return fail('response_type must be "code id_token".');
    if (
      !String(claims.scope ?? '')
        .split(' ')
        .includes('openid')
    )
      return fail('scope must include openid.');
    const redirectUri = String(claims.redirect_uri ?? '');
    if (!/^https?:\/\//.test(redirectUri) || url.searchParams.get('redirect_uri') !== redirectUri)
      return fail('redirect_uri is missing or differs from the request object.');
    if (typeof claims.state !== 'string' || typeof claims.nonce !== 'string') return fail('state and nonce are required.');
    const intent = claims.claims?.id_token?.openbanking_intent_id?.value;
    const consent = typeof intent === 'string' ? bank.consents.get(intent) : undefined;
    if (!consent) return fail('The request names no consent of this bank (openbanking_intent_id).');
    if (consent.status !== (version === '4.0' ? 'AWAU' : 'AwaitingAuthorisation')) return fail(`This consent is ${consent.status}: nothing left to authorise.`);
    const ticketId = randomBytes(18).toString('base64url');
    const ticket: Ticket = {
      consentId: consent.id,
      redirectUri,
      state: claims.state,
      nonce: claims.nonce,
      codeChallenge: typeof claims.code_challenge === 'string' ? claims.code_challenge : null,
      formToken: randomBytes(18).toString('base64url'),
      expiresAt: clock.now() + 15 * 60_000,
    };
    tickets.set(ticketId, ticket);
    page(response, 200, consentPage(consent, ticketId, ticket));
  }

  function consentPage(consent: Consent, ticketId: string, ticket: Ticket): Page {
    const i = consent.initiation as ShownInitiation;
    const amount = i.InstructedAmount ?? i.FirstPaymentAmount ?? {};
    const creditor = i.CreditorAccount ?? {};
    const account =
      creditor.SchemeName === 'UK.OBIE.SortCodeAccountNumber' && creditor.Identification
        ? `${creditor.Identification.slice(0, 2)}-${creditor.Identification.slice(2, 4)}-${creditor.Identification.slice(4, 6)} ${creditor.Identification.slice(6)}`
        : creditor.Identification;
    // The amount as the consent has it (a decimal string): never through a float.
    const shown = amount.Currency === 'GBP' ? `£${amount.Amount}` : `${amount.Amount} ${amount.Currency}`;
    const remittance = i.RemittanceInformation ?? {};
    const reference = Array.isArray(remittance.Unstructured) ? remittance.Unstructured[0] : (remittance.Reference ?? remittance.Unstructured ?? i.Reference);
    const schedule = i.RequestedExecutionDateTime
      ? html`<dt>On</dt><dd>${String(i.RequestedExecutionDateTime).slice(0, 10)}</dd>`
      : i.Frequency || i.MandateRelatedInformation
        ? html`<dt>Every</dt><dd>${i.Frequency ?? i.MandateRelatedInformation?.Frequency?.Type} from ${String(i.FirstPaymentDateTime ?? i.MandateRelatedInformation?.FirstPaymentDateTime).slice(0, 10)}</dd>`
        : '';
    return bankPage(
      `UK Open Banking ${version}`,
      'Authorise this payment',
      html`<h1>Authorise this payment</h1>
<dl><dt>Amount</dt><dd>${shown}</dd><dt>To</dt><dd>${creditor.Name}</dd><dt>Account</dt><dd>${account}</dd>
${reference ? html`<dt>Reference</dt><dd>${reference}</dd>` : ''}${schedule}</dl>
<form method="post" action="/authorize">
<input type="hidden" name="ticket" value="${ticketId}"><input type="hidden" name="token" value="${ticket.formToken}">
<div class="actions"><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="refuse">Refuse</button></div>
</form>`,
      [ticket.redirectUri],
    );
  }

  /** The payer's decision: approve → `#code=…&id_token=…&state=…`; refuse → `?error=access_denied&state=…`. */
  async function decideTicket(ticket: Ticket, decision: 'approve' | 'refuse'): Promise<string> {
    const consent = bank.consents.get(ticket.consentId)!;
    if (decision === 'refuse') {
      bank.setConsentStatus(consent, 'rejected');
      log(`Consent ${consent.id}: payer refused`);
      const url = new URL(ticket.redirectUri);
      url.searchParams.set('error', 'access_denied');
      url.searchParams.set('error_description', 'The payer refused the payment.');
      url.searchParams.set('state', ticket.state);
      return url.toString();
    }
    bank.setConsentStatus(consent, 'authorised');
    log(`Consent ${consent.id}: payer approved`);
    const code = randomBytes(24).toString('base64url');
    bank.codes.set(code, {
      consentId: consent.id,
      redirectUri: ticket.redirectUri,
      codeChallenge: ticket.codeChallenge,
      expiresAt: clock.now() + 5 * 60_000,
      used: false,
    });
    const { SignJWT } = await import('jose');
    const seconds = Math.floor(clock.now() / 1000);
    const idToken = await new SignJWT({
      nonce: ticket.nonce,
      c_hash: halfHash(code, 'PS256'),
      s_hash: halfHash(ticket.state, 'PS256'),
      openbanking_intent_id: consent.id,
      acr: 'urn:openbanking:psd2:sca',
      auth_time: seconds,
    })
      .setProtectedHeader({ alg: 'PS256', kid: bankKey.kid, typ: 'JWT' })
      .setIssuer(issuer())
      .setSubject(consent.id)
      .setAudience(MODEL_CLIENT_ID)
      .setIssuedAt(seconds)
      .setExpirationTime(seconds + 300)
      .sign(bankKey.privateKey);
    const fragment = new URLSearchParams({ code, id_token: idToken, state: ticket.state });
    return `${ticket.redirectUri}#${fragment.toString()}`;
  }

  async function authorizeDecision(response: ServerResponse, raw: Buffer): Promise<void> {
    const form = new URLSearchParams(raw.toString('utf8'));
    const ticketId = form.get('ticket') ?? '';
    const ticket = tickets.get(ticketId);
    const decision = form.get('decision');
    if (
      !ticket ||
      ticket.expiresAt < clock.now() ||
      !sameText(form.get('token') ?? '', ticket.formToken) ||
      (decision !== 'approve' && decision !== 'refuse')
    ) {
      return page(
        response,
        400,
        resultPage('Model bank', 'Request refused', 'The form was not sent from this page, or it expired. Open the link again.', null),
      );
    }
    tickets.delete(ticketId);
    const location = await decideTicket(ticket, decision);
    response.writeHead(303, { Location: location, 'Cache-Control': 'no-store' });
    response.end();
  }

  // ---- control (outside the standard; loopback only) ----

  function control(method: string, segments: string[], json: unknown): Reply {
    const [resource, id, action] = segments;
    const key = `${method} ${resource ?? ''}${id ? ' id' : ''}${action ? ` ${action}` : ''}`;
    switch (key) {
      case 'GET ':
        return {
          status: 200,
          json: {
            simulator: `UK Open Banking ${version} model bank`,
            endpoints: [
              'GET/POST/DELETE /_simulator/faults',
              'GET /_simulator/consents',
              'GET /_simulator/payments',
              'POST /_simulator/payments/{id}/status',
              'GET /_simulator/received',
              'POST /_simulator/reset',
            ],
          },
        };
      case 'GET faults':
        return { status: 200, json: faults.list() };
      case 'POST faults':
        try {
          return { status: 201, json: faults.add(json as FaultSpec<Operation> | FaultSpec<Operation>[]) };
        } catch (e) {
          if (e instanceof FaultError) return { status: 400, json: { error: e.message } };
          throw e;
        }
      case 'DELETE faults':
        faults.clear();
        return { status: 204 };
      case 'GET consents':
        return { status: 200, json: [...bank.consents.values()] };
      case 'GET payments':
        return { status: 200, json: [...bank.payments.values()].map((p) => ({ ...p, status: bank.status(p).status })) };
      case 'GET received':
        return { status: 200, json: received.summary() };
      case 'POST reset':
        bank.clear();
        faults.clear();
        received.clear();
        return { status: 204 };
      case 'POST payments id status': {
        const payment = bank.payments.get(id!);
        if (!payment) return { status: 404, json: { error: 'no such payment' } };
        const status = (json as { Status?: unknown } | undefined)?.Status;
        if (typeof status !== 'string' || !PAYMENT_STATUSES[version][payment.kind].includes(status))
          return { status: 400, json: { error: `Status must be one of ${PAYMENT_STATUSES[version][payment.kind].join(', ')}` } };
        bank.force(payment, status);
        return { status: 200, json: { ...payment, status } };
      }
    }
    return { status: 404, json: { error: 'no such control resource' } };
  }

  // ---- dispatch ----

  const server: Server = createServer((request, response) => {
    dispatch(request, response).catch((e: unknown) => {
      log(`simulator error: ${(e as Error).message}`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  function json(response: ServerResponse, reply: Reply): void {
    response.writeHead(reply.status, reply.json === undefined ? {} : { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    response.end(reply.json === undefined ? undefined : JSON.stringify(reply.json));
  }

  async function withFaults(
    request: IncomingMessage,
    operation: Operation,
    run: () => Promise<Reply>,
    send: (reply: Reply) => Promise<void> | void,
  ): Promise<void> {
    const { latencyMs, fault } = faults.take(operation);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (fault?.kind === 'reject') return void (await send(error(fault.status!, fault.code!, fault.text ?? 'Rejected by the model bank (injected fault).')));
    const failWith = (f: Fault<Operation>) => failRequest(request, f, hanging, (status) => void send({ status }));
    if (fault && !fault.afterProcessing) return failWith(fault);
    const reply = await run();
    if (fault) return failWith(fault);
    await send(reply);
  }

  async function dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://model-bank');
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (path === '/.well-known/openid-configuration' && method === 'GET') return json(response, { status: 200, json: discovery() });
    if (path === '/jwks' && method === 'GET') return json(response, { status: 200, json: { keys: [publicJwk(bankKey)] } });
    if (path === '/token' && method === 'POST') {
      received.recordCall({ operation: 'token', method, path, requestId: null, at: clock.now() });
      return withFaults(
        request,
        'token',
        () => token(body.raw),
        (reply) => json(response, reply),
      );
    }
    if (path === '/authorize' && method === 'GET') return authorizePage(response, url);
    if (path === '/authorize' && method === 'POST') return authorizeDecision(response, body.raw);
    if (path.startsWith('/_simulator')) {
      const segments = path.split('/').filter(Boolean).slice(1);
      return json(response, control(method, segments, parseJson(body.raw)));
    }
    if (path === apiRoot || path.startsWith(`${apiRoot}/`)) {
      const segments = path.slice(apiRoot.length).split('/').filter(Boolean);
      const routed = await serveApi(request, method, segments, body);
      received.recordCall({ operation: routed.operation, method, path, requestId: header(request, 'x-idempotency-key') ?? null, at: clock.now() });
      const send = (reply: Reply) => sendApi(response, request, reply);
      if (!routed.operation) return send(await routed.reply());
      const creates = method === 'POST';
      const record = creates
        ? received.recordInitiation({ requestId: header(request, 'x-idempotency-key') ?? null, bodyHash: hashBody(body.raw), paymentId: null, at: clock.now() })
        : null;
      return withFaults(
        request,
        routed.operation,
        async () => {
          const reply = await routed.reply();
          if (record && reply.status === 201) {
            const data = ((reply.json as Record<string, unknown>).Data ?? {}) as Record<string, unknown>;
            record.paymentId = String(data.ConsentId && segments[0]!.endsWith('-consents') ? data.ConsentId : Object.values(data)[0]);
          }
          return reply;
        },
        send,
      );
    }
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(`Not found. The payment API is under ${apiRoot}; the authorization server at /.well-known/openid-configuration; control under /_simulator.\n`);
  }

  self = await listen(server, options);

  return {
    url: self,
    baseUrl: `${issuer()}${apiRoot}`,
    issuer: issuer(),
    apiVersion: version,
    clientId: MODEL_CLIENT_ID,
    clientKey: { kid: clientKey.kid, path: clientKey.path },
    bankKey,
    faults,
    settings,
    bank,
    received,
    async decide(consentId, decision) {
      const entry = [...tickets.entries()].find(([, t]) => t.consentId === consentId);
      if (!entry) throw new Error(`no open authorization for consent ${consentId}`);
      tickets.delete(entry[0]);
      return decideTicket(entry[1], decision);
    },
    async close() {
      for (const socket of hanging) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
