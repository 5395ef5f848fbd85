/**
 * The simulated STET bank's payments and how their status moves with time: RCVD until the payer
 * decides; approved → ACTC while the bank waits for the PISP's confirmation (when it asks for one),
 * then ACCP, ACSP at half of `settleAfterMs`, ACSC at its end; refused → RJCT (CUST); never
 * decided → RJCT (NOAS) after `consentExpiresAfterMs`; cancelled → CANC (DS02).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../../domain/clock.ts';

export type Approach = 'REDIRECT' | 'DECOUPLED' | 'EMBEDDED-1-FACTOR';

export interface SimulatedPayment {
  id: string;
  body: Record<string, unknown>;
  approach: Approach;
  createdAt: number;
  nonce: string;
  /** Secret of the consent page's form. */
  formToken: string;
  /** The embedded approach's one-time code (shown by the control endpoint, as an SMS would be). */
  otp: string;
  decision: 'approve' | 'refuse' | null;
  decidedAt: number | null;
  confirmedAt: number | null;
  cancelledAt: number | null;
  forced: { status: string; reason: string | null } | null;
  /** OAuth2: the authorization request's values, kept for the code exchange. */
  authorization: { redirectUri: string; state: string; challenge: string | null; code: string | null; codeUsed: boolean } | null;
}

export interface LedgerOptions {
  clock: Clock;
  settleAfterMs: number;
  consentExpiresAfterMs: number;
  /** The bank waits for `POST …/confirmation` after the payer's consent. */
  confirmation: () => boolean;
}

const FINAL = new Set(['ACSC', 'RJCT', 'CANC']);

/** The requested execution date (`YYYY-MM-DD`): the first instruction's, or the payment's (1.4 shape). */
function executionDate(body: Record<string, unknown>): string {
  const first = (Array.isArray(body.creditTransferTransaction) ? body.creditTransferTransaction[0] : null) as { requestedExecutionDate?: unknown } | null;
  const value = first?.requestedExecutionDate ?? body.requestedExecutionDate;
  return typeof value === 'string' ? value.slice(0, 10) : '';
}

export class Ledger {
  readonly payments = new Map<string, SimulatedPayment>();
  private readonly options: LedgerOptions;

  constructor(options: LedgerOptions) {
    this.options = options;
  }

  create(body: Record<string, unknown>, approach: Approach): SimulatedPayment {
    const payment: SimulatedPayment = {
      id: `PR${randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`,
      body,
      approach,
      createdAt: this.options.clock.now(),
      nonce: randomBytes(12).toString('hex'),
      formToken: randomBytes(24).toString('base64url'),
      otp: String(100000 + (randomBytes(4).readUInt32BE() % 900000)),
      decision: null,
      decidedAt: null,
      confirmedAt: null,
      cancelledAt: null,
      forced: null,
      authorization: null,
    };
    this.payments.set(payment.id, payment);
    return payment;
  }

  /** Status and reason now. */
  status(p: SimulatedPayment): { status: string; reason: string | null } {
    if (p.forced) return p.forced;
    const now = this.options.clock.now();
    if (p.cancelledAt !== null) return { status: 'CANC', reason: 'DS02' };
    if (p.decision === 'refuse') return { status: 'RJCT', reason: 'CUST' };
    if (p.decision !== 'approve') {
      return now - p.createdAt > this.options.consentExpiresAfterMs ? { status: 'RJCT', reason: 'NOAS' } : { status: 'RCVD', reason: null };
    }
    const from = this.options.confirmation() ? p.confirmedAt : p.decidedAt;
    if (from === null) return { status: 'ACTC', reason: null };
    // A future-dated payment waits, accepted, for its date (and may be cancelled meanwhile).
    if (executionDate(p.body) > new Date(now).toISOString().slice(0, 10)) return { status: 'ACCP', reason: null };
    const elapsed = now - from;
    if (elapsed >= this.options.settleAfterMs) return { status: 'ACSC', reason: null };
    if (elapsed >= this.options.settleAfterMs / 2) return { status: 'ACSP', reason: null };
    return { status: 'ACCP', reason: null };
  }

  isFinal(p: SimulatedPayment): boolean {
    return FINAL.has(this.status(p).status);
  }

  /** The payer's decision; false when the payment no longer waits for one. */
  decide(p: SimulatedPayment, decision: 'approve' | 'refuse'): boolean {
    if (p.decision !== null || this.status(p).status !== 'RCVD') return false;
    p.decision = decision;
    p.decidedAt = this.options.clock.now();
    return true;
  }

  confirm(p: SimulatedPayment): boolean {
    if (p.confirmedAt !== null) return true;
    if (this.status(p).status !== 'ACTC') return false;
    p.confirmedAt = this.options.clock.now();
    return true;
  }

  cancel(p: SimulatedPayment): boolean {
    const { status } = this.status(p);
    if (FINAL.has(status) || status === 'ACSP') return false;
    p.cancelledAt = this.options.clock.now();
    return true;
  }

  force(p: SimulatedPayment, status: string, reason: string | null): void {
    p.forced = { status, reason };
  }

  view(p: SimulatedPayment) {
    const { status, reason } = this.status(p);
    return { id: p.id, approach: p.approach, status, reason, otp: p.otp, decision: p.decision, confirmed: p.confirmedAt !== null, body: p.body };
  }
}
