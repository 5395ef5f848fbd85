/**
 * A stateful Berlin Group NextGenPSD2 1.3.12 bank on `node:http`: payment initiation, status,
 * cancellation, redirect and decoupled SCA, an SCA page, injectable faults and a control
 * endpoint. Shipped with Payrail (`payrail bank simulate`) as a sandbox bank and used by the tests
 * as the far side of the connector, behind `prism proxy --errors` (docs/reference/berlin-group.md §12).
 */
import { createHash, randomUUID, timingSafeEqual, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { systemClock, type Clock } from '../../../domain/clock.ts';
import { errorReply, handle, isUuid, rejectionReply, route, type ApiContext, type ApiOptions, type Reply, type Route } from './api.ts';
import { control, type ControlContext } from './control.ts';
import { Faults, type Fault } from './faults.ts';
import { Ledger, type Authorisation, type SimulatedPayment } from './ledger.ts';
import type { EmbeddedOptions } from './embedded.ts';
import { SimulatedAuthServer, type PeerCertificate, type SimulatorOAuthOptions } from './oauth.ts';
import { hashBody, psuContextOf, Received } from './received.ts';
import { failRequest, parseJson, readBody, type Incoming } from '../../kit/simulator/http.ts';
import { checkSignature } from '../../kit/simulator/signature-check.ts';
import { isXmlProduct, readXmlInitiation } from './pain.ts';
import { Refusal } from './validate.ts';
import { decisionPage, resultPage, scaPage, type Page } from './sca-page.ts';
import type { VopMode } from './vop.ts';

export interface BerlinGroupSimulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  clock?: Clock;
  /** Time from the payer's approval to ACSC (ACSP at half of it). Default 4 s. */
  settleAfterMs?: number;
  /** The approach when the TPP states no preference. Default redirect. */
  scaApproach?: 'redirect' | 'decoupled';
  /** Always answer with `startAuthorisation` (explicit start) rather than `scaRedirect`. */
  explicitStart?: boolean;
  /** Refuse a body without `debtorAccount`, as the 1.3.12 schema says. Default true. */
  requireDebtorAccount?: boolean;
  /** The cancellation of an approved, not yet executed payment needs the payer's SCA (202). Default false (204). */
  cancellationSca?: boolean;
  /** A payment whose SCA never came is rejected after this long. Default 30 min. */
  scaExpiresAfterMs?: number;
  /** Base of the SCA page links, when the simulator is reached under another address. */
  publicUrl?: string;
  /** Refuse a `/v1` call without a `Date` header (banks that sign it). */
  requireDate?: boolean;
  /** Refuse transfers without `creditorAddress` (at least the country). */
  requireCreditorAddress?: boolean;
  /** Take payments only as pain.001 XML products, answer status as pain.002 when asked for XML (pain.ts). */
  pain001?: boolean;
  /** Offer embedded SCA (asked with `TPP-Redirect-Preferred: false`): the payer's password and methods (embedded.ts). */
  embedded?: EmbeddedOptions | null;
  /** Verification of Payee on every initiation, with this result (vop.ts). */
  vop?: VopMode | null;
  /** Refuse a `/v1` call that is not signed (Digest, Signature over digest and x-request-id, TPP-Signature-Certificate): 401 SIGNATURE_MISSING / SIGNATURE_INVALID / CERTIFICATE_MISSING. */
  requireSignature?: boolean;
  /** Answer without echoing `X-Request-ID` (some banks do not, although the file requires it). */
  echoRequestId?: boolean;
  /** The bank's OAuth 2.0 authorization server: a token before each call (`preStep`), `scaOAuth` answers (oauth.ts). */
  oauth?: SimulatorOAuthOptions;
  /** HTTPS with client certificates (mTLS), as real banks' APIs and token endpoints (oauth.ts: `tls_client_auth`). */
  tls?: SimulatorTlsOptions | null;
  log?: (line: string) => void;
}

export interface SimulatorTlsOptions {
  /** The server's certificate and key (PEM). */
  cert: string;
  key: string;
  /** The CA (PEM) a client certificate must chain to. Clients are asked for one on every connection. */
  clientCa: string;
  /**
   * Every `/v1` call must come with a client certificate that chains to `clientCa` (401
   * CERTIFICATE_MISSING / CERTIFICATE_INVALID otherwise), and a token issued with a certificate
   * (`tls_client_auth`) is good only with that certificate (RFC 8705 §3). Off: only the token
   * endpoint looks at the certificate (Prism, which has none, can stand between TPP and `/v1`).
   */
  requireApiCert?: boolean;
}

/** The client certificate a request came with: null over plain HTTP. */
export function peerCertificate(request: IncomingMessage): PeerCertificate | null {
  const socket = request.socket;
  if (!(socket instanceof TLSSocket)) return null;
  const cert = socket.getPeerX509Certificate();
  if (!cert) return { present: false, trusted: false, subject: null, thumbprint: null };
  return { present: true, trusted: socket.authorized, subject: cert.subject, thumbprint: createHash('sha256').update(cert.raw).digest('base64url') };
}

export interface BerlinGroupSimulator {
  /** Where it listens; also the bank's base URL for `payrail bank add` (everything before /v1). */
  url: string;
  faults: Faults;
  payments: Map<string, SimulatedPayment>;
  ledger: Ledger;
  received: Received;
  /** The authorization server, when `oauth` was given. */
  auth: SimulatedAuthServer | null;
  /** The bank's behaviour, changeable while it runs (e.g. `cancellationSca`). */
  settings: ApiOptions;
  /** Takes the decision a payer takes on the SCA page or in the bank's app (decoupled). */
  approve(paymentId: string): void;
  refuse(paymentId: string): void;
  close(): Promise<void>;
}

export async function startBerlinGroupSimulator(options: BerlinGroupSimulatorOptions = {}): Promise<BerlinGroupSimulator> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const ledger = new Ledger({ clock, settleAfterMs: options.settleAfterMs ?? 4_000, scaExpiresAfterMs: options.scaExpiresAfterMs ?? 30 * 60_000 });
  const faults = new Faults();
  const received = new Received();
  const hanging = new Set<Socket>();
  const apiOptions: ApiOptions = {
    scaApproach: options.scaApproach ?? 'redirect',
    explicitStart: options.explicitStart ?? false,
    requireDebtorAccount: options.requireDebtorAccount ?? true,
    cancellationSca: options.cancellationSca ?? false,
    scaOAuth: options.oauth?.scaOAuth ?? false,
    requireDate: options.requireDate ?? false,
    requireCreditorAddress: options.requireCreditorAddress ?? false,
    embedded: options.embedded ?? null,
    pain001: options.pain001 ?? false,
    vop: options.vop ?? null,
    requireSignature: options.requireSignature ?? false,
    echoRequestId: options.echoRequestId ?? true,
  };
  let selfUrl = '';
  const auth = options.oauth ? new SimulatedAuthServer(options.oauth, { clock, ledger, base: () => options.publicUrl ?? selfUrl }) : null;
  const api: ApiContext = {
    ledger,
    clock,
    options: apiOptions,
    log,
    scaPageUrl: (id) => `${options.publicUrl ?? selfUrl}/sca/${id}`,
    ...(auth ? { oauthMetadataUrl: () => auth.metadataUrl() } : {}),
  };

  const decide = (payment: SimulatedPayment, decision: 'approve' | 'refuse', only?: Authorisation): boolean => {
    const open = only ? [only] : [...payment.authorisations].reverse();
    const authorisation = open.find(
      (a) => !['finalised', 'failed', 'exempted'].includes(a.scaStatus) && (a.kind === 'cancellation' || ledger.status(payment) === 'RCVD'),
    );
    if (!authorisation) return false;
    if (decision === 'approve') ledger.approve(payment, authorisation);
    else ledger.refuse(payment, authorisation);
    log(`${authorisation.kind === 'cancellation' ? 'Cancellation' : 'Payment'} ${payment.paymentId}: payer chose ${decision}`);
    return true;
  };
  const controlContext: ControlContext = {
    ledger,
    faults,
    received,
    auth,
    settings: apiOptions,
    decide,
    reset: () => {
      ledger.payments.clear();
      faults.clear();
      received.clear();
    },
  };

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    dispatch(request, response).catch((error: unknown) => {
      log(`simulator error: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500, { 'X-Request-ID': randomUUID() });
      response.end();
    });
  };
  // mTLS: a certificate is asked of every client but checked per request (a clear 401, not a failed handshake).
  const tls = options.tls ?? null;
  const server: Server = tls
    ? (createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }, handler) as unknown as Server)
    : createServer(handler);

  async function dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://simulator');
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      segments = ['invalid'];
    }
    const method = request.method ?? 'GET';
    if (segments[0] === 'v1') return serveApi(request, response, method, segments.slice(1), body);
    if (segments[0] === 'sca' && segments.length === 2) return serveScaPage(response, method, segments[1]!, body.raw);
    if (auth && url.pathname === '/.well-known/oauth-authorization-server' && method === 'GET') return send(response, randomUUID(), auth.metadata());
    if (auth && url.pathname === '/oauth/token' && method === 'POST')
      return send(response, randomUUID(), await auth.token(request.headers, body.raw, peerCertificate(request)));
    if (auth && url.pathname === '/oauth/authorize') return serveAuthorize(response, method, url.searchParams, body.raw);
    if (segments[0] === '_simulator') {
      const reply = control(controlContext, method, segments.slice(1), parseJson(body.raw));
      response.writeHead(reply.status, reply.json === undefined ? {} : { 'Content-Type': 'application/json' });
      return void response.end(reply.json === undefined ? undefined : JSON.stringify(reply.json));
    }
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('Not found. The NextGenPSD2 API is under /v1, the control endpoint under /_simulator.\n');
  }

  function send(response: ServerResponse, requestId: string, reply: Reply): void {
    const headers: Record<string, string> = { ...(apiOptions.echoRequestId === false ? {} : { 'X-Request-ID': requestId }), ...reply.headers };
    if (reply.xml !== undefined) headers['Content-Type'] = 'application/xml; charset=utf-8';
    else if (reply.json !== undefined) headers['Content-Type'] = 'application/json';
    response.writeHead(reply.status, headers);
    response.end(reply.xml ?? (reply.json === undefined ? undefined : JSON.stringify(reply.json)));
  }

  /** What a failing bank does instead of answering. */
  function fail(request: IncomingMessage, response: ServerResponse, requestId: string, fault: Fault): void {
    failRequest(request, fault, hanging, (status) => send(response, requestId, { status }));
  }

  async function serveApi(request: IncomingMessage, response: ServerResponse, method: string, segments: string[], body: Incoming): Promise<void> {
    const given = request.headers['x-request-id'];
    const requestId = isUuid(given) ? given : randomUUID();
    const routed = route(method, segments);
    const operation = 'operation' in routed ? (routed.operation === 'updatePsuData' ? 'updatePaymentPsuData' : routed.operation) : null;
    const peer = peerCertificate(request);
    const bearer = auth
      ? auth.checkBearer(
          request.headers.authorization,
          'paymentId' in routed ? routed.paymentId : undefined,
          tls?.requireApiCert ? (peer?.thumbprint ?? null) : undefined,
        )
      : null;
    const certificate = !tls?.requireApiCert ? null : !peer?.present ? 'CERTIFICATE_MISSING' : !peer.trusted ? 'CERTIFICATE_INVALID' : null;
    const psuContext = psuContextOf(request.headers);
    received.recordCall({
      operation,
      method,
      path: `/v1/${segments.join('/')}`,
      requestId: typeof given === 'string' ? given : null,
      at: clock.now(),
      ...(bearer ? { bearer: bearer.ok ? bearer.kind : 'refused' } : {}),
      ...(tls ? { certificate: peer?.present ? (peer.trusted ? 'trusted' : 'untrusted') : 'none' } : {}),
      ...(psuContext ? { psuContext } : {}),
    });
    // mTLS on the API: a call without a certificate the bank trusts is refused before anything is done.
    if (certificate)
      return send(
        response,
        requestId,
        errorReply(401, certificate, certificate === 'CERTIFICATE_MISSING' ? 'A client certificate is required.' : 'The client certificate is not trusted.'),
      );
    // The OAuth2 pre-step: a call without a good token is refused before anything is done.
    if (bearer && !bearer.ok) {
      const expired = bearer.code === 'TOKEN_EXPIRED';
      return send(response, requestId, {
        ...errorReply(401, bearer.code, expired ? 'The access token has expired.' : 'No valid access token.'),
        headers: { 'WWW-Authenticate': `Bearer error="invalid_token"` },
      });
    }
    // A bank that requires signatures refuses an unsigned or badly signed call before doing anything.
    const unsigned = apiOptions.requireSignature ? signatureProblem(request, body) : null;
    if (unsigned) return send(response, requestId, unsigned);
    const initiation =
      operation === 'initiatePayment'
        ? received.recordInitiation({ requestId: typeof given === 'string' ? given : null, bodyHash: hashBody(body.raw), paymentId: null, at: clock.now() })
        : null;
    if (!operation) return send(response, requestId, 'status' in routed ? routed : errorReply(405, 'SERVICE_INVALID', 'Embedded SCA is not offered.'));
    const { latencyMs, fault } = faults.take(operation);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (fault?.kind === 'reject') return send(response, requestId, rejectionReply(fault.code!, fault.status, fault.text, operation));
    if (fault && !fault.afterProcessing) return fail(request, response, requestId, fault);
    const reply = await processRequest(routed as Route, request, body, given);
    if (initiation && reply.status === 201) initiation.paymentId = (reply.json as { paymentId: string }).paymentId;
    if (fault) return fail(request, response, requestId, fault);
    send(response, requestId, reply);
  }

  /** The signature check of a bank that requires one: the certificate the TPP presents, its Digest and Signature. */
  function signatureProblem(request: IncomingMessage, body: Incoming): Reply | null {
    if (!request.headers.signature) return errorReply(401, 'SIGNATURE_MISSING', 'The request is not signed (Signature).');
    const presented = request.headers['tpp-signature-certificate'];
    if (typeof presented !== 'string' || presented === '') return errorReply(401, 'CERTIFICATE_MISSING', 'TPP-Signature-Certificate is required.');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(presented, 'base64'));
    } catch {
      return errorReply(401, 'CERTIFICATE_INVALID', 'TPP-Signature-Certificate is not a certificate.');
    }
    const problem = checkSignature(request.method ?? 'GET', request.url ?? '/', request.headers, body.raw, certificate);
    if (!problem) return null;
    return errorReply(401, problem === 'Signature is missing' ? 'SIGNATURE_MISSING' : 'SIGNATURE_INVALID', `${problem}.`);
  }

  async function processRequest(r: Route, request: IncomingMessage, body: Incoming, given: unknown): Promise<Reply> {
    if (!isUuid(given)) return errorReply(400, 'FORMAT_ERROR', 'X-Request-ID must be a UUID.', 'X-Request-ID');
    if (body.tooLarge) return errorReply(400, 'FORMAT_ERROR', 'The body is too large.');
    const contentType = request.headers['content-type'] ?? '';
    if (r.operation === 'initiatePayment' && apiOptions.pain001 && isXmlProduct(r.product)) {
      try {
        const xml = await readXmlInitiation(r.service, contentType, body.raw);
        return handle(api, r, { headers: request.headers, contentType, body: xml.body, xml });
      } catch (error) {
        if (error instanceof Refusal) return { status: error.status, json: { tppMessages: [error.tppMessage] } };
        throw error;
      }
    }
    return handle(api, r, { headers: request.headers, contentType, body: parseJson(body.raw) });
  }

  /** The authorization server's page for the payer (scaOAuth). */
  function serveAuthorize(response: ServerResponse, method: string, query: URLSearchParams, raw: Buffer): void {
    if (method === 'GET') {
      const checked = auth!.authorize(query);
      if (!checked.ok) return void servePage(response, checked.status, resultPage('Request refused', checked.text, null));
      const { request } = checked;
      return void servePage(
        response,
        200,
        decisionPage(request.payment, 'Confirm this payment', '/oauth/authorize', { token: request.formToken }, [request.redirectUri]),
      );
    }
    if (method !== 'POST') return void servePage(response, 405, resultPage('Not allowed', 'Use the buttons of the page.', null));
    const decided = auth!.decide(new URLSearchParams(raw.toString('utf8')));
    if (!decided.ok) return void servePage(response, decided.status, resultPage('Request refused', decided.text, null));
    log(`OAuth SCA: the payer decided, back to ${new URL(decided.location).origin}`);
    response.writeHead(303, { Location: decided.location, 'Cache-Control': 'no-store' });
    response.end();
  }

  function servePage(response: ServerResponse, status: number, page: Page): void {
    response.writeHead(status, page.headers);
    response.end(page.body);
  }

  function serveScaPage(response: ServerResponse, method: string, authorisationId: string, raw: Buffer): void {
    const found = ledger.findAuthorisation(authorisationId);
    if (!found) {
      servePage(response, 404, resultPage('Unknown authorisation', 'This link is not valid at this bank.', null));
      return;
    }
    const { payment, authorisation } = found;
    const back = authorisation.approach === 'REDIRECT' ? (payment.nokRedirectUri ?? payment.redirectUri) : null;
    const open =
      !['finalised', 'failed', 'exempted'].includes(authorisation.scaStatus) && (authorisation.kind === 'cancellation' || ledger.status(payment) === 'RCVD');
    if (!open) {
      servePage(
        response,
        200,
        resultPage('Nothing left to confirm', `This authorisation is ${authorisation.scaStatus}; the payment is ${ledger.status(payment)}.`, back),
      );
      return;
    }
    if (method === 'GET') {
      servePage(response, 200, scaPage(payment, authorisation, `/sca/${encodeURIComponent(authorisationId)}`));
      return;
    }
    if (method !== 'POST') {
      servePage(response, 405, resultPage('Not allowed', 'Use the buttons of the page.', null));
      return;
    }
    const form = new URLSearchParams(raw.toString('utf8'));
    const token = Buffer.from(form.get('token') ?? '');
    const expected = Buffer.from(authorisation.formToken);
    const decision = form.get('decision');
    if (token.length !== expected.length || !timingSafeEqual(token, expected) || (decision !== 'approve' && decision !== 'refuse')) {
      servePage(response, 400, resultPage('Request refused', 'The form was not sent from this page. Open the link again.', null));
      return;
    }
    decide(payment, decision, authorisation);
    const target = decision === 'approve' ? payment.redirectUri : (payment.nokRedirectUri ?? payment.redirectUri);
    if (authorisation.approach === 'REDIRECT' && target) {
      response.writeHead(303, { Location: target, 'Cache-Control': 'no-store' });
      return void response.end();
    }
    const done = decision === 'approve' ? 'Approved' : 'Refused';
    servePage(response, 200, resultPage(done, `${done}. You can go back to the merchant's app.`, null));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  selfUrl = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: selfUrl,
    faults,
    payments: ledger.payments,
    ledger,
    received,
    auth,
    settings: apiOptions,
    approve(paymentId) {
      const payment = ledger.payments.get(paymentId);
      if (!payment || !decide(payment, 'approve')) throw new Error(`no open authorisation for payment ${paymentId}`);
    },
    refuse(paymentId) {
      const payment = ledger.payments.get(paymentId);
      if (!payment || !decide(payment, 'refuse')) throw new Error(`no open authorisation for payment ${paymentId}`);
    },
    async close() {
      for (const socket of hanging) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
