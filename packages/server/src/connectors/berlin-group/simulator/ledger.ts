/**
 * The simulated bank's book of payment resources, kept in memory. Statuses that follow from time
 * (ACTC → ACSP → ACSC after approval, RJCT when SCA never came) are derived from the injected
 * clock when read, so a test moves a payment forward by moving its clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../../domain/clock.ts';
import { FINAL_STATUSES, type ScaStatus, type TransactionStatus } from './codes.ts';
import type { PaymentProduct, PaymentService } from './validate.ts';
import type { VopCheck } from './vop.ts';

export type Approach = 'REDIRECT' | 'DECOUPLED' | 'EMBEDDED';

export interface Authorisation {
  authorisationId: string;
  kind: 'payment' | 'cancellation';
  approach: Approach;
  scaStatus: ScaStatus;
  /** Hidden field of the SCA page's form: a decision is taken only with it. */
  formToken: string;
  createdAt: number;
}

export interface SimulatedPayment {
  paymentId: string;
  service: PaymentService;
  product: PaymentProduct;
  body: Record<string, unknown>;
  /** A pain.001 product's message as received (simulator/pain.ts); `body` is then the same payment in JSON. */
  xml?: { text: string; messageId: string; paymentInformationId: string } | null;
  /** X-Request-ID of the initiation. */
  requestId: string;
  psuId: string | null;
  approach: Approach;
  redirectUri: string | null;
  nokRedirectUri: string | null;
  createdAt: number;
  approvedAt: number | null;
  /** Set once a status no longer follows from time (RJCT, CANC, or one forced by a test). */
  fixedStatus: TransactionStatus | null;
  fundsAvailable: boolean | null;
  /** A 202 cancellation waits for the payer's SCA. */
  cancellationPending: boolean;
  authorisations: Authorisation[];
  /** The Verification of Payee done at the initiation (`--vop`). */
  vop?: VopCheck | null;
}

export interface LedgerOptions {
  clock: Clock;
  settleAfterMs: number;
  scaExpiresAfterMs: number;
}

const DAY_MS = 86_400_000;

export class Ledger {
  readonly payments = new Map<string, SimulatedPayment>();
  private readonly options: LedgerOptions;

  constructor(options: LedgerOptions) {
    this.options = options;
  }

  create(
    fields: Omit<SimulatedPayment, 'paymentId' | 'createdAt' | 'approvedAt' | 'fixedStatus' | 'fundsAvailable' | 'cancellationPending' | 'authorisations'>,
  ): SimulatedPayment {
    const payment: SimulatedPayment = {
      ...fields,
      paymentId: randomUUID(),
      createdAt: this.options.clock.now(),
      approvedAt: null,
      fixedStatus: null,
      fundsAvailable: null,
      cancellationPending: false,
      authorisations: [],
    };
    this.payments.set(payment.paymentId, payment);
    return payment;
  }

  addAuthorisation(payment: SimulatedPayment, kind: Authorisation['kind'], approach: Approach): Authorisation {
    const authorisation: Authorisation = {
      authorisationId: randomUUID(),
      kind,
      approach,
      scaStatus: approach === 'DECOUPLED' ? 'started' : 'received',
      formToken: randomBytes(24).toString('base64url'),
      createdAt: this.options.clock.now(),
    };
    payment.authorisations.push(authorisation);
    return authorisation;
  }

  findAuthorisation(authorisationId: string): { payment: SimulatedPayment; authorisation: Authorisation } | undefined {
    for (const payment of this.payments.values()) {
      const authorisation = payment.authorisations.find((a) => a.authorisationId === authorisationId);
      if (authorisation) return { payment, authorisation };
    }
    return undefined;
  }

  /** When the money starts to move: approval, or 00:00 UTC of a later requested date. */
  private executionStart(payment: SimulatedPayment): number | null {
    if (payment.approvedAt === null) return null;
    const date = payment.service === 'periodic-payments' ? payment.body.startDate : payment.body.requestedExecutionDate;
    const dated = typeof date === 'string' ? Date.parse(`${date}T00:00:00Z`) : Number.NaN;
    return Number.isNaN(dated) ? payment.approvedAt : Math.max(payment.approvedAt, dated);
  }

  status(payment: SimulatedPayment): TransactionStatus {
    if (payment.fixedStatus) return payment.fixedStatus;
    const now = this.options.clock.now();
    const start = this.executionStart(payment);
    if (start === null) {
      if (now - payment.createdAt < this.options.scaExpiresAfterMs) return 'RCVD';
      this.fail(payment, 'payment');
      return this.fix(payment, 'RJCT');
    }
    // A standing order stays accepted: each execution is a payment of its own at the bank.
    if (payment.service === 'periodic-payments' || now < start) return 'ACTC';
    const elapsed = now - start;
    if (elapsed >= this.options.settleAfterMs) return this.fix(payment, 'ACSC');
    return elapsed >= this.options.settleAfterMs / 2 ? 'ACSP' : 'ACTC';
  }

  /** Not yet executed: SCA pending, or approved for a later date, or a standing order. */
  notYetExecuted(payment: SimulatedPayment): boolean {
    const status = this.status(payment);
    if (FINAL_STATUSES.has(status)) return false;
    if (payment.approvedAt === null) return true;
    return payment.service === 'periodic-payments' || this.options.clock.now() < (this.executionStart(payment) ?? 0);
  }

  approve(payment: SimulatedPayment, authorisation: Authorisation): void {
    authorisation.scaStatus = 'finalised';
    if (authorisation.kind === 'cancellation') {
      payment.cancellationPending = false;
      this.fix(payment, 'CANC');
    } else {
      payment.approvedAt = this.options.clock.now();
    }
  }

  refuse(payment: SimulatedPayment, authorisation: Authorisation): void {
    authorisation.scaStatus = 'failed';
    if (authorisation.kind === 'cancellation') payment.cancellationPending = false;
    else this.fix(payment, 'RJCT');
  }

  cancel(payment: SimulatedPayment): void {
    this.fail(payment, 'payment');
    this.fix(payment, 'CANC');
  }

  /** A status forced by a test or the control endpoint (e.g. RJCT with fundsAvailable false). */
  force(payment: SimulatedPayment, status: TransactionStatus, fundsAvailable?: boolean): void {
    payment.fixedStatus = status;
    if (fundsAvailable !== undefined) payment.fundsAvailable = fundsAvailable;
  }

  private fix(payment: SimulatedPayment, status: TransactionStatus): TransactionStatus {
    payment.fixedStatus = status;
    return status;
  }

  private fail(payment: SimulatedPayment, kind: Authorisation['kind']): void {
    for (const a of payment.authorisations) if (a.kind === kind && !['finalised', 'failed', 'exempted'].includes(a.scaStatus)) a.scaStatus = 'failed';
  }

  /** What the control endpoint shows of a payment (its body as received, its status now). */
  view(payment: SimulatedPayment) {
    return {
      paymentId: payment.paymentId,
      service: payment.service,
      product: payment.product,
      requestId: payment.requestId,
      transactionStatus: this.status(payment),
      approach: payment.approach,
      createdAt: new Date(payment.createdAt).toISOString(),
      approvedAt: payment.approvedAt === null ? null : new Date(payment.approvedAt).toISOString(),
      fundsAvailable: payment.fundsAvailable,
      cancellationPending: payment.cancellationPending,
      body: payment.body,
      ...(payment.xml ? { xml: payment.xml.text } : {}),
      ...(payment.vop ? { vop: payment.vop } : {}),
      authorisations: payment.authorisations.map(({ formToken: _, ...a }) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() })),
    };
  }
}

export const todayOf = (clock: Clock): string => new Date(Math.floor(clock.now() / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
