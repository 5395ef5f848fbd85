/**
 * The simulated bank's small OAuth 2.0 authorization server (docs/banks.md, "OAuth2 pre-step" and
 * "scaOAuth"), outside `/v1` and outside the NextGenPSD2 file (Prism never sees it):
 *
 *   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata (the `scaOAuth` link points here)
 *   POST /oauth/token                              client_credentials (the pre-step) and
 *                                                  authorization_code with PKCE S256 (the payer's token)
 *   GET  /oauth/authorize                          the payer's page for `scope=PIS:<paymentId>`
 *   POST /oauth/authorize                          the payer's decision: back to redirect_uri with
 *                                                  `code` and `state`, or `error=access_denied`
 *
 * The client authenticates as configured: client_secret_basic, client_secret_post, private_key_jwt
 * (a client assertion verified with the certificate given) or tls_client_auth (RFC 8705 §2.1: over
 * HTTPS, `client_id` in the body, no secret, and a client certificate that chains to the bank's
 * client CA with the subject of the certificate given, or any trusted one when none is given).
 * The payment's SCA is finalised when the code is redeemed, as at banks where the TPP's token
 * exchange completes the authorisation.
 */
import { createHash, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Clock } from '../../../domain/clock.ts';
import type { Reply } from './api.ts';
import type { Ledger, SimulatedPayment, Authorisation } from './ledger.ts';

export const SIM_CLIENT_AUTH = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth'] as const;
export type SimClientAuth = (typeof SIM_CLIENT_AUTH)[number];

export interface SimulatorOAuthOptions {
  clientId: string;
  clientAuth: SimClientAuth;
  clientSecret?: string | null;
  /** PEM certificate whose key signs the client assertions (private_key_jwt), or whose subject the mTLS certificate must have (tls_client_auth). */
  clientCert?: string | null;
  /** Lifetime of the tokens it issues. Default 300 s. */
  tokenSeconds?: number;
  /** Every `/v1` call needs a token (the OAuth2 pre-step): 401 TOKEN_INVALID / TOKEN_EXPIRED without a good one. */
  preStep?: boolean;
  /** Initiations are answered with a `scaOAuth` link: the payer authorises at `/oauth/authorize`. */
  scaOAuth?: boolean;
}

interface Grant {
  payment: SimulatedPayment;
  authorisation: Authorisation;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
}

interface PendingRequest extends Omit<Grant, 'expiresAt'> {
  state: string;
  formToken: string;
}

/** The TLS client certificate a request came with (server.ts `peerCertificate`). */
export interface PeerCertificate {
  present: boolean;
  /** It chains to the bank's client CA. */
  trusted: boolean;
  subject: string | null;
  /** SHA-256 of the DER, base64url (RFC 8705 `x5t#S256`). */
  thumbprint: string | null;
}

export type BearerCheck = { ok: true; kind: 'client' | 'payer' | 'none'; paymentId?: string } | { ok: false; code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' };

const random = (bytes = 24) => randomBytes(bytes).toString('base64url');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, json: body, headers: { 'Cache-Control': 'no-store', ...headers } };
}

const oauthError = (status: number, error: string, description: string) => json(status, { error, error_description: description });

export class SimulatedAuthServer {
  readonly options: Required<Pick<SimulatorOAuthOptions, 'tokenSeconds' | 'preStep' | 'scaOAuth'>> & SimulatorOAuthOptions;
  /** Client tokens: when they expire, and the thumbprint of the certificate they were issued to (mTLS). */
  private readonly clientTokens = new Map<string, { expiresAt: number; thumbprint: string | null }>();
  private readonly payerTokens = new Map<string, { paymentId: string; expiresAt: number }>();
  private readonly codes = new Map<string, Grant>();
  private readonly pending = new Map<string, PendingRequest>();
  /** Tokens issued, by grant (the control endpoint shows them: a test counts renewals). */
  readonly issued = { client_credentials: 0, authorization_code: 0 };
  private readonly clock: Clock;
  private readonly ledger: Ledger;
  private readonly base: () => string;

  constructor(options: SimulatorOAuthOptions, deps: { clock: Clock; ledger: Ledger; base: () => string }) {
    this.options = { tokenSeconds: 300, preStep: false, scaOAuth: false, ...options };
    this.clock = deps.clock;
    this.ledger = deps.ledger;
    this.base = deps.base;
  }

  metadataUrl(): string {
    return `${this.base()}/.well-known/oauth-authorization-server`;
  }

  metadata(): Reply {
    const issuer = this.base();
    return json(200, {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: [this.options.clientAuth],
      scopes_supported: ['PIS'],
    });
  }

  /** Forgets every client token (a revocation, or a key rotation at the bank): the next call with one is answered 401. */
  revokeClientTokens(): number {
    const count = this.clientTokens.size;
    this.clientTokens.clear();
    return count;
  }

  /**
   * The `Authorization` header of a `/v1` call, checked (`paymentId`: the payment it addresses, if
   * any; `thumbprint`: when given, the call's client certificate, which a certificate-bound token must match).
   */
  checkBearer(header: string | undefined, paymentId: string | undefined, thumbprint?: string | null): BearerCheck {
    if (!header) return this.options.preStep ? { ok: false, code: 'TOKEN_INVALID' } : { ok: true, kind: 'none' };
    const m = /^Bearer ([\w.~+/=-]+)$/i.exec(header.trim());
    if (!m) return { ok: false, code: 'TOKEN_INVALID' };
    const token = m[1]!;
    const now = this.clock.now();
    const client = this.clientTokens.get(token);
    if (client !== undefined) {
      if (thumbprint !== undefined && client.thumbprint !== null && client.thumbprint !== thumbprint) return { ok: false, code: 'TOKEN_INVALID' };
      return client.expiresAt > now ? { ok: true, kind: 'client' } : { ok: false, code: 'TOKEN_EXPIRED' };
    }
    const payer = this.payerTokens.get(token);
    if (!payer || (paymentId !== undefined && payer.paymentId !== paymentId)) return { ok: false, code: 'TOKEN_INVALID' };
    return payer.expiresAt > now ? { ok: true, kind: 'payer', paymentId: payer.paymentId } : { ok: false, code: 'TOKEN_EXPIRED' };
  }

  private async authenticate(
    headers: Record<string, string | string[] | undefined>,
    form: URLSearchParams,
    peer: PeerCertificate | null,
  ): Promise<string | null> {
    const o = this.options;
    const authorization = typeof headers.authorization === 'string' ? headers.authorization : '';
    switch (o.clientAuth) {
      case 'client_secret_basic': {
        const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization);
        if (!m) return 'client_secret_basic expected';
        const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
        return colon > 0 && id === o.clientId && same(secret, o.clientSecret ?? '') ? null : 'wrong client id or secret';
      }
      case 'client_secret_post':
        return form.get('client_id') === o.clientId && same(form.get('client_secret') ?? '', o.clientSecret ?? '') ? null : 'wrong client id or secret';
      case 'private_key_jwt': {
        if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return 'client_assertion_type expected';
        const assertion = form.get('client_assertion');
        if (!assertion || !o.clientCert) return 'no client assertion';
        const { jwtVerify } = await import('jose');
        try {
          const key = new X509Certificate(o.clientCert).publicKey;
          const { payload } = await jwtVerify(assertion, key, {
            issuer: o.clientId,
            subject: o.clientId,
            audience: [`${this.base()}/oauth/token`, this.base()],
            currentDate: new Date(this.clock.now()),
            clockTolerance: 60,
            requiredClaims: ['exp', 'jti'],
          });
          return payload.sub === o.clientId ? null : 'wrong subject';
        } catch (error) {
          return `client assertion refused (${(error as Error).message.slice(0, 80)})`;
        }
      }
      case 'tls_client_auth': {
        if (form.get('client_id') !== o.clientId) return 'wrong client id';
        if (form.has('client_secret') || form.has('client_assertion') || /^Basic /i.test(authorization)) return 'tls_client_auth takes no secret or assertion';
        if (!peer) return 'tls_client_auth needs HTTPS: this authorization server runs plain HTTP';
        if (!peer.present) return 'no client certificate was presented';
        if (!peer.trusted) return 'the client certificate is not issued by a CA this bank trusts';
        const subject = o.clientCert ? new X509Certificate(o.clientCert).subject : null;
        return subject === null || peer.subject === subject ? null : 'the client certificate is not the one registered for this client';
      }
    }
  }

  /** `POST /oauth/token`. */
  async token(headers: Record<string, string | string[] | undefined>, raw: Buffer, peer: PeerCertificate | null = null): Promise<Reply> {
    if (!/^application\/x-www-form-urlencoded\b/i.test(String(headers['content-type'] ?? '')))
      return oauthError(400, 'invalid_request', 'a form body is expected');
    const form = new URLSearchParams(raw.toString('utf8'));
    const refused = await this.authenticate(headers, form, peer);
    if (refused) return oauthError(401, 'invalid_client', refused);
    const now = this.clock.now();
    const expiresAt = now + this.options.tokenSeconds * 1000;
    const grant = form.get('grant_type');
    if (grant === 'client_credentials') {
      const token = random(32);
      // Bound to the certificate it was issued to (RFC 8705 §3), when the client authenticated by one.
      this.clientTokens.set(token, { expiresAt, thumbprint: this.options.clientAuth === 'tls_client_auth' ? (peer?.thumbprint ?? null) : null });
      this.issued.client_credentials += 1;
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: this.options.tokenSeconds, scope: form.get('scope') ?? 'PIS' });
    }
    if (grant !== 'authorization_code') return oauthError(400, 'unsupported_grant_type', 'client_credentials or authorization_code');
    const code = form.get('code') ?? '';
    const found = this.codes.get(code);
    this.codes.delete(code); // single use, even when the rest is wrong
    if (!found || found.expiresAt <= now) return oauthError(400, 'invalid_grant', 'unknown or expired code');
    if (form.get('redirect_uri') !== found.redirectUri) return oauthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
    const verifier = form.get('code_verifier') ?? '';
    if (!same(createHash('sha256').update(verifier, 'ascii').digest('base64url'), found.challenge))
      return oauthError(400, 'invalid_grant', 'PKCE verifier refused');
    // Redeeming the code finalises the payer's authorisation.
    if (found.authorisation.scaStatus !== 'finalised') this.ledger.approve(found.payment, found.authorisation);
    const token = random(32);
    this.payerTokens.set(token, { paymentId: found.payment.paymentId, expiresAt });
    this.issued.authorization_code += 1;
    return json(200, { access_token: token, token_type: 'Bearer', expires_in: this.options.tokenSeconds, scope: `PIS:${found.payment.paymentId}` });
  }

  /** `GET /oauth/authorize`: the request checked, then the payer's page (or an error page / redirect). */
  authorize(query: URLSearchParams): { ok: true; request: PendingRequest } | { ok: false; status: number; text: string } {
    if (query.get('client_id') !== this.options.clientId) return { ok: false, status: 400, text: 'Unknown client.' };
    if (query.get('response_type') !== 'code') return { ok: false, status: 400, text: 'response_type must be code.' };
    if (query.get('code_challenge_method') !== 'S256' || !/^[\w-]{43}$/.test(query.get('code_challenge') ?? ''))
      return { ok: false, status: 400, text: 'PKCE (S256) is required.' };
    const redirectUri = query.get('redirect_uri') ?? '';
    try {
      const url = new URL(redirectUri);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      return { ok: false, status: 400, text: 'redirect_uri must be an absolute http(s) URL.' };
    }
    const state = query.get('state');
    if (!state) return { ok: false, status: 400, text: 'state is required.' };
    const paymentId = /^PIS:(.+)$/.exec(query.get('scope') ?? '')?.[1];
    const payment = paymentId ? this.ledger.payments.get(paymentId) : undefined;
    const authorisation = payment?.authorisations.find((a) => a.kind === 'payment' && a.approach === 'REDIRECT' && a.scaStatus === 'received');
    if (!payment || !authorisation || this.ledger.status(payment) !== 'RCVD')
      return { ok: false, status: 400, text: 'The scope names no payment waiting for you.' };
    const request: PendingRequest = { payment, authorisation, redirectUri, challenge: query.get('code_challenge')!, state, formToken: random() };
    this.pending.set(request.formToken, request);
    return { ok: true, request };
  }

  /** `POST /oauth/authorize`: the payer's decision, answered with where to send them. */
  decide(form: URLSearchParams): { ok: true; location: string } | { ok: false; status: number; text: string } {
    const request = this.pending.get(form.get('token') ?? '');
    const decision = form.get('decision');
    if (!request || (decision !== 'approve' && decision !== 'refuse'))
      return { ok: false, status: 400, text: 'The form was not sent from this page. Open the link again.' };
    this.pending.delete(request.formToken);
    const back = new URL(request.redirectUri);
    back.searchParams.set('state', request.state);
    if (decision === 'refuse') {
      this.ledger.refuse(request.payment, request.authorisation);
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The payer refused the payment.');
      return { ok: true, location: back.toString() };
    }
    request.authorisation.scaStatus = 'psuAuthenticated';
    const code = random(32);
    this.codes.set(code, {
      payment: request.payment,
      authorisation: request.authorisation,
      redirectUri: request.redirectUri,
      challenge: request.challenge,
      expiresAt: this.clock.now() + 5 * 60_000,
    });
    back.searchParams.set('code', code);
    return { ok: true, location: back.toString() };
  }

  /** Every token issued and still known (tests look for them where they must never be). */
  tokens(): string[] {
    return [...this.clientTokens.keys(), ...this.payerTokens.keys()];
  }

  view() {
    return {
      ...this.options,
      clientSecret: this.options.clientSecret ? '[set]' : null,
      clientCert: this.options.clientCert ? '[set]' : null,
      issued: this.issued,
    };
  }
}
