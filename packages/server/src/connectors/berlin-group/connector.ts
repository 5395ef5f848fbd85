/**
 * The Berlin Group NextGenPSD2 1.3.12 connector for one configured bank: payment initiation with
 * redirect SCA (implicit and explicit start) and decoupled SCA, status, cancellation. Every call
 * goes through the core's `ctx.http` (attempt record, X-Request-ID, deadline, mTLS, signing, log).
 * A call whose answer is lost is `unknown` and is never sent again from here (docs/reference/berlin-group.md §10).
 */
import {
  checkReturn,
  consentReturnUrl,
  exchangeCode,
  type OAuthClient,
  openPending,
  openToken,
  sealPending,
  sealToken,
  startAuthorization,
} from '../kit/oauth.ts';
import { CANCELLED_BY_CLIENT, cancellationRefused, cancelledByClient } from '../kit/cancellation.ts';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { codeStep, credentialsStep, EMBEDDED_FIELDS, methodStep } from '../kit/consent.ts';
import {
  bankDescriptor,
  type BankResponse,
  type ConfiguredBank,
  type Connector,
  type ConnectorContext,
  type ConnectorOutcome,
  type ConnectorPayment,
  type PaymentField,
  type PaymentSettings,
} from '../kit/index.ts';
import { mapBankError, readTppMessages } from './error-table.ts';
import { authorisationHeaders, initiationHeaders, psuContextHeaders } from './headers.ts';
import { randomUUID } from 'node:crypto';
import { mapReason } from '../stet/status-table.ts';
import { buildInitiation, type CalledProduct, type InitiationRequest, type PaymentService } from './initiation.ts';
import { isXmlProduct, pain001Xml, periodicMultipart, readPain002, standingOrderJson, xmlProduct } from './pain.ts';
import { authorisationIdFromLink, paths, type PaymentRef } from './paths.ts';
import { resolveProfile, type BerlinGroupProfile } from './profile.ts';
import { browserUrl, hasLink, link, object, scaApproachHeader, str, transactionStatus, type Json } from './responses.ts';
import { mapTransactionStatus, payeeVerification, SCA_DONE, SCA_FAILED } from './status-table.ts';
import type { PayeeVerification } from '../kit/payee-verification.ts';

/** What the connector keeps between calls (stored by the core as the payment's connector data). */
export interface BgData {
  service?: PaymentService;
  product?: CalledProduct;
  payment_id?: string;
  authorisation_id?: string | null;
  sca_redirect?: string | null;
  decoupled?: boolean;
  sca_done?: boolean;
  initiated_at?: number;
  returned_at?: number;
  nok?: boolean;
  last_status?: string | null;
  awaiting_psu_id?: boolean;
  cancel_requested_at?: number;
  cancel_authorisation_id?: string | null;
  /** Embedded SCA: the step the payer is at, and the bank's link for the next one (a path on its base URL). */
  embedded?: { step: 'credentials' | 'method' | 'code' | 'failed'; next?: string | null } | null;
  /** OAuth2 SCA (`scaOAuth`): the bank's authorization server, read from the metadata the link named. */
  sca_oauth?: { issuer: string; authorization_endpoint: string; token_endpoint: string } | null;
  /** Verification of Payee: the result the initiation's answer carried (kit/payee-verification.ts). */
  payee_verification?: PayeeVerification;
  [key: string]: unknown;
}

const ACCEPT = { Accept: 'application/json' };
const DECOUPLED_TEXT = 'Please confirm the payment in your banking app.';

export function psuIdField(): PaymentField {
  return {
    name: 'psu_id',
    type: 'text',
    label: 'Your online banking user ID',
    required: true,
    regex: '^.{1,140}$',
    default: null,
    auth_mechanisms: ['webauth'],
  };
}

function dataOf(payment: ConnectorPayment): BgData {
  return (payment.data ?? {}) as BgData;
}

function refOf(payment: ConnectorPayment, data: BgData): PaymentRef | null {
  const paymentId = data.payment_id ?? payment.bank_payment_id;
  if (!data.service || !data.product || !paymentId) return null;
  return { service: data.service, product: data.product, paymentId };
}

function unknown(reason: string, data: BgData): ConnectorOutcome {
  return { kind: 'unknown', reason, data };
}

/** 5xx and 429 say nothing about what the bank did; 4xx is a clear refusal. */
function isUnknownStatus(status: number): boolean {
  return status >= 500 || status === 429 || status < 200;
}

function unknownReason(response: BankResponse): string {
  return response.kind === 'unknown' ? response.reason : `HTTP ${response.status}`;
}

/** The error code of a payment the bank reports RJCT or CANC (docs/reference/berlin-group.md §7, §8). */
function rejection(code: string, body: Json, data: BgData, scaStatus: string | null): { error_code: string; error_description: string } {
  if (code === 'CANC') {
    return data.cancel_requested_at
      ? { ...CANCELLED_BY_CLIENT }
      : { error_code: 'CancelledByUser', error_description: 'The payment was cancelled at the bank.' };
  }
  // pain.002: the ISO 20022 reason code, read with the same table as STET's statusReasonInformation.
  const reason = str(body.statusReason, 35);
  if (reason) {
    const mapped = mapReason(reason, data.cancel_requested_at !== undefined);
    const words = str(body.statusReasonText, 500);
    return { error_code: mapped.error_code, error_description: `The bank rejected the payment (${reason}${words ? `: ${words}` : ''}).` };
  }
  const messages = readTppMessages(body).filter((m) => m.category !== 'WARNING');
  if (messages.length > 0) {
    const mapped = mapBankError(200, body);
    return { error_code: mapped.error_code, error_description: mapped.description };
  }
  if (body.fundsAvailable === false) return { error_code: 'insufficientFunds', error_description: 'The bank rejected the payment: insufficient funds.' };
  // Back on the Nok URI the payer chose to stop; a failed SCA found by status sync is an authentication failure.
  const named = data.payee_verification?.result;
  if (data.nok && named && named !== 'match')
    return {
      error_code: 'CancelledByUser',
      error_description: `The payer cancelled the payment at the bank after the check of the payee's name (${named.replace('_', ' ')}).`,
    };
  if (data.nok) return { error_code: 'CancelledByUser', error_description: 'The payer cancelled the payment at the bank.' };
  if (scaStatus && SCA_FAILED.has(scaStatus))
    return { error_code: 'authenticationFailed', error_description: "The payer's authentication at the bank failed." };
  if (scaStatus === 'received') return { error_code: 'noAnswerFromCustomer', error_description: 'The payer did not authorise the payment at the bank.' };
  return { error_code: 'noSpecifiedReason', error_description: 'The bank rejected the payment.' };
}

export function createBerlinGroupConnector(bank: ConfiguredBank, settings: PaymentSettings): Connector {
  const profile: BerlinGroupProfile = resolveProfile(bank.profile, bank.sca_approach);
  const descriptor = bankDescriptor(bank, settings, profile.psu_id_required ? [psuIdField()] : []);
  descriptor.payment_settings = {
    ...descriptor.payment_settings,
    maximum_number_of_instructions: profile.bulk ? profile.max_instructions : 1,
    providing_payer_account: profile.providing_payer_account,
    partial_status_tracking: profile.partial_status_tracking,
    execution_frequencies: descriptor.payment_settings.execution_frequencies.filter((f) => f !== 'four-monthly' || profile.monthly_variable),
  };

  /** `Date` on every call where the bank wants it (profile `send_date`): signed with the rest when signing is on. */
  const dated = (ctx: ConnectorContext, headers: Record<string, string>) =>
    profile.send_date ? { ...headers, Date: new Date(ctx.now).toUTCString() } : headers;

  const send = (
    ctx: ConnectorContext,
    operation: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) => ctx.http.send({ operation, method, path, headers: dated(ctx, headers), ...(body !== undefined ? { body } : {}), timeoutMs: profile.timeout_ms });

  /**
   * A link of the bank's for the next embedded step, as a path on its base URL (query parameters
   * kept, called as given); null for a link to another host or outside `/v1`.
   */
  function bankPath(href: string | null): string | null {
    if (!href) return null;
    try {
      const baseUrl = new URL(bank.base_url);
      const url = new URL(href, baseUrl);
      if (url.origin !== baseUrl.origin) return null;
      const prefix = baseUrl.pathname.replace(/\/+$/, '');
      let path = `${url.pathname}${url.search}`;
      if (prefix && path.startsWith(`${prefix}/`)) path = path.slice(prefix.length);
      return path.startsWith('/v1/') ? path : null;
    } catch {
      return null;
    }
  }

  /** The payer's password as the bank wants it: encrypted with its key when the profile gives one (JWE compact, RSA-OAEP-256 + A256GCM). */
  async function psuData(password: string): Promise<{ password: string } | { encryptedPassword: string }> {
    const key = profile.embedded_password_key;
    if (!key) return { password };
    const publicKey = typeof key === 'string' ? createPublicKey(key) : createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    const kid = typeof key === 'object' && typeof key.kid === 'string' ? { kid: key.kid } : {};
    const encryptedPassword = await new CompactEncrypt(new TextEncoder().encode(password))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...kid })
      .encrypt(publicKey);
    return { encryptedPassword };
  }

  /** A next-step link off the bank's base URL (another host, or outside `/v1`) is never called: the payment stops there. */
  function foreignLink(href: string | null, data: BgData): ConnectorOutcome {
    let where = 'no link';
    try {
      where = href ? new URL(href, bank.base_url).host : where;
    } catch {
      where = 'an unreadable link';
    }
    return {
      kind: 'refused',
      error_code: 'bug',
      error_description: href
        ? `The bank's link for the next step is not on its base URL (${where}): Payrail does not follow it.`
        : 'The bank gave no link for the next step.',
      data: { ...data, embedded: { step: 'failed' } },
    };
  }

  /** Embedded SCA, one step per page: credentials → SCA method → one-time code. The values go to the bank only. */
  async function embeddedStep(payment: ConnectorPayment, fields: Record<string, string>, ctx: ConnectorContext, data: BgData): Promise<ConnectorOutcome> {
    const ref = refOf(payment, data);
    const step = data.embedded!.step;
    if (!ref || step === 'failed') return { kind: 'refused', error_code: 'bug', error_description: 'This payment is not waiting for an answer.', data };
    const psuId = fields[EMBEDDED_FIELDS.userId]?.trim() || null;
    let response: BankResponse;
    if (step === 'credentials') {
      const password = fields[EMBEDDED_FIELDS.password];
      if (!psuId || !password) return credentialsStep({ data, description: 'Log in to your bank.' });
      response = await send(ctx, 'authorise', 'POST', paths.authorisations(ref), authorisationHeaders(headerInput(payment, ctx, psuId)), {
        psuData: await psuData(password),
      });
    } else {
      const given = data.embedded!.next ?? null;
      const path = given ? bankPath(given) : data.authorisation_id ? paths.authorisation(ref, data.authorisation_id) : null;
      if (!path) return foreignLink(given, data);
      const body =
        step === 'method' ? { authenticationMethodId: fields[EMBEDDED_FIELDS.method] ?? '' } : { scaAuthenticationData: fields[EMBEDDED_FIELDS.code] ?? '' };
      response = await send(
        ctx,
        step === 'method' ? 'select-method' : 'authorise-transaction',
        'PUT',
        path,
        { 'Content-Type': 'application/json', Accept: 'application/json', ...psuContextHeaders(profile, payment.psu_http) },
        body,
      );
    }
    if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(unknownReason(response), data);
    const failed: BgData = { ...data, embedded: { step: 'failed' } };
    if (response.status >= 400) {
      const error = mapBankError(response.status, response.body);
      // A wrong code the bank lets the payer type again (its authorisation still waits for one): ask again, with the bank's words.
      if (step === 'code' && error.error_code === 'authenticationFailed') {
        const { scaStatus } = await readScaStatus(ctx, ref, data.authorisation_id);
        if (scaStatus === 'scaMethodSelected') {
          const words = readTppMessages(response.body).find((m) => m.text)?.text;
          return codeStep({ data, description: words ?? 'The code is wrong: enter it again.' }, 'One-time code');
        }
      }
      return { kind: 'state', state: 'rejected', error_code: error.error_code, error_description: error.description, data: failed };
    }
    const body = object(response.body);
    const authorisation_id = str(body.authorisationId, 200) ?? data.authorisation_id ?? null;
    const next: BgData = { ...data, authorisation_id };
    const scaStatus = str(body.scaStatus, 35);
    if (scaStatus && SCA_DONE.has(scaStatus)) {
      const done: BgData = { ...next, embedded: null, sca_done: true, returned_at: ctx.now };
      return (await sync(payment, ctx, done, null)) ?? { kind: 'state', state: 'pending', bank_status: done.last_status ?? null, data: done };
    }
    if (scaStatus && SCA_FAILED.has(scaStatus))
      return {
        kind: 'state',
        state: 'rejected',
        error_code: 'authenticationFailed',
        error_description: "The payer's authentication at the bank failed.",
        data: failed,
      };
    for (const name of ['selectAuthenticationMethod', 'authoriseTransaction']) {
      const href = link(body, name);
      if (href && !bankPath(href)) return foreignLink(href, failed);
    }
    const methods = Array.isArray(body.scaMethods) ? body.scaMethods.map(object) : [];
    if (hasLink(body, 'selectAuthenticationMethod') && methods.length > 0) {
      const choices = methods.flatMap((m) => {
        const id = str(m.authenticationMethodId, 35);
        return id ? [{ id, label: str(m.name, 200) ?? str(m.authenticationType, 35) ?? id }] : [];
      });
      return methodStep(
        { data: { ...next, embedded: { step: 'method', next: link(body, 'selectAuthenticationMethod') } }, description: 'Choose how to confirm this payment.' },
        choices,
      );
    }
    if (hasLink(body, 'authoriseTransaction')) {
      const challenge = object(body.challengeData);
      const text = str(challenge.additionalInformation, 500) ?? str(body.psuMessage, 500);
      return codeStep(
        { data: { ...next, embedded: { step: 'code', next: link(body, 'authoriseTransaction') } }, description: text ?? 'Enter the code your bank sent you.' },
        'One-time code',
      );
    }
    return { kind: 'refused', error_code: 'bug', error_description: 'The bank asked for an embedded step Payrail does not know.', data: failed };
  }

  /** The payer's token from an OAuth2 SCA (sealed on the attempt), for the reads the bank wants it on. */
  function payerAuthorization(payment: ConnectorPayment, ctx: ConnectorContext): Record<string, string> {
    if (!payment.consent || !ctx.vault) return {};
    const token = openToken(ctx, payment.consent);
    if (typeof token?.access_token !== 'string' || (token.expires_at !== null && token.expires_at <= ctx.now)) return {};
    return { Authorization: `Bearer ${token.access_token}` };
  }

  /** A URL of the bank's authorization server: http(s), on the API's host or one the profile lists (`oauth.hosts`). */
  function bankAuthorizationUrl(href: unknown): string | null {
    if (typeof href !== 'string') return null;
    try {
      const url = new URL(href);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
      const host = url.host.toLowerCase();
      return host === new URL(bank.base_url).host.toLowerCase() || (profile.oauth?.hosts ?? []).includes(host) ? url.toString() : null;
    } catch {
      return null;
    }
  }

  function scaClient(ctx: ConnectorContext, server: NonNullable<BgData['sca_oauth']>, paymentId: string): OAuthClient {
    return {
      clientId: profile.oauth!.client_id,
      issuer: server.issuer,
      authorizationEndpoint: server.authorization_endpoint,
      tokenEndpoint: server.token_endpoint,
      redirectUri: consentReturnUrl(ctx.baseUrl),
      // Berlin Group's OAuth2 SCA: the scope names the payment resource.
      scope: `PIS:${paymentId}`,
      auth: { method: 'bank' },
    };
  }

  /**
   * `scaOAuth`: the link names the bank's authorization server metadata (RFC 8414); the payer is
   * sent to its authorization endpoint with `state` and PKCE; the verifier is sealed on the attempt.
   */
  async function startOAuthSca(
    payment: ConnectorPayment,
    ctx: ConnectorContext,
    data: BgData,
    href: string | null,
    ref: PaymentRef,
  ): Promise<ConnectorOutcome> {
    const refuse = (why: string): ConnectorOutcome => ({ kind: 'refused', error_code: 'bug', error_description: why, bank_reference: ref.paymentId, data });
    if (!profile.oauth) return refuse('The bank asks for OAuth2 SCA: configure its OAuth client (profile oauth).');
    const metadataUrl = bankAuthorizationUrl(href);
    if (!metadataUrl) return refuse("The bank's scaOAuth link names a host that is not the bank's (profile oauth.hosts).");
    const response = await ctx.http.send({
      operation: 'oauth-metadata',
      method: 'GET',
      path: '/',
      url: metadataUrl,
      headers: ACCEPT,
      timeoutMs: profile.timeout_ms,
    });
    if (response.kind === 'unknown' || isUnknownStatus(response.status)) return { ...unknown(unknownReason(response), data), bank_reference: ref.paymentId };
    const metadata = object(response.body);
    const authorization = bankAuthorizationUrl(metadata.authorization_endpoint);
    const token = bankAuthorizationUrl(metadata.token_endpoint);
    if (response.status !== 200 || !authorization || !token) return refuse("The bank's authorization server metadata names no usable endpoints.");
    const methods = metadata.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes('S256')) return refuse("The bank's authorization server does not take PKCE S256.");
    const server = { issuer: str(metadata.issuer, 1000) ?? new URL(metadataUrl).origin, authorization_endpoint: authorization, token_endpoint: token };
    const { url, pending } = await startAuthorization(scaClient(ctx, server, ref.paymentId), { flow: 'oauth2', paymentId: payment.id, now: ctx.now });
    return {
      kind: 'redirect',
      validate_uri: url,
      bank_reference: ref.paymentId,
      data: { ...data, sca_oauth: server, sca_redirect: url },
      consent: sealPending(ctx, pending),
    };
  }

  /** The payer is back from the bank's authorization server: `state` checked, the code exchanged, the payer's token sealed. */
  async function oauthReturn(payment: ConnectorPayment, ctx: ConnectorContext, data: BgData, params: Record<string, string>): Promise<ConnectorOutcome> {
    const server = data.sca_oauth!;
    const again: ConnectorOutcome = { kind: 'redirect', validate_uri: data.sca_redirect ?? '', data };
    const pending = openPending(ctx, payment.consent);
    // No pending authorization: the code was already exchanged (a second return), the status decides.
    if (!pending || typeof pending.verifier !== 'string') return (await sync(payment, ctx, data, again))!;
    const ref = refOf(payment, data);
    if (!ref) return { kind: 'refused', error_code: 'bug', error_description: 'The bank holds no payment for this authorisation.', data };
    const client = scaClient(ctx, server, ref.paymentId);
    const checked = await checkReturn(client, pending, params, { now: ctx.now });
    if (checked.foreign) return again;
    if (!checked.ok) {
      const nok = { ...data, nok: checked.error_code === 'CancelledByUser' };
      return { kind: 'state', state: 'rejected', error_code: checked.error_code, error_description: checked.error_description, data: nok, consent: null };
    }
    const exchange = await exchangeCode(ctx.http, client, { code: checked.code, verifier: pending.verifier, now: ctx.now });
    // The code is single-use: a lost answer is never sent again; the status read decides.
    if (exchange.kind === 'unknown') return { kind: 'unknown', reason: `token exchange: ${exchange.reason}`, data, consent: null };
    if (exchange.kind === 'refused') {
      return {
        kind: 'state',
        state: 'rejected',
        error_code: 'authenticationFailed',
        error_description: `The bank refused the authorization (${exchange.error.slice(0, 60)}).`,
        data,
        consent: null,
      };
    }
    const consent = sealToken(ctx, exchange.token);
    const outcome = (await sync({ ...payment, consent }, ctx, data, again))!;
    return { ...outcome, consent };
  }

  const headerInput = (payment: ConnectorPayment, ctx: ConnectorContext, psuId: string | null) => ({
    profile,
    payerIp: payment.psu_ip_address,
    returnUrls: ctx.returnUrls,
    psuId,
    psuHttp: payment.psu_http,
  });

  /** The state a status answer gives; `null` when the answer changes nothing. */
  function fromStatus(payment: ConnectorPayment, data: BgData, body: Json, scaStatus: string | null): ConnectorOutcome | null {
    const code = transactionStatus(body);
    if (!code) return null;
    const scaDone = data.sca_done === true || (scaStatus !== null && SCA_DONE.has(scaStatus));
    const mapped = mapTransactionStatus(code.toUpperCase(), { scaDone, untracked: profile.partial_status_tracking.includes(payment.execution_date_type) });
    const next: BgData = { ...data, last_status: code, sca_done: scaDone || (mapped !== null && mapped !== 'validating' && mapped !== 'rejected') };
    if (mapped === null || mapped === 'validating') return null;
    const count = payment.instructions.length;
    const all = <T>(state: T): T[] => Array.from({ length: count }, () => state);
    if (mapped === 'rejected') {
      const { error_code, error_description } = rejection(code.toUpperCase(), body, data, scaStatus);
      return {
        kind: 'state',
        state: 'rejected',
        error_code,
        error_description,
        bank_status: code,
        data: next,
        ...(count > 1 ? { instructions: all('rejected' as const) } : {}),
      };
    }
    // PART: some instructions rejected, the bank does not say which: the payment is partial, every instruction accepted (powens-pay-api §11).
    const state = mapped === 'partial' ? 'accepted' : mapped;
    return {
      kind: 'state',
      state,
      bank_status: code,
      data: next,
      ...(mapped === 'partial' ? { partial: true } : {}),
      ...(count > 1 ? { instructions: all(state) } : {}),
    };
  }

  async function readStatus(
    ctx: ConnectorContext,
    ref: PaymentRef,
    auth: Record<string, string> = {},
  ): Promise<{ ok: true; body: Json } | { ok: false; outcome: 'unknown' | 'refused'; reason: string; body: unknown; status: number }> {
    // An XML product's status comes as pain.002 (the JSON answer is read too, some banks send it).
    const accept = isXmlProduct(ref.product) ? { Accept: 'application/xml, application/json;q=0.9' } : ACCEPT;
    const response = await send(ctx, 'status', 'GET', paths.status(ref), { ...accept, ...auth });
    if (response.kind === 'unknown' || isUnknownStatus(response.status))
      return { ok: false, outcome: 'unknown', reason: unknownReason(response), body: null, status: 0 };
    if (response.status >= 400) return { ok: false, outcome: 'refused', reason: `HTTP ${response.status}`, body: response.body, status: response.status };
    if (typeof response.body === 'string') {
      const report = readPain002(response.body);
      // Neither JSON nor a pain.002: nothing can be read from it, as with a lost answer.
      if (!report) return { ok: false, outcome: 'unknown', reason: 'the status answer is neither JSON nor a pain.002', body: null, status: 0 };
      return {
        ok: true,
        body: {
          ...(report.transactionStatus ? { transactionStatus: report.transactionStatus } : {}),
          ...(report.reason ? { statusReason: report.reason } : {}),
          ...(report.reasonText ? { statusReasonText: report.reasonText } : {}),
        },
      };
    }
    return { ok: true, body: object(response.body) };
  }

  async function readScaStatus(
    ctx: ConnectorContext,
    ref: PaymentRef,
    authorisationId: string | null | undefined,
    auth: Record<string, string> = {},
  ): Promise<{ scaStatus: string | null; psuMessage: string | null }> {
    if (!authorisationId) return { scaStatus: null, psuMessage: null };
    const response = await send(ctx, 'sca-status', 'GET', paths.authorisation(ref, authorisationId), { ...ACCEPT, ...auth });
    if (response.kind === 'unknown' || response.status >= 300) return { scaStatus: null, psuMessage: null };
    const body = object(response.body);
    return { scaStatus: str(body.scaStatus, 35), psuMessage: str(body.psuMessage) };
  }

  /** After the initiation: where the payer goes next (redirect, decoupled, or an explicit authorisation first). */
  async function nextStep(
    payment: ConnectorPayment,
    ctx: ConnectorContext,
    data: BgData,
    body: Json,
    approach: string | null,
    psuId: string | null,
    mayStart = true,
  ): Promise<ConnectorOutcome> {
    const ref = refOf(payment, data)!;
    const redirect = browserUrl(link(body, 'scaRedirect'));
    const authorisation_id = authorisationIdFromLink(link(body, 'scaStatus')) ?? str(body.authorisationId, 200) ?? data.authorisation_id ?? null;
    if (redirect)
      return { kind: 'redirect', validate_uri: redirect, bank_reference: ref.paymentId, data: { ...data, sca_redirect: redirect, authorisation_id } };
    const decoupled = approach === 'DECOUPLED' || (profile.sca_approach === 'decoupled' && approach !== 'REDIRECT');
    const startLink = ['startAuthorisation', 'startAuthorisationWithPsuIdentification'].find((name) => hasLink(body, name));
    if (startLink && mayStart) {
      const response = await send(ctx, 'authorise', 'POST', paths.authorisations(ref), authorisationHeaders(headerInput(payment, ctx, psuId)), {});
      if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(unknownReason(response), data);
      if (response.status >= 400) {
        const error = mapBankError(response.status, response.body);
        return { kind: 'refused', error_code: error.error_code, error_description: error.description, bank_reference: ref.paymentId, data };
      }
      const started = object(response.body);
      const id = str(started.authorisationId, 200);
      return nextStep(payment, ctx, { ...data, authorisation_id: id }, started, scaApproachHeader(response.headers) ?? approach, psuId, false);
    }
    if (decoupled) {
      const description = str(body.psuMessage) ?? DECOUPLED_TEXT;
      return { kind: 'decoupled', description, bank_reference: ref.paymentId, data: { ...data, decoupled: true, authorisation_id: authorisation_id || null } };
    }
    const encrypted = ['startAuthorisationWithEncryptedPsuAuthentication', 'updateEncryptedPsuAuthentication'].some((name) => hasLink(body, name));
    if (profile.embedded && encrypted && !profile.embedded_password_key) {
      return {
        kind: 'refused',
        error_code: 'bug',
        error_description: "The bank wants the payer's password encrypted: configure its key (profile embedded_password_key).",
        bank_reference: ref.paymentId,
        data,
      };
    }
    if (profile.embedded && (encrypted || ['startAuthorisationWithPsuAuthentication', 'updatePsuAuthentication'].some((name) => hasLink(body, name)))) {
      return credentialsStep(
        { data: { ...data, authorisation_id, embedded: { step: 'credentials' } }, bank_reference: ref.paymentId, description: 'Log in to your bank.' },
        { userId: 'Your online banking user ID', password: 'Your online banking password' },
      );
    }
    if (hasLink(body, 'scaOAuth')) return startOAuthSca(payment, ctx, { ...data, authorisation_id }, link(body, 'scaOAuth'), ref);
    // Embedded-only answers need a flow Payrail does not drive yet (docs/reference/berlin-group.md §5).
    const what = 'this SCA approach';
    return {
      kind: 'refused',
      error_code: 'bug',
      error_description: `The bank asks for ${what}, which Payrail does not support yet.`,
      bank_reference: ref.paymentId,
      data,
    };
  }

  async function initiate(payment: ConnectorPayment, ctx: ConnectorContext, psuId: string | null, base: BgData): Promise<ConnectorOutcome> {
    const request = buildInitiation(payment, profile);
    if (!request.ok) return { kind: 'refused', error_code: request.error_code, error_description: request.description, data: base };
    const call = profile.pain001 ? asPain001(request, payment, ctx) : { product: request.product, body: request.body as unknown, contentType: null };
    const data: BgData = { ...base, service: request.service, product: call.product, initiated_at: ctx.now, awaiting_psu_id: false };
    const headers = initiationHeaders(headerInput(payment, ctx, psuId));
    if (call.contentType) headers['Content-Type'] = call.contentType;
    const response = await send(ctx, 'initiate', 'POST', paths.initiate(request.service, call.product), headers, call.body);
    if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(unknownReason(response), data);
    if (response.status >= 300) {
      const error = mapBankError(response.status, response.body);
      return { kind: 'refused', error_code: error.error_code, error_description: error.description, data };
    }
    const body = object(response.body);
    const paymentId = str(body.paymentId, 200);
    // Created, but with no id we can never ask about it: as good as a lost answer.
    if (!paymentId) return unknown('the bank answered without a paymentId', data);
    const vop = payeeVerification(body);
    const created: BgData = { ...data, payment_id: paymentId, last_status: transactionStatus(body), ...(vop ? { payee_verification: vop } : {}) };
    const status = transactionStatus(body)?.toUpperCase();
    if (status === 'RJCT' || status === 'CANC') {
      const outcome = fromStatus(payment, created, body, null);
      if (outcome) return { ...outcome, bank_reference: paymentId };
    }
    const next = await nextStep(payment, ctx, created, body, scaApproachHeader(response.headers), psuId);
    // While the payer is at the bank the raw status is the initiation's (RCVD, or a Verification of Payee code).
    const waiting = next.kind === 'redirect' || next.kind === 'decoupled' || next.kind === 'fields';
    return waiting && next.bank_status === undefined ? { ...next, bank_status: transactionStatus(body) } : next;
  }

  /** The same initiation as pain.001 XML (profile `pain001`): the XML product, the message, a periodic payment's multipart body. */
  function asPain001(request: Extract<InitiationRequest, { ok: true }>, payment: ConnectorPayment, ctx: ConnectorContext) {
    const xml = pain001Xml(request.service, request.product, request.body, {
      messageId: randomUUID().replaceAll('-', ''),
      now: ctx.now,
      debtorName: payment.payer?.label ?? null,
      initiatingParty: 'Payrail',
    });
    const product = xmlProduct(request.product);
    if (request.service !== 'periodic-payments') return { product, body: xml as unknown, contentType: 'application/xml' };
    const multipart = periodicMultipart(xml, standingOrderJson(request.body), `payrail-${randomUUID()}`);
    return { product, body: multipart.body as unknown, contentType: multipart.contentType };
  }

  /** Reads the bank's status (and scaStatus while SCA is not known to be done); `fallback` when nothing changed. */
  async function sync(payment: ConnectorPayment, ctx: ConnectorContext, data: BgData, fallback: ConnectorOutcome | null): Promise<ConnectorOutcome | null> {
    const ref = refOf(payment, data);
    if (!ref) return fallback;
    const auth = payerAuthorization(payment, ctx);
    const status = await readStatus(ctx, ref, auth);
    // A lost status answer is unknown: the core asks again soon; a 4xx status read changes nothing.
    if (!status.ok) return status.outcome === 'unknown' ? unknown(status.reason, data) : fallback;
    const code = transactionStatus(status.body)?.toUpperCase() ?? '';
    let sca: { scaStatus: string | null; psuMessage: string | null } = { scaStatus: null, psuMessage: null };
    const beforeSca = mapTransactionStatus(code, { scaDone: data.sca_done === true, untracked: false });
    if ((beforeSca === 'validating' || code === 'RJCT') && !data.sca_done) sca = await readScaStatus(ctx, ref, data.authorisation_id, auth);
    if (sca.scaStatus && SCA_FAILED.has(sca.scaStatus) && beforeSca === 'validating') {
      return {
        kind: 'state',
        state: 'rejected',
        error_code: 'authenticationFailed',
        error_description: "The payer's authentication at the bank failed.",
        bank_status: code,
        data: { ...data, last_status: code },
      };
    }
    const outcome = fromStatus(payment, data, status.body, sca.scaStatus);
    if (outcome) return outcome;
    if (fallback?.kind === 'decoupled' && sca.psuMessage) return { ...fallback, description: sca.psuMessage };
    return fallback ? { ...fallback, data: { ...fallback.data, last_status: code || data.last_status } } : null;
  }

  return {
    descriptor,
    bank,

    async start(payment, input, ctx) {
      const psuId = input.fields.psu_id?.trim() || null;
      if (profile.psu_id_required && !psuId) {
        return { kind: 'fields', fields: [psuIdField()], description: 'Your bank needs your online banking user ID.', data: { awaiting_psu_id: true } };
      }
      return initiate(payment, ctx, psuId, {});
    },

    async submitFields(payment, fields, ctx) {
      const data = dataOf(payment);
      if (data.embedded) return embeddedStep(payment, fields, ctx, data);
      const psuId = fields.psu_id?.trim() || null;
      if (!data.awaiting_psu_id || !psuId) return { kind: 'fields', fields: [psuIdField()], description: 'Your bank needs your online banking user ID.', data };
      return initiate(payment, ctx, psuId, data);
    },

    async psuValidate(payment) {
      return { kind: 'refused', error_code: 'bug', error_description: 'This bank asks for no confirmation step.', data: dataOf(payment) };
    },

    /** The payer is back on one of our TPP URIs: it proves nothing, the bank's status decides. */
    async bankReturn(payment, params, ctx) {
      if (dataOf(payment).sca_oauth && params.result === undefined) return oauthReturn(payment, ctx, { ...dataOf(payment), returned_at: ctx.now }, params);
      const data: BgData = { ...dataOf(payment), returned_at: ctx.now, nok: params.result === 'nok' };
      if (payment.state_detail === 'cancelling') {
        const outcome = await sync(payment, ctx, { ...data, sca_done: true }, null);
        return outcome ?? { kind: 'state', state: 'pending', bank_status: data.last_status ?? null, data: { ...data, cancel_authorisation_id: null } };
      }
      const again: ConnectorOutcome = data.sca_redirect
        ? { kind: 'redirect', validate_uri: data.sca_redirect, data }
        : { kind: 'decoupled', description: DECOUPLED_TEXT, data };
      return (await sync(payment, ctx, data, again))!;
    },

    async resume(payment, ctx) {
      const data = dataOf(payment);
      return (await sync(payment, ctx, data, { kind: 'decoupled', description: DECOUPLED_TEXT, data }))!;
    },

    async status(payment, ctx) {
      const data = dataOf(payment);
      const outcome = await sync(payment, ctx, data, null);
      if (outcome?.kind !== 'state') return outcome;
      // While the payer approves a cancellation at the bank, only a final status ends it.
      if (payment.state_detail === 'cancelling') return outcome.state === 'pending' ? null : outcome;
      // The same state and the same bank code as last time: nothing to record.
      if (outcome.state === payment.state && data.last_status === outcome.bank_status) return null;
      return outcome;
    },

    /** DELETE: 204 → read the status; 202 → the payer approves the cancellation at the bank; 4xx → the bank will not. */
    async cancel(payment, ctx) {
      const data: BgData = { ...dataOf(payment), cancel_requested_at: ctx.now };
      const ref = refOf(payment, data);
      if (!ref) return { kind: 'refused', error_code: 'notSupported', error_description: 'The bank holds no payment to cancel.', data: dataOf(payment) };
      const response = await send(ctx, 'cancel', 'DELETE', paths.payment(ref), ACCEPT);
      if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(unknownReason(response), data);
      if (response.status >= 400) return cancellationRefused(mapBankError(response.status, response.body).description, dataOf(payment));
      if (response.status === 202) return cancellationAuthorisation(payment, ctx, data, ref, object(response.body));
      const outcome = await sync(payment, ctx, { ...data, sca_done: true }, null);
      if (outcome && outcome.kind !== 'unknown') return outcome;
      // 204 is the bank's word that the payment is cancelled, even when the status read is lost.
      return cancelledByClient(data);
    },

    /** A few seconds right after the payer's return, backing off to the bank's longest interval. */
    pollIntervalMs(payment, ctx) {
      const data = dataOf(payment);
      const since = data.returned_at ?? data.initiated_at ?? ctx.now;
      const elapsed = Math.max(0, ctx.now - since);
      // The payer is at the bank's page and not back yet: the bank has nothing new before they could
      // have approved (a read 2 s after each initiation only doubles the bank calls of a burst).
      const atBankPage =
        (payment.state === 'created' || payment.state === 'validating') && data.sca_redirect && data.returned_at === undefined && !data.decoupled;
      const first = atBankPage ? profile.poll_payer_ms : profile.poll_initial_ms;
      return Math.min(profile.poll_max_ms, Math.max(first, Math.round(elapsed / 4)));
    },
  };

  async function cancellationAuthorisation(
    payment: ConnectorPayment,
    ctx: ConnectorContext,
    data: BgData,
    ref: PaymentRef,
    body: Json,
  ): Promise<ConnectorOutcome> {
    const response = await send(
      ctx,
      'cancel-authorise',
      'POST',
      paths.cancellationAuthorisations(ref),
      authorisationHeaders(headerInput(payment, ctx, null)),
      {},
    );
    if (response.kind === 'unknown' || isUnknownStatus(response.status)) return unknown(unknownReason(response), data);
    const started = object(response.body);
    const redirect = response.status < 300 ? browserUrl(link(started, 'scaRedirect')) : null;
    if (!redirect) {
      const why = response.status >= 400 ? mapBankError(response.status, response.body).description : 'the bank gave no page for the payer';
      return {
        kind: 'refused',
        error_code: 'notSupported',
        error_description: `The cancellation needs the payer's approval at the bank, which could not start: ${why}`,
        bank_status: transactionStatus(body),
        data: dataOf(payment),
      };
    }
    return {
      kind: 'cancelling',
      validate_uri: redirect,
      bank_status: transactionStatus(body),
      data: { ...data, cancel_authorisation_id: str(started.authorisationId, 200) },
    };
  }
}
