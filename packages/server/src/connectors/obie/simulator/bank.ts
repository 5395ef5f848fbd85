/**
 * The model bank's state: consents, payments, idempotency keys, tokens and authorization codes,
 * all in memory. Status progresses with time: a payment is in process after half the settlement
 * time and final after it (a scheduled payment only once its date has come).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../../domain/clock.ts';
import type { ApiVersion, ResourceKind } from '../versions.ts';
import { CONSENT_STATUS, PAYMENT_PROGRESS } from './codes.ts';

export interface Consent {
  id: string;
  kind: ResourceKind;
  status: string;
  createdAt: number;
  statusAt: number;
  permission: boolean;
  initiation: Record<string, unknown>;
  risk: Record<string, unknown>;
  /** The payment made with it (one per consent). */
  paymentId: string | null;
}

export interface Payment {
  id: string;
  kind: ResourceKind;
  consentId: string;
  createdAt: number;
  initiation: Record<string, unknown>;
  /** A status forced through the control endpoint (or a rejection), else the status by time. */
  forced: { status: string; at: number } | null;
}

export interface Token {
  kind: 'client' | 'psu';
  consentId: string | null;
  expiresAt: number;
}

export interface Code {
  consentId: string;
  redirectUri: string;
  codeChallenge: string | null;
  expiresAt: number;
  used: boolean;
}

/** An idempotency key's first request: its body's hash and the resource it made. */
export interface KeyUse {
  bodyHash: string;
  resourceId: string;
  at: number;
}

const IDEMPOTENCY_MS = 24 * 3_600_000;

export class ModelBank {
  readonly consents = new Map<string, Consent>();
  readonly payments = new Map<string, Payment>();
  readonly tokens = new Map<string, Token>();
  readonly codes = new Map<string, Code>();
  private readonly keys = new Map<string, KeyUse>();
  readonly version: ApiVersion;
  private readonly clock: Clock;
  readonly settleAfterMs: number;

  constructor(options: { version: ApiVersion; clock: Clock; settleAfterMs: number }) {
    this.version = options.version;
    this.clock = options.clock;
    this.settleAfterMs = options.settleAfterMs;
  }

  /** The first use of a key by the client within 24 h, or undefined. */
  keyUse(scope: string, key: string): KeyUse | undefined {
    const use = this.keys.get(`${scope} ${key}`);
    return use && this.clock.now() - use.at < IDEMPOTENCY_MS ? use : undefined;
  }

  rememberKey(scope: string, key: string, use: Omit<KeyUse, 'at'>): void {
    this.keys.set(`${scope} ${key}`, { ...use, at: this.clock.now() });
  }

  issueToken(kind: Token['kind'], consentId: string | null): string {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { kind, consentId, expiresAt: this.clock.now() + 3_600_000 });
    return token;
  }

  token(value: string | undefined): Token | undefined {
    const token = value ? this.tokens.get(value) : undefined;
    return token && token.expiresAt > this.clock.now() ? token : undefined;
  }

  createConsent(kind: ResourceKind, permission: boolean, initiation: Record<string, unknown>, risk: Record<string, unknown>): Consent {
    const now = this.clock.now();
    const consent: Consent = {
      id: `${kind === 'domestic' ? 'sdp' : kind === 'scheduled' ? 'sdsp' : 'sdso'}-${randomUUID()}`,
      kind,
      status: CONSENT_STATUS[this.version].awaiting,
      createdAt: now,
      statusAt: now,
      permission,
      initiation,
      risk,
      paymentId: null,
    };
    this.consents.set(consent.id, consent);
    return consent;
  }

  setConsentStatus(consent: Consent, which: 'authorised' | 'rejected' | 'consumed'): void {
    consent.status = CONSENT_STATUS[this.version][which];
    consent.statusAt = this.clock.now();
  }

  createPayment(consent: Consent): Payment {
    const payment: Payment = {
      id: `p-${randomUUID()}`.slice(0, 40),
      kind: consent.kind,
      consentId: consent.id,
      createdAt: this.clock.now(),
      initiation: consent.initiation,
      forced: null,
    };
    this.payments.set(payment.id, payment);
    consent.paymentId = payment.id;
    this.setConsentStatus(consent, 'consumed');
    return payment;
  }

  /** A scheduled payment's date, from its Initiation. */
  private dueAt(payment: Payment): number {
    const when = payment.initiation.RequestedExecutionDateTime;
    return typeof when === 'string' ? Date.parse(when) : 0;
  }

  /** The payment's status now, and since when. */
  status(payment: Payment): { status: string; at: number } {
    if (payment.forced) return payment.forced;
    const [initial, middle, final] = PAYMENT_PROGRESS[this.version][payment.kind];
    const now = this.clock.now();
    const half = payment.createdAt + Math.round(this.settleAfterMs / 2);
    const settled = Math.max(payment.createdAt + this.settleAfterMs, payment.kind === 'scheduled' ? this.dueAt(payment) : 0);
    if (now >= settled) return { status: final, at: settled };
    if (now >= half) return { status: middle, at: half };
    return { status: initial, at: payment.createdAt };
  }

  force(payment: Payment, status: string): void {
    payment.forced = { status, at: this.clock.now() };
  }

  clear(): void {
    for (const map of [this.consents, this.payments, this.tokens, this.codes, this.keys]) map.clear();
  }
}
