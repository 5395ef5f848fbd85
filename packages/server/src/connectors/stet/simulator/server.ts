/**
 * A stateful STET PSD2 bank (1.5.0.43) on `node:http`: the token endpoint (client credentials,
 * scope `pisp`; the authorization code with PKCE), `POST /payment-requests` (201, the id in
 * `location`, a `consentApproval` link), the payer's consent page (Approve / Refuse) as an OAuth2
 * authorization endpoint or a plain redirect page, decoupled and embedded (one-time code)
 * approaches, confirmation, status progressing with time, cancellation by `PUT`, the signature
 * checked on every call, the kit's injectable faults and a control endpoint. Run by `payrail bank
 * simulate --standard stet`; the tests put `prism proxy --errors` with STET's file in front of it.
 * No answer depends on the request's `Host` header: links are built from `publicUrl` or the
 * address it listens on.
 */
import { randomBytes, randomUUID, timingSafeEqual, X509Certificate, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4, type Socket } from 'node:net';
import { systemClock, type Clock } from '../../../domain/clock.ts';
import { html } from '../../../http/html.ts';
import { Faults, FaultError, type FaultSpec } from '../../kit/simulator/faults.ts';
import { failRequest, listen, parseJson, readBody, type Incoming } from '../../kit/simulator/http.ts';
import { bankPage, groupedIban, resultPage as kitResultPage, type Page } from '../../kit/simulator/page.ts';
import { hashBody, Received } from '../../kit/simulator/received.ts';
import { generateTppKeys, type TppKeys } from './keys.ts';
import { Ledger, type Approach, type SimulatedPayment } from './ledger.ts';
import { checkSignature, signatureParams } from '../../kit/simulator/signature-check.ts';

export const OPERATIONS = ['paymentRequestsPost', 'paymentRequestsGet', 'paymentRequestPut', 'paymentRequestConfirmationPost', 'token'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** A `reject` fault's code: the HTTP error STET answers with an `ErrorModel`. */
export const REJECT_CODES: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
};

/** The statuses and reasons the control endpoint may force (the file's enums, plus what it omits). */
export const FORCEABLE_STATUSES = ['RCVD', 'PDNG', 'ACTC', 'ACCP', 'ACWC', 'ACWP', 'ACSP', 'ACSC', 'PART', 'RJCT', 'CANC', 'PATC', 'ACCO'];

/** The bank's behaviour, changeable while it runs (each a deviation real French banks show, docs/reference/stet.md §4). */
export interface StetSimulatorSettings {
  confirmation: boolean;
  redirectFlow: 'oauth2' | 'redirect';
  /** Answer 406 to `Accept: application/hal+json` (LCL). */
  refuseHalAccept: boolean;
  /** Return `token_type: bearer` and take only `Bearer` in Authorization (Crédit Agricole). */
  lowerCaseTokenType: boolean;
  /** Refuse a call without an IPv4 `PSU-IP-Address` (BPCE). */
  requirePsuIpAddress: boolean;
  /** The status of a created payment request: 201 (the file) or 200 (banks that answer 200; not in the file). */
  createStatus: 200 | 201;
  /** Check `Digest` and `Signature` on every call (STET requires it; off: a bank that does not check). */
  verifySignatures: boolean;
  /** Put the `consentApproval` link in the creation's answer (off: a bank whose payer starts at its own authorization URL). */
  consentLink: boolean;
  /** A cancellation waits for the payer's approval: the `PUT` answers a `consentApproval` link to the bank's page. */
  cancellationApproval: boolean;
}

export interface StetSimulatorOptions {
  host?: string;
  port?: number;
  clock?: Clock;
  /** From confirmation (or consent, without confirmation) to ACSC; ACSP at half. Default 4 s. */
  settleAfterMs?: number;
  /** The bank waits for `POST …/confirmation` after the payer's consent. Default true. */
  confirmation?: boolean;
  /** REDIRECT as an OAuth2 authorization code grant (default) or a plain redirect with report URLs. */
  redirectFlow?: 'oauth2' | 'redirect';
  consentExpiresAfterMs?: number;
  /** Base of the links it hands out, when reached under another address. */
  publicUrl?: string;
  /** Where its generated TPP keys are written (default: a folder under the system's temporary directory). */
  keysDir?: string;
  /** Use these TPP keys instead of generating some. */
  keys?: TppKeys;
  clientId?: string;
  log?: (line: string) => void;
}

export interface StetSimulator {
  /** Where it listens (origin). */
  url: string;
  /** The base URL for `payrail bank add` (what precedes `/payment-requests`: its origin). */
  baseUrl: string;
  tokenUrl: string;
  authorizationUrl: string;
  /** The URL of the TPP's certificate, published as the signature's keyId. */
  keyIdUrl: string;
  clientId: string;
  keys: TppKeys;
  faults: Faults<Operation>;
  received: Received<Operation>;
  ledger: Ledger;
  payments: Map<string, SimulatedPayment>;
  settings: StetSimulatorSettings;
  /** The payer's decision (the consent page's buttons, or the bank app for decoupled). */
  approve(id: string): void;
  refuse(id: string): void;
  /** Every option of `payrail bank add` for this bank (key files as absolute paths). */
  addCommand(name?: string): string;
  close(): Promise<void>;
}

const HAL = 'application/hal+json; charset=utf-8';
const BANK = 'STET PSD2';

interface Reply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

/** An amount as the page shows it (two decimals; display only, nothing is computed from it). */
const shownAmount = (amount: unknown) => (typeof amount === 'number' ? amount.toFixed(2) : String(amount ?? ''));

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export async function startStetSimulator(options: StetSimulatorOptions = {}): Promise<StetSimulator> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const settings: StetSimulatorSettings = {
    confirmation: options.confirmation ?? true,
    redirectFlow: options.redirectFlow ?? 'oauth2',
    refuseHalAccept: false,
    lowerCaseTokenType: false,
    requirePsuIpAddress: false,
    createStatus: 201,
    verifySignatures: true,
    consentLink: true,
    cancellationApproval: false,
  };
  const ledger = new Ledger({
    clock,
    settleAfterMs: options.settleAfterMs ?? 4_000,
    consentExpiresAfterMs: options.consentExpiresAfterMs ?? 30 * 60_000,
    confirmation: () => settings.confirmation,
  });
  const faults = new Faults<Operation>({
    standard: 'STET 1.5',
    operations: OPERATIONS,
    rejectStatus: (code, status) =>
      REJECT_CODES[code] !== undefined && (status === undefined || status === REJECT_CODES[code]) ? REJECT_CODES[code] : undefined,
  });
  const received = new Received<Operation>();
  const hanging = new Set<Socket>();
  const clientId = options.clientId ?? `PSDFR-ACPR-SIM${randomBytes(3).toString('hex').toUpperCase()}`;
  const keys =
    options.keys ?? generateTppKeys(options.keysDir ?? `${process.env.TMPDIR ?? '/tmp'}/payrail-stet-simulator-${randomBytes(4).toString('hex')}`, clientId);
  const certificate = new X509Certificate(keys.cert);
  /** Client-credentials tokens, and the payer's tokens bound to one payment. */
  const clientTokens = new Map<string, number>();
  const payerTokens = new Map<string, { paymentId: string; expiresAt: number }>();
  /** Cancellations waiting for the payer's approval: where to send them back (the PUT's report URLs). */
  const pendingCancellations = new Map<string, { ok: string | null; nok: string | null }>();
  let origin = '';
  const publicBase = () => options.publicUrl ?? origin;

  const server: Server = createServer((request, response) => {
    dispatch(request, response).catch((error: unknown) => {
      log(`simulator error: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500, { 'X-Request-ID': randomUUID() });
      response.end();
    });
  });

  function sendJson(response: ServerResponse, reply: Reply, contentType = HAL): void {
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.json !== undefined) headers['Content-Type'] = contentType;
    response.writeHead(reply.status, headers);
    response.end(reply.json === undefined ? undefined : JSON.stringify(reply.json));
  }

  function servePage(response: ServerResponse, status: number, page: Page): void {
    response.writeHead(status, page.headers);
    response.end(page.body);
  }

  const ERROR_TEXT: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    409: 'Conflict',
  };
  function errorReply(status: number, message: string, path: string): Reply {
    return {
      status,
      json: {
        timestamp: new Date(clock.now()).toISOString(),
        status,
        error: ERROR_TEXT[status] ?? 'Error',
        message: message.slice(0, 140),
        path: path.slice(0, 140),
      },
    };
  }

  async function dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://simulator');
    const method = request.method ?? 'GET';
    const segments = url.pathname.split('/').filter(Boolean);
    if (segments[0] === 'payment-requests') return serveApi(request, response, method, url, segments.slice(1), body);
    if (url.pathname === '/token' && method === 'POST') return serveToken(request, response, body);
    if (url.pathname === '/authorize') return serveAuthorize(response, method, url, body);
    if (segments[0] === 'consent' && segments.length === 2) return serveConsent(response, method, segments[1]!, body);
    if (segments[0] === 'cancellation' && segments.length === 2) return serveCancellation(response, method, segments[1]!, body);
    if (url.pathname === '/certificates/qseal.pem') {
      response.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
      return void response.end(keys.cert);
    }
    if (segments[0] === '_simulator') return void sendJson(response, control(method, segments.slice(1), parseJson(body.raw)), 'application/json');
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('Not found. The STET API is under /payment-requests, the control endpoint under /_simulator.\n');
  }

  // ---- the token endpoint ----

  function serveToken(request: IncomingMessage, response: ServerResponse, body: Incoming): void {
    const { fault } = faults.take('token');
    if (fault && fault.kind !== 'reject') return void failRequest(request, fault, hanging, (status) => sendJson(response, { status }));
    const form = new URLSearchParams(body.raw.toString('utf8'));
    const refuse = (error: string, description: string) =>
      sendJson(response, { status: 400, json: { error, error_description: description } }, 'application/json');
    if (fault?.kind === 'reject') return void refuse('invalid_request', fault.text ?? 'refused by an injected fault');
    if (form.get('client_id') !== clientId) return void refuse('invalid_client', 'unknown client_id');
    const grant = form.get('grant_type');
    const issue = (extra: Record<string, unknown> = {}) => {
      const token = randomBytes(24).toString('base64url');
      return { token, json: { access_token: token, token_type: settings.lowerCaseTokenType ? 'bearer' : 'Bearer', expires_in: 3600, scope: 'pisp', ...extra } };
    };
    if (grant === 'client_credentials') {
      if (!(form.get('scope') ?? '').split(' ').includes('pisp')) return void refuse('invalid_scope', 'scope must be pisp');
      const { token, json } = issue();
      clientTokens.set(token, clock.now() + 3600_000);
      return void sendJson(response, { status: 200, json }, 'application/json');
    }
    if (grant === 'authorization_code') {
      const code = form.get('code') ?? '';
      const payment = [...ledger.payments.values()].find((p) => p.authorization?.code === code);
      const auth = payment?.authorization;
      if (!payment || !auth || auth.codeUsed) return void refuse('invalid_grant', 'unknown or used code');
      auth.codeUsed = true;
      if (form.get('redirect_uri') !== auth.redirectUri) return void refuse('invalid_grant', 'redirect_uri differs from the authorization request');
      if (auth.challenge) {
        const verifier = form.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier, 'ascii').digest('base64url') !== auth.challenge)
          return void refuse('invalid_grant', 'PKCE verifier does not match');
      }
      const { token, json } = issue();
      payerTokens.set(token, { paymentId: payment.id, expiresAt: clock.now() + 600_000 });
      return void sendJson(response, { status: 200, json }, 'application/json');
    }
    return void refuse('unsupported_grant_type', 'grant_type must be client_credentials or authorization_code');
  }

  // ---- the API ----

  function routeOf(method: string, rest: string[]): Operation | null {
    if (rest.length === 0) return method === 'POST' ? 'paymentRequestsPost' : null;
    if (rest.length === 1) return method === 'GET' ? 'paymentRequestsGet' : method === 'PUT' ? 'paymentRequestPut' : null;
    if (rest.length === 2 && rest[1] === 'confirmation' && method === 'POST') return 'paymentRequestConfirmationPost';
    return null;
  }

  async function serveApi(request: IncomingMessage, response: ServerResponse, method: string, url: URL, rest: string[], body: Incoming): Promise<void> {
    const given = request.headers['x-request-id'];
    const requestId = typeof given === 'string' && given.length <= 70 && given !== '' ? given : randomUUID();
    const operation = routeOf(method, rest);
    received.recordCall({
      operation,
      method,
      path: url.pathname,
      requestId: typeof given === 'string' ? given : null,
      at: clock.now(),
      signed: { signature: request.headers.signature !== undefined, digest: request.headers.digest !== undefined },
      signature: signatureParams(request.headers),
    });
    const initiation =
      operation === 'paymentRequestsPost'
        ? received.recordInitiation({ requestId: typeof given === 'string' ? given : null, bodyHash: hashBody(body.raw), paymentId: null, at: clock.now() })
        : null;
    const send = (reply: Reply) => sendJson(response, { ...reply, headers: { 'X-Request-ID': requestId, ...reply.headers } });
    if (!operation) return void send(errorReply(405, 'This operation is not offered.', url.pathname));
    const { latencyMs, fault } = faults.take(operation);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (fault?.kind === 'reject') return void send(errorReply(fault.status!, fault.text ?? 'Refused.', url.pathname));
    if (fault && !fault.afterProcessing) return void failRequest(request, fault, hanging, (status) => send({ status }));
    const reply = handle(operation, request, url, rest, body);
    if (initiation && reply.status < 300) initiation.paymentId = (reply.headers?.location ?? '').split('/').pop() ?? null;
    if (fault) return void failRequest(request, fault, hanging, (status) => send({ status }));
    send(reply);
  }

  function authorised(request: IncomingMessage, operation: Operation, paymentId: string | null): boolean {
    const [scheme, value] = (request.headers.authorization ?? '').split(' ');
    if ((settings.lowerCaseTokenType ? scheme !== 'Bearer' : scheme?.toLowerCase() !== 'bearer') || !value) return false;
    const now = clock.now();
    if ((clientTokens.get(value) ?? 0) > now) return true;
    const payer = payerTokens.get(value);
    return operation === 'paymentRequestConfirmationPost' && payer !== undefined && payer.expiresAt > now && payer.paymentId === paymentId;
  }

  function handle(operation: Operation, request: IncomingMessage, url: URL, rest: string[], body: Incoming): Reply {
    const path = url.pathname;
    const id = rest[0] ?? null;
    if (settings.refuseHalAccept && /application\/hal\+json/i.test(String(request.headers.accept ?? '')))
      return errorReply(406, 'Accept application/hal+json is not served: ask for application/json.', path);
    if (!authorised(request, operation, id)) return errorReply(401, 'The access token is missing, unknown or expired.', path);
    if (settings.requirePsuIpAddress && !isIPv4(String(request.headers['psu-ip-address'] ?? '')))
      return errorReply(400, 'PSU-IP-Address is required (IPv4).', path);
    const problem = settings.verifySignatures
      ? checkSignature(request.method ?? 'GET', `${url.pathname}${url.search}`, request.headers, body.raw, certificate)
      : null;
    if (problem) return errorReply(401, `Signature refused: ${problem}.`, path);
    if (body.tooLarge) return errorReply(400, 'The body is too large.', path);
    const json = parseJson(body.raw);
    if (operation === 'paymentRequestsPost') return create(json, path);
    const payment = id ? ledger.payments.get(id) : undefined;
    if (!payment) return errorReply(404, 'No such payment request.', path);
    if (operation === 'paymentRequestsGet') return { status: 200, json: resource(payment) };
    if (operation === 'paymentRequestPut') return cancel(payment, json, path);
    return confirmation(payment, json, path);
  }

  function create(json: unknown, path: string): Reply {
    const body = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
    if (!body) return errorReply(400, 'The body must be a PaymentRequestResource.', path);
    const transactions = Array.isArray(body.creditTransferTransaction) ? body.creditTransferTransaction : [];
    if (transactions.length === 0 || body.numberOfTransactions !== transactions.length)
      return errorReply(400, 'numberOfTransactions must count creditTransferTransaction.', path);
    const supplementary = (body.supplementaryData ?? {}) as Record<string, unknown>;
    const accepted = Array.isArray(supplementary.acceptedAuthenticationApproach) ? (supplementary.acceptedAuthenticationApproach as string[]) : ['REDIRECT'];
    const approach = (['REDIRECT', 'DECOUPLED', 'EMBEDDED-1-FACTOR'] as const).find((a) => accepted.includes(a));
    if (!approach)
      return {
        ...errorReply(400, 'No accepted authentication approach is offered.', path),
        json: {
          ...(errorReply(400, 'No accepted authentication approach is offered.', path).json as object),
          acceptedAuthenticationApproach: ['REDIRECT', 'DECOUPLED', 'EMBEDDED-1-FACTOR'],
        },
      };
    if (approach === 'REDIRECT' && typeof supplementary.successfulReportUrl !== 'string' && settings.redirectFlow === 'redirect')
      return errorReply(400, 'supplementaryData.successfulReportUrl is required for REDIRECT.', path);
    const payment = ledger.create(body, approach as Approach);
    log(`Payment request ${payment.id} created (${approach}, ${transactions.length} instruction(s))`);
    const base = publicBase();
    const consentApproval =
      approach !== 'REDIRECT' || !settings.consentLink
        ? null
        : settings.redirectFlow === 'oauth2'
          ? `${base}/authorize?response_type=code&scope=pisp&context=${encodeURIComponent(payment.id)}`
          : `${base}/consent/${encodeURIComponent(payment.id)}`;
    return {
      status: settings.createStatus,
      headers: { location: `${base}/payment-requests/${payment.id}` },
      json: {
        appliedAuthenticationApproach: approach,
        nonce: payment.nonce,
        ...(consentApproval ? { _links: { consentApproval: { href: consentApproval } } } : {}),
      },
    };
  }

  const TRANSACTION_STATUS: Record<string, string> = {
    ACTC: 'ACTC',
    ACCP: 'ACTC',
    ACWC: 'ACTC',
    PDNG: 'PDNG',
    ACSP: 'ACSP',
    ACSC: 'ACSC',
    RJCT: 'RJCT',
    CANC: 'CANC',
  };

  function resource(payment: SimulatedPayment): Record<string, unknown> {
    const { status, reason } = ledger.status(payment);
    const transactions = (payment.body.creditTransferTransaction as Record<string, unknown>[]).map((t, i) => ({
      ...t,
      resourceId: `${payment.id}-${i + 1}`,
      ...(TRANSACTION_STATUS[status] ? { transactionStatus: TRANSACTION_STATUS[status] } : {}),
    }));
    const base = publicBase();
    return {
      paymentRequest: {
        ...payment.body,
        resourceId: payment.id,
        paymentInformationStatus: status,
        ...(reason ? { statusReasonInformation: reason } : {}),
        creditTransferTransaction: transactions,
      },
      _links: {
        request: { href: `${base}/payment-requests/${payment.id}` },
        ...(status === 'ACTC' && settings.confirmation && payment.confirmedAt === null
          ? { confirmation: { href: `${base}/payment-requests/${payment.id}/confirmation` } }
          : {}),
      },
    };
  }

  function cancel(payment: SimulatedPayment, json: unknown, path: string): Reply {
    const body = (json ?? {}) as Record<string, unknown>;
    const wanted = body.paymentInformationStatus;
    if ((wanted !== 'CANC' && wanted !== 'RJCT') || body.statusReasonInformation === undefined)
      return errorReply(403, 'A payment request can only be cancelled (paymentInformationStatus CANC with a reason).', path);
    if (settings.cancellationApproval) {
      const { status } = ledger.status(payment);
      if (['ACSC', 'ACSP', 'RJCT', 'CANC', 'PART'].includes(status)) return errorReply(409, `The payment request is ${status} and cannot be cancelled.`, path);
      const supplementary = (body.supplementaryData ?? {}) as { successfulReportUrl?: unknown; unsuccessfulReportUrl?: unknown };
      const ok = typeof supplementary.successfulReportUrl === 'string' ? supplementary.successfulReportUrl : null;
      pendingCancellations.set(payment.id, { ok, nok: typeof supplementary.unsuccessfulReportUrl === 'string' ? supplementary.unsuccessfulReportUrl : ok });
      log(`Payment request ${payment.id}: cancellation waits for the payer`);
      return {
        status: 200,
        json: {
          appliedAuthenticationApproach: 'REDIRECT',
          _links: { consentApproval: { href: `${publicBase()}/cancellation/${encodeURIComponent(payment.id)}` } },
        },
      };
    }
    if (!ledger.cancel(payment)) return errorReply(409, `The payment request is ${ledger.status(payment).status} and cannot be cancelled.`, path);
    log(`Payment request ${payment.id} cancelled by the PISP`);
    return { status: 200, json: { appliedAuthenticationApproach: 'NONE' } };
  }

  function confirmation(payment: SimulatedPayment, json: unknown, path: string): Reply {
    const body = (json ?? {}) as Record<string, unknown>;
    if (body.nonce !== undefined && body.nonce !== payment.nonce) return errorReply(400, 'The nonce does not match the payment request.', path);
    if (payment.approach === 'EMBEDDED-1-FACTOR' && payment.decision === null) {
      if (typeof body.psuAuthenticationFactor !== 'string') return errorReply(400, 'psuAuthenticationFactor is required.', path);
      const ok = body.psuAuthenticationFactor === payment.otp;
      ledger.decide(payment, ok ? 'approve' : 'refuse');
      if (!ok) return errorReply(400, 'psuAuthenticationFactor is wrong: the payment request is rejected.', path);
    }
    if (!settings.confirmation) return { status: 200, json: resource(payment) };
    if (!ledger.confirm(payment)) return errorReply(409, `The payment request is ${ledger.status(payment).status}: nothing to confirm.`, path);
    log(`Payment request ${payment.id} confirmed`);
    return { status: 200, json: resource(payment) };
  }

  // ---- the payer's pages ----

  function describe(payment: SimulatedPayment) {
    const transactions = payment.body.creditTransferTransaction as {
      instructedAmount?: { amount?: unknown; currency?: string };
      beneficiary?: { creditor?: { name?: string }; creditorAccount?: { iban?: string } };
      remittanceInformation?: { unstructured?: string[] };
      standingOrderCharacteristics?: { frequency?: string; startDate?: string };
    }[];
    const rows = transactions.map(
      (t, i) => html`${transactions.length > 1 ? html`<dt>Payment ${i + 1}</dt><dd></dd>` : ''}
    <dt>Amount</dt><dd>${shownAmount(t.instructedAmount?.amount)} ${t.instructedAmount?.currency ?? ''}</dd>
    <dt>To</dt><dd>${t.beneficiary?.creditor?.name ?? ''}</dd>
    <dt>Account</dt><dd>${groupedIban(t.beneficiary?.creditorAccount?.iban) ?? ''}</dd>
    ${t.remittanceInformation?.unstructured?.[0] ? html`<dt>Reference</dt><dd>${t.remittanceInformation.unstructured[0]}</dd>` : ''}
    ${t.standingOrderCharacteristics ? html`<dt>Every</dt><dd>${t.standingOrderCharacteristics.frequency ?? ''} from ${(t.standingOrderCharacteristics.startDate ?? '').slice(0, 10)}</dd>` : ''}`,
    );
    return html`<dl>${rows}</dl>`;
  }

  function consentForm(payment: SimulatedPayment, action: string, hidden: Record<string, string>, targets: string[], title = 'Confirm this payment'): Page {
    const fields = Object.entries({ token: payment.formToken, ...hidden }).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
    return bankPage(
      BANK,
      title,
      html`<h1>${title}</h1>${describe(payment)}
    <form method="post" action="${action}">${fields}
      <div class="actions"><button type="submit" name="decision" value="approve">Approve</button>
      <button type="submit" name="decision" value="refuse">Refuse</button></div>
    </form>`,
      targets,
    );
  }

  function validForm(payment: SimulatedPayment, form: URLSearchParams): 'approve' | 'refuse' | null {
    const token = Buffer.from(form.get('token') ?? '');
    const expected = Buffer.from(payment.formToken);
    const decision = form.get('decision');
    if (token.length !== expected.length || !timingSafeEqual(token, expected)) return null;
    return decision === 'approve' || decision === 'refuse' ? decision : null;
  }

  function redirect(response: ServerResponse, target: string): void {
    response.writeHead(303, { Location: target, 'Cache-Control': 'no-store' });
    response.end();
  }

  /** OAuth2 authorization endpoint: the consent page, then the code (or access_denied) back to `redirect_uri` with `state`. */
  function serveAuthorize(response: ServerResponse, method: string, url: URL, body: Incoming): void {
    const params = method === 'POST' ? new URLSearchParams(body.raw.toString('utf8')) : url.searchParams;
    const payment = ledger.payments.get(params.get('context') ?? '');
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!payment || params.get('client_id') !== clientId || params.get('response_type') !== 'code' || !/^https?:\/\//.test(redirectUri))
      return void servePage(response, 400, kitResultPage(BANK, 'Request refused', 'This authorization request is not valid.', null));
    const state = params.get('state') ?? '';
    const challenge = params.get('code_challenge');
    if (challenge && params.get('code_challenge_method') !== 'S256')
      return void servePage(response, 400, kitResultPage(BANK, 'Request refused', 'Only the S256 PKCE method is accepted.', null));
    if (ledger.status(payment).status !== 'RCVD' || payment.approach !== 'REDIRECT')
      return void servePage(response, 200, kitResultPage(BANK, 'Nothing left to confirm', `This payment is ${ledger.status(payment).status}.`, null));
    if (method === 'GET') {
      const hidden: Record<string, string> = { context: payment.id, client_id: clientId, response_type: 'code', redirect_uri: redirectUri, state };
      if (challenge) Object.assign(hidden, { code_challenge: challenge, code_challenge_method: 'S256' });
      return void servePage(response, 200, consentForm(payment, '/authorize', hidden, [redirectUri]));
    }
    const decision = validForm(payment, params);
    if (!decision)
      return void servePage(response, 400, kitResultPage(BANK, 'Request refused', 'The form was not sent from this page. Open the link again.', null));
    ledger.decide(payment, decision);
    log(`Payment request ${payment.id}: payer chose ${decision}`);
    const target = new URL(redirectUri);
    if (decision === 'approve') {
      const code = randomBytes(24).toString('base64url');
      payment.authorization = { redirectUri, state, challenge, code, codeUsed: false };
      target.searchParams.set('code', code);
    } else {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The payer refused the payment.');
    }
    target.searchParams.set('state', state);
    redirect(response, target.toString());
  }

  /** The plain redirect (before 1.5): the consent page, then the report URL the PISP gave. */
  function serveConsent(response: ServerResponse, method: string, id: string, body: Incoming): void {
    const payment = ledger.payments.get(id);
    if (!payment) return void servePage(response, 404, kitResultPage(BANK, 'Unknown payment', 'This link is not valid at this bank.', null));
    const supplementary = (payment.body.supplementaryData ?? {}) as { successfulReportUrl?: string; unsuccessfulReportUrl?: string };
    const ok = supplementary.successfulReportUrl ?? null;
    const nok = supplementary.unsuccessfulReportUrl ?? ok;
    if (ledger.status(payment).status !== 'RCVD')
      return void servePage(response, 200, kitResultPage(BANK, 'Nothing left to confirm', `This payment is ${ledger.status(payment).status}.`, ok));
    decisionPage(response, method, body, payment, `/consent/${encodeURIComponent(id)}`, { ok, nok }, 'Confirm this payment', (decision) => {
      ledger.decide(payment, decision);
      log(`Payment request ${payment.id}: payer chose ${decision}`);
      return decision === 'approve';
    });
  }

  /** The payer's approval of a cancellation (settings.cancellationApproval): Approve cancels, Refuse leaves the payment as it is. */
  function serveCancellation(response: ServerResponse, method: string, id: string, body: Incoming): void {
    const payment = ledger.payments.get(id);
    const pending = payment ? pendingCancellations.get(id) : undefined;
    if (!payment || !pending)
      return void servePage(response, 404, kitResultPage(BANK, 'Unknown cancellation', 'No cancellation of this payment waits for you.', null));
    decisionPage(response, method, body, payment, `/cancellation/${encodeURIComponent(id)}`, pending, 'Cancel this payment', (decision) => {
      pendingCancellations.delete(id);
      log(`Payment request ${payment.id}: payer chose ${decision} for the cancellation`);
      return decision === 'approve' && ledger.cancel(payment);
    });
  }

  /** A payer's page with Approve / Refuse (GET), then their checked decision (POST): `decide` says whether it was approved and taken; back to `ok` if so, else `nok`. */
  function decisionPage(
    response: ServerResponse,
    method: string,
    body: Incoming,
    payment: SimulatedPayment,
    action: string,
    back: { ok: string | null; nok: string | null },
    title: string,
    decide: (decision: 'approve' | 'refuse') => boolean,
  ): void {
    if (method === 'GET')
      return void servePage(
        response,
        200,
        consentForm(
          payment,
          action,
          {},
          [back.ok, back.nok].filter((u): u is string => !!u),
          title,
        ),
      );
    const decision = validForm(payment, new URLSearchParams(body.raw.toString('utf8')));
    if (!decision)
      return void servePage(response, 400, kitResultPage(BANK, 'Request refused', 'The form was not sent from this page. Open the link again.', null));
    const taken = decide(decision);
    const target = taken ? back.ok : back.nok;
    if (target) return void redirect(response, target);
    return void servePage(response, 200, kitResultPage(BANK, taken ? 'Approved' : 'Refused', "You can go back to the merchant's app.", null));
  }

  // ---- control ----

  function control(method: string, segments: string[], body: unknown): Reply {
    const [resourceName, id, action] = segments;
    const key = `${method} ${resourceName ?? ''}${id ? ' id' : ''}${action ? ` ${action}` : ''}`;
    const problem = (status: number, error: string): Reply => ({ status, json: { error } });
    switch (key) {
      case 'GET ':
        return { status: 200, json: { simulator: 'STET PSD2 1.5.0.43', base_url: publicBase(), client_id: clientId } };
      case 'GET faults':
        return { status: 200, json: faults.list() };
      case 'POST faults':
        try {
          return { status: 201, json: faults.add(body as FaultSpec<Operation>) };
        } catch (error) {
          if (error instanceof FaultError) return problem(400, error.message);
          throw error;
        }
      case 'DELETE faults':
        faults.clear();
        return { status: 204 };
      case 'GET payments':
        return { status: 200, json: [...ledger.payments.values()].map((p) => ledger.view(p)) };
      case 'GET received':
        return { status: 200, json: received.summary() };
      case 'POST reset':
        ledger.payments.clear();
        faults.clear();
        received.clear();
        return { status: 204 };
    }
    const payment = id ? ledger.payments.get(id) : undefined;
    if (resourceName !== 'payments' || !payment) return problem(404, 'no such control resource or payment');
    if (key === 'GET payments id') return { status: 200, json: ledger.view(payment) };
    if (key === 'POST payments id approve' || key === 'POST payments id refuse') {
      if (!ledger.decide(payment, action as 'approve' | 'refuse')) return problem(409, 'this payment no longer waits for the payer');
      return { status: 200, json: ledger.view(payment) };
    }
    if (key === 'POST payments id status') {
      const { status, reason } = (body ?? {}) as { status?: unknown; reason?: unknown };
      if (typeof status !== 'string' || !FORCEABLE_STATUSES.includes(status)) return problem(400, `status must be one of ${FORCEABLE_STATUSES.join(', ')}`);
      if (reason !== undefined && (typeof reason !== 'string' || !/^[A-Z0-9]{4}$/.test(reason))) return problem(400, 'reason must be a four-character code');
      ledger.force(payment, status, (reason as string | undefined) ?? null);
      return { status: 200, json: ledger.view(payment) };
    }
    return problem(404, 'no such control resource');
  }

  origin = await listen(server, options);
  const base = publicBase();

  const decideOrThrow = (id: string, decision: 'approve' | 'refuse') => {
    const payment = ledger.payments.get(id);
    if (!payment || !ledger.decide(payment, decision)) throw new Error(`payment request ${id} does not wait for the payer`);
  };

  const sim: StetSimulator = {
    url: origin,
    baseUrl: base,
    tokenUrl: `${base}/token`,
    authorizationUrl: `${base}/authorize`,
    keyIdUrl: `${base}/certificates/qseal.pem`,
    clientId,
    keys,
    faults,
    received,
    ledger,
    payments: ledger.payments,
    settings,
    approve: (id) => decideOrThrow(id, 'approve'),
    refuse: (id) => decideOrThrow(id, 'refuse'),
    addCommand(name = 'STET Simulator') {
      return [
        'payrail bank add --standard stet',
        `--name ${shellQuote(name)}`,
        `--base-url ${sim.baseUrl}`,
        '--country FR',
        `--client-id ${clientId}`,
        `--token-url ${sim.tokenUrl}`,
        `--authorization-url ${sim.authorizationUrl}`,
        `--signing-key ${keys.keyPath}`,
        `--signing-cert ${keys.certPath}`,
        `--key-id ${sim.keyIdUrl}`,
      ].join(' ');
    },
    async close() {
      for (const socket of hanging) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sim;
}
