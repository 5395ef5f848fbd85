/**
 * The `/v1` payment initiation API of the simulated bank: routing to the standard's operations
 * and one handler per operation. Handlers compute a `Reply` without writing it, so a fault can
 * let the bank do the work and then lose the answer.
 */
import { isIPv4 } from 'node:net';
import type { Clock } from '../../../domain/clock.ts';
import { FINAL_STATUSES, statusForCode } from './codes.ts';
import { type EmbeddedOptions, startEmbedded, updateEmbedded } from './embedded.ts';
import type { Operation } from './faults.ts';
import { todayOf, type Approach, type Ledger, type SimulatedPayment } from './ledger.ts';
import { isXmlProduct, jsonTwin, pain002Xml, type XmlInitiation } from './pain.ts';
import { PAYMENT_PRODUCTS, PAYMENT_SERVICES, Refusal, validateInitiation, type PaymentProduct, type PaymentService } from './validate.ts';
import { checkPayee, vopMembers, type VopMode } from './vop.ts';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON body; none for 204 and the body-less error statuses. */
  json?: unknown;
  /** An XML body instead (a pain.002 status answer). */
  xml?: string;
}

export interface ApiOptions {
  scaApproach: 'redirect' | 'decoupled';
  explicitStart: boolean;
  requireDebtorAccount: boolean;
  cancellationSca: boolean;
  /** Answer initiations with a `scaOAuth` link (needs the simulator's authorization server). */
  scaOAuth?: boolean;
  /** Refuse a call without a `Date` header (or one more than 5 minutes off), as banks that sign it do. */
  requireDate?: boolean;
  /** Refuse transfers without `creditorAddress`. */
  requireCreditorAddress?: boolean;
  /** Embedded SCA offered (embedded.ts). */
  embedded?: EmbeddedOptions | null;
  /** Payments only as pain.001 XML products, status as pain.002 when asked for XML (pain.ts). */
  pain001?: boolean;
  /** With `pain001`: answer status as pain.002 when asked for XML (default); false answers JSON, as some XML banks do. */
  pain002?: boolean;
  /** Verification of Payee on every initiation, with this result (vop.ts); off when absent. */
  vop?: VopMode | null;
  /** Refuse unsigned calls (server.ts checks them before routing). */
  requireSignature?: boolean;
  /** Echo `X-Request-ID` in every answer, as the file requires (false: like banks that do not). */
  echoRequestId?: boolean;
}

export interface ApiContext {
  ledger: Ledger;
  clock: Clock;
  options: ApiOptions;
  /** Absolute URL of the SCA page of an authorisation (the simulator's own host, not Prism's). */
  scaPageUrl(authorisationId: string): string;
  /** The authorization server's metadata URL (`scaOAuth` link), when the simulator has one. */
  oauthMetadataUrl?: () => string;
  log(line: string): void;
}

export interface Route {
  operation: Operation | 'updatePsuData';
  service: PaymentService;
  product: PaymentProduct;
  paymentId?: string;
  authorisationId?: string;
}

export interface ApiRequest {
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  body: unknown;
  /** An XML product's initiation, read by pain.ts (`body` is then its JSON twin). */
  xml?: XmlInitiation;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

export function errorReply(status: number, code: string, text: string, path?: string): Reply {
  return { status, json: { tppMessages: [{ category: 'ERROR', code, ...(path ? { path } : {}), text }] } };
}

const OPERATIONS_BY_SHAPE: Record<string, Route['operation']> = {
  'POST 2': 'initiatePayment',
  'GET 3': 'getPaymentInformation',
  'DELETE 3': 'cancelPayment',
  'GET 4 status': 'getPaymentInitiationStatus',
  'POST 4 authorisations': 'startPaymentAuthorisation',
  'GET 4 authorisations': 'getPaymentInitiationAuthorisation',
  'GET 5 authorisations': 'getPaymentInitiationScaStatus',
  'PUT 5 authorisations': 'updatePsuData',
  'POST 4 cancellation-authorisations': 'startPaymentInitiationCancellationAuthorisation',
  'GET 4 cancellation-authorisations': 'getPaymentInitiationCancellationAuthorisationInformation',
  'GET 5 cancellation-authorisations': 'getPaymentCancellationScaStatus',
  'PUT 5 cancellation-authorisations': 'updatePsuData',
};

/** The operation a `/v1/…` request addresses (segments after `v1`), or the error reply. */
export function route(method: string, segments: string[]): Route | Reply {
  const [service, product, paymentId, sub, authorisationId] = segments;
  const shape = `${method} ${segments.length}${sub ? ` ${sub}` : ''}`;
  const operation = OPERATIONS_BY_SHAPE[shape];
  const known = Object.keys(OPERATIONS_BY_SHAPE).some((k) => k.split(' ').slice(1).join(' ') === shape.split(' ').slice(1).join(' '));
  if (!operation)
    return known ? errorReply(405, 'SERVICE_INVALID', `${method} is not offered on this resource.`) : errorReply(404, 'RESOURCE_UNKNOWN', 'No such resource.');
  if (!PAYMENT_SERVICES.includes(service as PaymentService)) return errorReply(404, 'RESOURCE_UNKNOWN', `Unknown payment service ${service}.`);
  if (!PAYMENT_PRODUCTS.includes(product as PaymentProduct)) return errorReply(404, 'PRODUCT_UNKNOWN', `Payment product ${product} is not offered.`);
  return {
    operation,
    service: service as PaymentService,
    product: product as PaymentProduct,
    ...(paymentId ? { paymentId } : {}),
    ...(authorisationId ? { authorisationId } : {}),
  };
}

const header = (request: ApiRequest, name: string): string | undefined => {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};
const yes = (request: ApiRequest, name: string) => header(request, name)?.toLowerCase() === 'true';

function httpUrl(request: ApiRequest, name: string): string | null {
  const value = header(request, name);
  if (value === undefined) return null;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return value;
  } catch {
    /* refused below */
  }
  throw new Refusal(400, 'FORMAT_ERROR', `${name} must be an absolute http(s) URI.`, name);
}

/** `Date` (RFC 9110 IMF-fixdate), required by some banks: missing → FORMAT_ERROR, 5 minutes off → TIMESTAMP_INVALID. */
function checkDate(ctx: ApiContext, request: ApiRequest): void {
  const value = header(request, 'Date');
  const at = value === undefined ? Number.NaN : Date.parse(value);
  if (value === undefined || Number.isNaN(at) || !/GMT$/.test(value))
    throw new Refusal(400, 'FORMAT_ERROR', 'The Date header is required (IMF-fixdate).', 'Date');
  if (Math.abs(at - ctx.clock.now()) > 5 * 60_000) throw new Refusal(400, 'TIMESTAMP_INVALID', 'The Date header is more than 5 minutes off.', 'Date');
}

export function handle(ctx: ApiContext, r: Route, request: ApiRequest): Reply {
  try {
    if (ctx.options.requireDate) checkDate(ctx, request);
    if (r.operation === 'initiatePayment') return initiate(ctx, r, request);
    if (r.operation === 'updatePsuData') {
      const target = ctx.options.embedded && r.authorisationId ? ctx.ledger.payments.get(r.paymentId!) : undefined;
      if (!target || !ctx.options.embedded || target.approach !== 'EMBEDDED')
        return errorReply(405, 'SERVICE_INVALID', 'Embedded SCA is not offered: use the redirect or decoupled approach.');
      return updateEmbedded(ctx, ctx.options.embedded, target, r.authorisationId!, request);
    }
    const payment = ctx.ledger.payments.get(r.paymentId!);
    if (!payment || payment.service !== r.service || payment.product !== r.product)
      return errorReply(404, 'RESOURCE_UNKNOWN', 'No such payment under this service and product.');
    if (r.operation === 'updatePaymentPsuData') return errorReply(405, 'SERVICE_INVALID', 'Not offered.');
    return HANDLERS[r.operation](ctx, payment, r, request);
  } catch (error) {
    if (error instanceof Refusal) return { status: error.status, json: { tppMessages: [error.tppMessage] } };
    throw error;
  }
}

function approachOf(ctx: ApiContext, request: ApiRequest): Approach {
  if (ctx.options.embedded && header(request, 'TPP-Redirect-Preferred')?.toLowerCase() === 'false' && !yes(request, 'TPP-Decoupled-Preferred'))
    return 'EMBEDDED';
  if (yes(request, 'TPP-Decoupled-Preferred') || header(request, 'TPP-Redirect-Preferred')?.toLowerCase() === 'false') return 'DECOUPLED';
  if (yes(request, 'TPP-Redirect-Preferred')) return 'REDIRECT';
  return ctx.options.scaApproach === 'decoupled' ? 'DECOUPLED' : 'REDIRECT';
}

const base = (p: { service: string; product: string; paymentId: string }) => `/v1/${p.service}/${p.product}/${encodeURIComponent(p.paymentId)}`;
const DECOUPLED_MESSAGE = 'Please confirm the payment in your banking app.';

function initiate(ctx: ApiContext, r: Route, request: ApiRequest): Reply {
  const ip = header(request, 'PSU-IP-Address');
  if (!ip || !isIPv4(ip)) throw new Refusal(400, 'FORMAT_ERROR', 'PSU-IP-Address must be an IPv4 address.', 'PSU-IP-Address');
  // A pain.001 bank takes the XML products only; any other bank the JSON ones only.
  if (isXmlProduct(r.product) !== (ctx.options.pain001 ?? false))
    return errorReply(404, 'PRODUCT_UNKNOWN', `Payment product ${r.product} is not offered (${ctx.options.pain001 ? 'pain.001 XML' : 'JSON'} products only).`);
  if (!request.xml && !/^application\/json\b/i.test(request.contentType)) return { status: 415 };
  if (request.body === undefined) throw new Refusal(400, 'FORMAT_ERROR', 'The body is not valid JSON.');
  validateInitiation(r.service, jsonTwin(r.product), request.body, {
    today: todayOf(ctx.clock),
    requireDebtorAccount: ctx.options.requireDebtorAccount,
    requireCreditorAddress: ctx.options.requireCreditorAddress ?? false,
  });
  const approach = approachOf(ctx, request);
  const redirectUri = httpUrl(request, 'TPP-Redirect-URI');
  const nokRedirectUri = httpUrl(request, 'TPP-Nok-Redirect-URI');
  const explicit = ctx.options.explicitStart || yes(request, 'TPP-Explicit-Authorisation-Preferred');
  if (approach === 'REDIRECT' && !explicit && !redirectUri)
    throw new Refusal(400, 'FORMAT_ERROR', 'TPP-Redirect-URI is needed for the redirect approach.', 'TPP-Redirect-URI');
  const payment = ctx.ledger.create({
    service: r.service,
    product: r.product,
    body: request.body as Record<string, unknown>,
    xml: request.xml ? { text: request.xml.xml, messageId: request.xml.messageId, paymentInformationId: request.xml.paymentInformationId } : null,
    requestId: header(request, 'X-Request-ID')!,
    psuId: header(request, 'PSU-ID') ?? null,
    approach,
    redirectUri,
    nokRedirectUri,
  });
  if (ctx.options.vop) payment.vop = checkPayee(ctx.options.vop, payment.body);
  const links: Record<string, { href: string }> = { self: { href: base(payment) }, status: { href: `${base(payment)}/status` } };
  let psuMessage: string | undefined;
  if (approach === 'EMBEDDED') {
    // A bank that takes the password only encrypted says so with the link's name.
    const name = ctx.options.embedded?.passwordKey ? 'startAuthorisationWithEncryptedPsuAuthentication' : 'startAuthorisationWithPsuAuthentication';
    links[name] = { href: `${base(payment)}/authorisations` };
  } else if (explicit) {
    const name = approach === 'DECOUPLED' && !payment.psuId ? 'startAuthorisationWithPsuIdentification' : 'startAuthorisation';
    links[name] = { href: `${base(payment)}/authorisations` };
  } else {
    const authorisation = ctx.ledger.addAuthorisation(payment, 'payment', approach);
    if (approach === 'REDIRECT' && ctx.options.scaOAuth && ctx.oauthMetadataUrl) {
      // OAuth2 SCA (subsumed by REDIRECT): the payer authorises at the bank's authorization server.
      links.scaOAuth = { href: ctx.oauthMetadataUrl() };
    } else if (approach === 'REDIRECT') {
      links.scaRedirect = { href: ctx.scaPageUrl(authorisation.authorisationId) };
    } else {
      decoupledStarted(ctx, authorisation.authorisationId);
      psuMessage = DECOUPLED_MESSAGE;
    }
    links.scaStatus = { href: `${base(payment)}/authorisations/${authorisation.authorisationId}` };
  }
  return {
    status: 201,
    headers: { 'ASPSP-SCA-Approach': approach },
    json: {
      transactionStatus: 'RCVD',
      ...(payment.vop ? vopMembers(payment.vop) : {}),
      paymentId: payment.paymentId,
      _links: links,
      ...(psuMessage ? { psuMessage } : {}),
    },
  };
}

function decoupledStarted(ctx: ApiContext, authorisationId: string): void {
  ctx.log(`Decoupled SCA waiting: approve or refuse at ${ctx.scaPageUrl(authorisationId)}`);
}

/** While the payer has not decided (RCVD), the VoP status and result stand in the answers. */
function waitingVop(ctx: ApiContext, payment: SimulatedPayment): Record<string, unknown> {
  return payment.vop && ctx.ledger.status(payment) === 'RCVD' ? vopMembers(payment.vop) : {};
}

type Handler = (ctx: ApiContext, payment: SimulatedPayment, r: Route, request: ApiRequest) => Reply;

const HANDLERS: Record<Exclude<Route['operation'], 'initiatePayment' | 'updatePsuData' | 'updatePaymentPsuData'>, Handler> = {
  getPaymentInformation: (ctx, payment) => ({
    status: 200,
    json: { ...payment.body, transactionStatus: ctx.ledger.status(payment), ...waitingVop(ctx, payment) },
  }),
  getPaymentInitiationStatus: (ctx, payment, _r, request) => {
    const transactionStatus = ctx.ledger.status(payment);
    // An XML product's status, asked for as XML: a pain.002.
    if (isXmlProduct(payment.product) && ctx.options.pain002 !== false && /\bapplication\/xml\b/i.test(header(request, 'Accept') ?? ''))
      return { status: 200, xml: pain002Xml(payment, transactionStatus, ctx.clock.now()) };
    const funds = payment.fundsAvailable === null ? {} : { fundsAvailable: payment.fundsAvailable };
    const message =
      payment.fundsAvailable === false && transactionStatus === 'RJCT' ? { tppMessage: [{ category: 'ERROR', code: 'FUNDS_NOT_AVAILABLE' }] } : {};
    return { status: 200, json: { transactionStatus, ...waitingVop(ctx, payment), ...funds, ...message } };
  },
  cancelPayment: cancel,
  startPaymentAuthorisation: (ctx, payment, _r, request) => startAuthorisation(ctx, payment, request, 'payment'),
  startPaymentInitiationCancellationAuthorisation: (ctx, payment, _r, request) => startAuthorisation(ctx, payment, request, 'cancellation'),
  getPaymentInitiationAuthorisation: (_ctx, payment) => authorisationIds(payment, 'payment'),
  getPaymentInitiationCancellationAuthorisationInformation: (_ctx, payment) => authorisationIds(payment, 'cancellation'),
  getPaymentInitiationScaStatus: (_ctx, payment, r) => scaStatus(payment, r, 'payment'),
  getPaymentCancellationScaStatus: (_ctx, payment, r) => scaStatus(payment, r, 'cancellation'),
};

/**
 * 204: nothing was executed yet and the bank needs no SCA to stop it (SCA still pending, or a
 * dated payment when `cancellationSca` is off); 202: the payer must approve the cancellation;
 * 405 CANCELLATION_INVALID: the money already moves; 409 STATUS_INVALID: already final.
 */
function cancel(ctx: ApiContext, payment: SimulatedPayment): Reply {
  const status = ctx.ledger.status(payment);
  if (FINAL_STATUSES.has(status)) return errorReply(409, 'STATUS_INVALID', `The payment is already ${status}.`);
  if (!ctx.ledger.notYetExecuted(payment)) return errorReply(405, 'CANCELLATION_INVALID', 'The payment is being executed and can no longer be cancelled.');
  if (payment.approvedAt === null || !ctx.options.cancellationSca) {
    ctx.ledger.cancel(payment);
    return { status: 204 };
  }
  payment.cancellationPending = true;
  return { status: 202, json: { transactionStatus: status, _links: { startAuthorisation: { href: `${base(payment)}/cancellation-authorisations` } } } };
}

function startAuthorisation(ctx: ApiContext, payment: SimulatedPayment, request: ApiRequest, kind: 'payment' | 'cancellation'): Reply {
  if (kind === 'payment' && payment.approach === 'EMBEDDED' && ctx.options.embedded) {
    if (ctx.ledger.status(payment) !== 'RCVD') return errorReply(409, 'STATUS_INVALID', 'The payment needs no further authorisation.');
    return startEmbedded(ctx, ctx.options.embedded, payment, request, header(request, 'PSU-ID') ?? null);
  }
  const open = kind === 'payment' ? ctx.ledger.status(payment) === 'RCVD' : payment.cancellationPending;
  if (!open)
    return errorReply(
      409,
      'STATUS_INVALID',
      kind === 'payment' ? 'The payment needs no further authorisation.' : 'No cancellation of this payment waits for authorisation.',
    );
  if (request.body !== undefined && (typeof request.body !== 'object' || request.body === null || Object.keys(request.body).length > 0)) {
    return errorReply(400, 'FORMAT_ERROR', 'Only an empty body {} is accepted: embedded SCA is not offered.');
  }
  payment.redirectUri = httpUrl(request, 'TPP-Redirect-URI') ?? payment.redirectUri;
  payment.nokRedirectUri = httpUrl(request, 'TPP-Nok-Redirect-URI') ?? payment.nokRedirectUri;
  payment.psuId = header(request, 'PSU-ID') ?? payment.psuId;
  const approach = payment.approach;
  if (approach === 'REDIRECT' && !payment.redirectUri)
    throw new Refusal(400, 'FORMAT_ERROR', 'TPP-Redirect-URI is needed for the redirect approach.', 'TPP-Redirect-URI');
  const authorisation = ctx.ledger.addAuthorisation(payment, kind, approach);
  const path = `${base(payment)}/${kind === 'payment' ? 'authorisations' : 'cancellation-authorisations'}/${authorisation.authorisationId}`;
  const links: Record<string, { href: string }> = { scaStatus: { href: path } };
  if (approach === 'REDIRECT') links.scaRedirect = { href: ctx.scaPageUrl(authorisation.authorisationId) };
  else decoupledStarted(ctx, authorisation.authorisationId);
  return {
    status: 201,
    headers: { 'ASPSP-SCA-Approach': approach },
    json: {
      scaStatus: authorisation.scaStatus,
      authorisationId: authorisation.authorisationId,
      _links: links,
      ...(approach === 'DECOUPLED' ? { psuMessage: DECOUPLED_MESSAGE } : {}),
    },
  };
}

function authorisationIds(payment: SimulatedPayment, kind: 'payment' | 'cancellation'): Reply {
  return { status: 200, json: { authorisationIds: payment.authorisations.filter((a) => a.kind === kind).map((a) => a.authorisationId) } };
}

function scaStatus(payment: SimulatedPayment, r: Route, kind: 'payment' | 'cancellation'): Reply {
  const authorisation = payment.authorisations.find((a) => a.kind === kind && a.authorisationId === r.authorisationId);
  if (!authorisation) return errorReply(404, 'RESOURCE_UNKNOWN', 'No such authorisation of this payment.');
  const waiting = authorisation.approach === 'DECOUPLED' && authorisation.scaStatus === 'started';
  return { status: 200, json: { scaStatus: authorisation.scaStatus, ...(waiting ? { psuMessage: DECOUPLED_MESSAGE } : {}) } };
}

/** A rejection fault's reply: the code with the status the standard lists it under. */
export function rejectionReply(code: string, status: number | undefined, text: string | undefined, operation: Operation): Reply {
  const resolved = statusForCode(code, status, operation) ?? 400;
  return errorReply(resolved, code, text ?? `Rejected by the simulator (${code}).`);
}
