/**
 * The STET PSD2 connector for one configured bank (docs/reference/stet.md; STET 1.5 the reference,
 * 1.4.x and 1.6 shapes by profile): a client-credentials token (scope `pisp`) kept and renewed per
 * bank, `POST /payment-requests`, the payer's consent (OAuth2 authorization code with `state` and
 * PKCE, the older plain redirect, decoupled, or embedded with a one-time code), `POST
 * …/confirmation`, status with `GET`, cancellation with `PUT` (CANC + DS02). Every call goes
 * through the core's `ctx.http` (call record before it leaves, X-Request-ID = the call id,
 * deadline, mTLS, signature, redacted log). An answer that is lost is `unknown` and never re-sent.
 */
import { cancellationRefused, cancelledByClient } from '../kit/cancellation.ts';
import { ClientTokens, readTokenAnswer } from '../kit/client-token.ts';
import { codeStep, EMBEDDED_FIELDS } from '../kit/consent.ts';
import { bankDescriptor } from '../kit/descriptor.ts';
import { checkReturn, consentReturnUrl, exchangeCode, type OAuthClient, openPending, sealPending, startAuthorization } from '../kit/oauth.ts';
import type {
  BankResponse,
  ConfiguredBank,
  ConsentFlow,
  Connector,
  ConnectorContext,
  ConnectorOutcome,
  ConnectorPayment,
  PaymentSettings,
} from '../kit/types.ts';
import { mapBankError } from './error-table.ts';
import { checkOptions, type StetOptions } from './profile.ts';
import { buildPaymentRequest } from './request.ts';
import { browserUrl, link, object, paymentStatus, reasonOf, resourceIdOf, str, transactionStatuses, type Json } from './responses.ts';
import { mapPaymentStatus, mapReason, TRANSACTION_STATUS_TABLE } from './status-table.ts';
import { isIPv4 } from 'node:net';

/** What the connector keeps between calls (the attempt's opaque data; secrets go sealed in `consent`). */
export interface StetData {
  resource_id?: string;
  approach?: string;
  /** The bank's page for the payer (REDIRECT), kept to send the payer back to it. */
  consent_url?: string | null;
  nonce?: string | null;
  initiated_at?: number;
  returned_at?: number;
  /** The payer's consent is known to be given (code exchanged, approved return, or a status proving it). */
  consented?: boolean;
  confirmed?: boolean;
  nok?: boolean;
  awaiting_code?: boolean;
  last_status?: string | null;
  cancel_requested_at?: number;
  [key: string]: unknown;
}

const DECOUPLED_TEXT = 'Please confirm the payment in your banking app.';
const PATH = '/payment-requests';
const seg = (id: string) => encodeURIComponent(id);

function dataOf(payment: ConnectorPayment): StetData {
  return (payment.data ?? {}) as StetData;
}

function isUnknown(response: BankResponse): boolean {
  return response.kind === 'unknown' || response.status >= 500 || response.status === 429 || response.status < 200;
}

function reason(response: BankResponse): string {
  return response.kind === 'unknown' ? response.reason : `HTTP ${response.status}`;
}

/** A client token whose answer gave no `expires_in` is used this long (then asked for again). */
const TOKEN_DEFAULT_LIFETIME_MS = 300_000;

export function createStetConnector(bank: ConfiguredBank, settings: PaymentSettings): Connector {
  const profile: StetOptions = checkOptions(bank.profile, bank.sca_approach);
  const descriptor = bankDescriptor(bank, settings);
  descriptor.payment_settings = {
    ...descriptor.payment_settings,
    execution_date_types: descriptor.payment_settings.execution_date_types.filter((t) => profile.execution_date_types.includes(t)),
    maximum_number_of_instructions: profile.bulk ? profile.max_instructions : 1,
    bulk_execution_date_types: profile.bulk
      ? descriptor.payment_settings.bulk_execution_date_types.filter((t) => profile.execution_date_types.includes(t))
      : [],
    execution_frequencies: profile.standing_orders ? descriptor.payment_settings.execution_frequencies.filter((f) => f !== 'four-monthly') : [],
    cancellation_available: profile.cancellation,
    minimum_amount: Object.fromEntries(profile.execution_date_types.map((t) => [t, profile.minimum_amount])),
  };
  const oauth = profile.approach === 'REDIRECT' && profile.redirect_flow === 'oauth2';
  const consentFlows: ConsentFlow[] = [
    profile.approach === 'DECOUPLED' ? 'decoupled' : profile.approach === 'EMBEDDED-1-FACTOR' ? 'embedded' : oauth ? 'oauth2' : 'redirect',
  ];
  // The client-credentials token of this bank, kept in memory while its connector lives; renewed 30 s before it expires.
  const tokens = new ClientTokens(30_000);

  function tokenAuthorization(type: string, value: string): string {
    return `${profile.token_type === 'Bearer' ? 'Bearer' : type}${' '}${value}`;
  }

  /** The bank's client-credentials token (scope `pisp`), asked for when none is held or it expired. */
  async function clientToken(
    ctx: ConnectorContext,
  ): Promise<{ ok: true; authorization: string; value: string } | { ok: false; outcome: 'unknown' | 'refused'; reason: string }> {
    const fetched = await tokens.get(
      ctx.clock.now(),
      async () => {
        const response = await ctx.http.send({
          operation: 'token',
          method: 'POST',
          path: '/',
          url: profile.token_url,
          headers: { Accept: 'application/json' },
          form: { grant_type: 'client_credentials', scope: 'pisp', client_id: profile.client_id },
          timeoutMs: profile.timeout_ms,
        });
        if (response.kind === 'unknown') return { ok: false, unknown: true, reason: `token: ${reason(response)}` };
        const now = ctx.clock.now();
        const answer = readTokenAnswer(response.status, response.body, now);
        if (answer.ok && answer.token.expiresAt === null) answer.token.expiresAt = now + TOKEN_DEFAULT_LIFETIME_MS;
        return answer;
      },
      () => ctx.clock.now(),
    );
    if (!fetched.ok) return { ok: false, outcome: fetched.unknown ? 'unknown' : 'refused', reason: fetched.reason };
    return { ok: true, authorization: tokenAuthorization(fetched.token.type, fetched.token.value), value: fetched.token.value };
  }

  function psuHeaders(payment: ConnectorPayment): Record<string, string> {
    if (!profile.psu_headers) return {};
    const ip = (payment.psu_ip_address ?? '').trim().replace(/^::ffff:/i, '');
    return { 'PSU-IP-Address': isIPv4(ip) ? ip : profile.tpp_ip_address };
  }

  /**
   * One API call with the client-credentials token (or `authorization`, the payer's). A 401 forgets
   * the token; a read (GET) is then made once more with a fresh one, never a POST or PUT (an
   * initiation, a confirmation, a cancellation): those answer the 401 and the next call gets a new
   * token, so a renewal never sends a payment twice.
   */
  async function call(
    ctx: ConnectorContext,
    payment: ConnectorPayment,
    operation: string,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    authorization?: string,
  ): Promise<BankResponse | { kind: 'token'; outcome: 'unknown' | 'refused'; reason: string }> {
    for (let round = 0; round < 2; round += 1) {
      let auth = authorization;
      let client: string | null = null;
      if (!auth) {
        const t = await clientToken(ctx);
        if (!t.ok) return { kind: 'token', outcome: t.outcome, reason: t.reason };
        auth = t.authorization;
        client = t.value;
      }
      const headers: Record<string, string> = { Accept: profile.accept, Authorization: auth, ...psuHeaders(payment) };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await ctx.http.send({ operation, method, path, headers, ...(body !== undefined ? { body } : {}), timeoutMs: profile.timeout_ms });
      if (response.kind === 'response' && response.status === 401 && client !== null) {
        tokens.invalidate(client);
        if (method === 'GET' && round === 0) continue;
      }
      return response;
    }
    throw new Error('unreachable');
  }

  /** A token failure before the call: nothing reached the bank's API. */
  function tokenFailure(result: { outcome: 'unknown' | 'refused'; reason: string }, data: StetData, initiation: boolean): ConnectorOutcome {
    // Before an initiation nothing was created: the payment is refused (the payer may try again), never left unknown.
    if (initiation) return { kind: 'refused', error_code: 'websiteUnavailable', error_description: `The bank could not be reached (${result.reason}).`, data };
    return { kind: 'unknown', reason: result.reason, data };
  }

  /** The state a status answer gives; null when it changes nothing. */
  function fromStatus(payment: ConnectorPayment, data: StetData, body: Json): ConnectorOutcome | null {
    const code = paymentStatus(body)?.toUpperCase() ?? null;
    if (!code) return null;
    const mapped = mapPaymentStatus(code, { consented: data.consented === true });
    const next: StetData = {
      ...data,
      last_status: code,
      consented: data.consented === true || (mapped !== null && mapped !== 'validating' && mapped !== 'rejected'),
    };
    if (mapped === null || mapped === 'validating') return null;
    const count = payment.instructions.length;
    if (mapped === 'rejected') {
      const why =
        data.nok && !reasonOf(body)
          ? { error_code: 'CancelledByUser', description: 'The payer cancelled the payment at the bank.' }
          : mapReason(reasonOf(body));
      return {
        kind: 'state',
        state: 'rejected',
        error_code: why.error_code,
        error_description: why.description,
        bank_status: code,
        data: next,
        ...(count > 1 ? { instructions: Array.from({ length: count }, () => 'rejected' as const) } : {}),
      };
    }
    if (mapped === 'partial' || count > 1) {
      // Per-instruction statuses where the bank gives them; PART without them: every instruction accepted.
      const own = transactionStatuses(body);
      const fallback = mapped === 'partial' ? 'accepted' : mapped;
      const instructions = Array.from({ length: count }, (_, i) => TRANSACTION_STATUS_TABLE[own[i] ?? ''] ?? fallback);
      return { kind: 'state', state: fallback, instructions, bank_status: code, data: next, ...(mapped === 'partial' ? { partial: true } : {}) };
    }
    return { kind: 'state', state: mapped, bank_status: code, data: next };
  }

  async function readStatus(
    payment: ConnectorPayment,
    ctx: ConnectorContext,
    id: string,
  ): Promise<{ ok: true; body: Json } | { ok: false; unknown: boolean; reason: string }> {
    const response = await call(ctx, payment, 'status', 'GET', `${PATH}/${seg(id)}`);
    if (response.kind === 'token') return { ok: false, unknown: true, reason: response.reason };
    if (isUnknown(response)) return { ok: false, unknown: true, reason: reason(response) };
    if (response.kind !== 'response' || response.status >= 300) return { ok: false, unknown: false, reason: reason(response) };
    return { ok: true, body: object(response.body) };
  }

  /** `POST …/confirmation` (the payer's token after an OAuth2 consent, else the client's; the one-time code when embedded). */
  async function confirm(
    payment: ConnectorPayment,
    ctx: ConnectorContext,
    data: StetData,
    extra: { authorization?: string; factor?: string },
  ): Promise<ConnectorOutcome> {
    const id = data.resource_id!;
    const body = { ...(data.nonce ? { nonce: data.nonce } : {}), ...(extra.factor ? { psuAuthenticationFactor: extra.factor } : {}) };
    const response = await call(ctx, payment, 'confirm', 'POST', `${PATH}/${seg(id)}/confirmation`, body, extra.authorization);
    if (response.kind === 'token') return { kind: 'unknown', reason: response.reason, data };
    if (isUnknown(response)) return { kind: 'unknown', reason: `confirmation: ${reason(response)}`, data };
    if (response.kind === 'response' && response.status >= 400) {
      const error = mapBankError(response.status, response.body);
      const code = extra.factor && response.status < 409 ? 'authenticationFailed' : error.error_code;
      return { kind: 'state', state: 'rejected', error_code: code, error_description: error.description, bank_status: data.last_status ?? null, data };
    }
    const confirmed: StetData = { ...data, confirmed: true, consented: true, awaiting_code: false };
    const outcome = fromStatus(payment, confirmed, object(response.kind === 'response' ? response.body : null));
    return outcome ?? { kind: 'state', state: 'pending', bank_status: confirmed.last_status ?? null, data: confirmed };
  }

  function oauthClient(ctx: ConnectorContext, consentLink: string | null): OAuthClient {
    return {
      clientId: profile.client_id,
      issuer: new URL(profile.token_url).origin,
      authorizationEndpoint: browserUrl(consentLink) ?? profile.authorization_url ?? profile.token_url,
      tokenEndpoint: profile.token_url,
      redirectUri: consentReturnUrl(ctx.baseUrl),
      scope: 'pisp',
      auth: { method: 'tls_client_auth' },
    };
  }

  async function initiate(payment: ConnectorPayment, ctx: ConnectorContext): Promise<ConnectorOutcome> {
    const request = buildPaymentRequest(payment, profile, { now: ctx.now, reportUrls: ctx.returnUrls });
    if (!request.ok) return { kind: 'refused', error_code: request.error_code, error_description: request.description, data: {} };
    const data: StetData = { initiated_at: ctx.now, approach: profile.approach };
    const response = await call(ctx, payment, 'initiate', 'POST', PATH, request.body);
    if (response.kind === 'token') return tokenFailure(response, data, true);
    if (isUnknown(response)) return { kind: 'unknown', reason: reason(response), data };
    if (response.kind !== 'response') return { kind: 'unknown', reason: 'no answer', data };
    if (response.status >= 300) {
      const error = mapBankError(response.status, response.body);
      return { kind: 'refused', error_code: error.error_code, error_description: error.description, data };
    }
    const body = object(response.body);
    const consentLink = link(body, 'consentApproval');
    const id = resourceIdOf(profile.resource_id_from, profile.resource_id_param, response.headers, consentLink);
    // Created, but with no id we can never ask about it: as good as a lost answer (never re-sent).
    if (!id) return { kind: 'unknown', reason: `the bank answered without the payment id (${profile.resource_id_from})`, data };
    const applied = (
      str(body.appliedAuthenticationApproach, 40) ??
      str(object(body.appliedAuthenticationApproach).appliedAuthenticationApproach, 40) ??
      profile.approach
    ).toUpperCase();
    const created: StetData = { ...data, resource_id: id, approach: applied, nonce: str(body.nonce, 70), consent_url: browserUrl(consentLink) };
    if (applied === 'EMBEDDED-1-FACTOR') {
      return codeStep(
        { data: { ...created, awaiting_code: true }, bank_reference: id, description: 'Enter the one-time code your bank sent you.' },
        'One-time code',
        '^[0-9A-Za-z]{4,12}$',
      );
    }
    if (applied === 'DECOUPLED') return { kind: 'decoupled', description: DECOUPLED_TEXT, bank_reference: id, data: created };
    if (oauth) {
      const { url, pending } = await startAuthorization(oauthClient(ctx, consentLink), { flow: 'oauth2', paymentId: payment.id, now: ctx.now });
      const target = new URL(url);
      if (!profile.pkce) for (const key of ['code_challenge', 'code_challenge_method']) target.searchParams.delete(key);
      return {
        kind: 'redirect',
        validate_uri: target.toString(),
        bank_reference: id,
        data: { ...created, consent_url: target.toString() },
        consent: sealPending(ctx, pending),
      };
    }
    if (!created.consent_url)
      return { kind: 'refused', error_code: 'bug', error_description: 'The bank gave no consent page for the payer.', bank_reference: id, data: created };
    return { kind: 'redirect', validate_uri: created.consent_url, bank_reference: id, data: created };
  }

  /** Reads the status; confirms first where the payer's consent is given and the bank waits for it. */
  async function sync(payment: ConnectorPayment, ctx: ConnectorContext, data: StetData, fallback: ConnectorOutcome | null): Promise<ConnectorOutcome | null> {
    const id = data.resource_id ?? payment.bank_payment_id;
    if (!id) return fallback;
    const status = await readStatus(payment, ctx, id);
    if (!status.ok) return status.unknown ? { kind: 'unknown', reason: status.reason, data } : fallback;
    const code = paymentStatus(status.body)?.toUpperCase() ?? null;
    // Decoupled and the plain redirect: the bank marks the payer's consent (ACTC, ACCO) and waits for our confirmation.
    const awaitsConfirmation =
      profile.confirmation &&
      !data.confirmed &&
      !oauth &&
      data.approach !== 'EMBEDDED-1-FACTOR' &&
      (code === 'ACCO' || (code === 'ACTC' && (data.approach === 'DECOUPLED' || data.returned_at !== undefined)));
    if (awaitsConfirmation) return confirm(payment, ctx, { ...data, resource_id: id, consented: true, last_status: code }, {});
    const outcome = fromStatus(payment, { ...data, resource_id: id }, status.body);
    if (outcome) return outcome;
    return fallback ? { ...fallback, data: { ...fallback.data, last_status: code ?? data.last_status ?? null } } : null;
  }

  const again = (data: StetData): ConnectorOutcome =>
    data.approach === 'DECOUPLED' || !data.consent_url
      ? { kind: 'decoupled', description: DECOUPLED_TEXT, data }
      : { kind: 'redirect', validate_uri: data.consent_url, data };

  return {
    descriptor,
    bank,
    consentFlows,

    async start(payment, _input, ctx) {
      return initiate(payment, ctx);
    },

    /** The one-time code of EMBEDDED-1-FACTOR, sent as `psuAuthenticationFactor`; never kept. */
    async submitFields(payment, fields, ctx) {
      const data = dataOf(payment);
      const code = fields[EMBEDDED_FIELDS.code]?.trim();
      if (!data.awaiting_code || !data.resource_id)
        return { kind: 'refused', error_code: 'bug', error_description: 'This payment is not waiting for a code.', data };
      if (!code) return codeStep({ data, description: 'Enter the one-time code your bank sent you.' }, 'One-time code', '^[0-9A-Za-z]{4,12}$');
      return confirm(payment, ctx, data, { factor: code });
    },

    async psuValidate(payment) {
      return { kind: 'refused', error_code: 'bug', error_description: 'This bank asks for no confirmation step.', data: dataOf(payment) };
    },

    async bankReturn(payment, params, ctx) {
      const data: StetData = { ...dataOf(payment), returned_at: ctx.now };
      if (oauth && params.state !== undefined) {
        const pending = openPending(ctx, payment.consent);
        if (!pending) return { kind: 'state', state: 'rejected', error_code: 'bug', error_description: 'The consent of this payment was lost.', data };
        const client = oauthClient(ctx, null);
        const checked = await checkReturn(client, pending, params, { now: ctx.now });
        if (checked.foreign) return again(dataOf(payment));
        if (!checked.ok) {
          // The payer refused (or the bank failed them): the bank's status gives its reason when it has one.
          const read = await sync(payment, ctx, { ...data, nok: true }, null);
          if (read?.kind === 'state' && read.state === 'rejected') return { ...read, consent: null };
          return {
            kind: 'state',
            state: 'rejected',
            error_code: checked.error_code,
            error_description: checked.error_description,
            bank_status: data.last_status ?? null,
            data,
            consent: null,
          };
        }
        const exchange = await exchangeCode(ctx.http, client, { code: checked.code, verifier: pending.verifier, now: ctx.now });
        if (exchange.kind === 'unknown') return { kind: 'unknown', reason: `token exchange: ${exchange.reason}`, data, consent: null };
        if (exchange.kind === 'refused') {
          return {
            kind: 'state',
            state: 'rejected',
            error_code: 'authenticationFailed',
            error_description: `The bank refused the authorization (${exchange.error}).`,
            data,
            consent: null,
          };
        }
        const consented: StetData = { ...data, consented: true };
        if (!profile.confirmation)
          return { ...((await sync(payment, ctx, consented, { kind: 'state', state: 'pending', data: consented })) as ConnectorOutcome), consent: null };
        const payerToken = tokenAuthorization(exchange.token.token_type, exchange.token.access_token);
        // The payer's token is used once, here, and not kept.
        return { ...(await confirm(payment, ctx, consented, { authorization: payerToken })), consent: null };
      }
      // The plain redirect: the report URL proves nothing, the bank's status decides (and waits for our confirmation).
      const back: StetData = { ...data, nok: params.result === 'nok' };
      return (await sync(payment, ctx, back, again(back)))!;
    },

    async resume(payment, ctx) {
      const data = dataOf(payment);
      return (await sync(payment, ctx, data, { kind: 'decoupled', description: DECOUPLED_TEXT, data }))!;
    },

    async status(payment, ctx) {
      const data = dataOf(payment);
      if (data.awaiting_code) return null;
      const outcome = await sync(payment, ctx, data, null);
      if (outcome?.kind !== 'state') return outcome;
      if (outcome.state === payment.state && data.last_status === outcome.bank_status) return null;
      return outcome;
    },

    /** `PUT` of the payment request read back, with CANC + DS02 (RJCT + DS02 for 1.4.0/1.4.1 banks). */
    async cancel(payment, ctx) {
      const data: StetData = { ...dataOf(payment), cancel_requested_at: ctx.now };
      const id = data.resource_id ?? payment.bank_payment_id;
      if (!id) return { kind: 'refused', error_code: 'notSupported', error_description: 'The bank holds no payment to cancel.', data: dataOf(payment) };
      const current = await readStatus(payment, ctx, id);
      if (!current.ok) {
        if (current.unknown) return { kind: 'unknown', reason: current.reason, data: dataOf(payment) };
        return {
          kind: 'refused',
          error_code: 'notSupported',
          error_description: `The bank could not read the payment to cancel (${current.reason}).`,
          data: dataOf(payment),
        };
      }
      const resource = { ...object(current.body.paymentRequest) };
      const old = profile.version === '1.4.0' || profile.version === '1.4.1';
      resource.paymentInformationStatus = old ? 'RJCT' : 'CANC';
      resource.statusReasonInformation = 'DS02';
      resource.supplementaryData = {
        ...object(resource.supplementaryData),
        acceptedAuthenticationApproach: [profile.approach],
        successfulReportUrl: ctx.returnUrls.ok,
        unsuccessfulReportUrl: ctx.returnUrls.nok,
      };
      const response = await call(ctx, payment, 'cancel', 'PUT', `${PATH}/${seg(id)}`, resource);
      if (response.kind === 'token') return { kind: 'unknown', reason: response.reason, data };
      if (isUnknown(response)) return { kind: 'unknown', reason: reason(response), data };
      if (response.kind === 'response' && response.status >= 400)
        return cancellationRefused(mapBankError(response.status, response.body).description, dataOf(payment));
      const answer = object(response.kind === 'response' ? response.body : null);
      const page = browserUrl(link(answer, 'consentApproval'));
      if (page) return { kind: 'cancelling', validate_uri: page, bank_status: data.last_status ?? null, data };
      const outcome = await sync(payment, ctx, data, null);
      if (outcome && outcome.kind !== 'unknown') return outcome;
      // 200 without a page for the payer is the bank's word that the payment is cancelled.
      return cancelledByClient(data);
    },

    pollIntervalMs(payment, ctx) {
      const data = dataOf(payment);
      const since = data.returned_at ?? data.initiated_at ?? ctx.now;
      const elapsed = Math.max(0, ctx.now - since);
      const atBankPage = payment.state === 'validating' && data.consent_url && data.returned_at === undefined && data.approach === 'REDIRECT';
      const first = atBankPage ? profile.poll_payer_ms : profile.poll_initial_ms;
      return Math.min(profile.poll_max_ms, Math.max(first, Math.round(elapsed / 4)));
    },
  };
}
