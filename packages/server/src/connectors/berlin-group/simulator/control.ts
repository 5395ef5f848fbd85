/**
 * The simulator's control endpoint, outside `/v1` (not part of the standard; never expose it
 * beyond loopback): faults, payments, decisions a payer would take in the bank's app, forced
 * statuses and what was received. Documented in docs/banks.md.
 *
 *   GET    /_simulator                           this list
 *   GET    /_simulator/faults                    faults waiting
 *   POST   /_simulator/faults                    add one fault or an array ({kind, operation?, times?, …})
 *   DELETE /_simulator/faults                    clear them
 *   GET    /_simulator/payments[/{id}]           payments with their status now
 *   POST   /_simulator/payments/{id}/approve     approve the open authorisation (decoupled: the payer's app)
 *   POST   /_simulator/payments/{id}/refuse      refuse it
 *   POST   /_simulator/payments/{id}/status      force {transactionStatus, fundsAvailable?}
 *   GET    /_simulator/received                  calls and initiations received, duplicates
 *   GET    /_simulator/oauth                     the authorization server's settings and tokens issued
 *   GET    /_simulator/oauth/tokens              every token it issued and still knows (tests look for them where they must never be)
 *   POST   /_simulator/oauth/revoke              forget every client token (the next call with one: 401)
 *   POST   /_simulator/vop                       set the Verification of Payee result of the next initiations ({mode}: match, close-match, no-match, not-possible, or null: off)
 *   POST   /_simulator/reset                     forget payments, faults and counts
 */
import { TRANSACTION_STATUSES, type TransactionStatus } from './codes.ts';
import { FaultError, type FaultSpec, type Faults } from './faults.ts';
import type { Ledger, SimulatedPayment } from './ledger.ts';
import type { SimulatedAuthServer } from './oauth.ts';
import type { Received } from './received.ts';
import { VOP_MODES, type VopMode } from './vop.ts';

export interface ControlContext {
  ledger: Ledger;
  faults: Faults;
  received: Received;
  auth: SimulatedAuthServer | null;
  /** The bank's behaviour, changeable while it runs. */
  settings: { vop?: VopMode | null };
  decide(payment: SimulatedPayment, decision: 'approve' | 'refuse'): boolean;
  reset(): void;
}

export interface ControlReply {
  status: number;
  json?: unknown;
}

const ENDPOINTS = [
  'GET /_simulator/faults',
  'POST /_simulator/faults',
  'DELETE /_simulator/faults',
  'GET /_simulator/payments',
  'GET /_simulator/payments/{paymentId}',
  'POST /_simulator/payments/{paymentId}/approve',
  'POST /_simulator/payments/{paymentId}/refuse',
  'POST /_simulator/payments/{paymentId}/status',
  'GET /_simulator/received',
  'GET /_simulator/oauth',
  'GET /_simulator/oauth/tokens',
  'POST /_simulator/oauth/revoke',
  'POST /_simulator/vop',
  'POST /_simulator/reset',
];

const problem = (status: number, error: string): ControlReply => ({ status, json: { error } });

export function control(ctx: ControlContext, method: string, segments: string[], body: unknown): ControlReply {
  const [resource, id, action] = segments;
  const key = `${method} ${resource ?? ''}${id ? ' id' : ''}${action ? ` ${action}` : ''}`;
  switch (key) {
    case 'GET ':
      return { status: 200, json: { simulator: 'Berlin Group NextGenPSD2 1.3.12', endpoints: ENDPOINTS } };
    case 'GET faults':
      return { status: 200, json: ctx.faults.list() };
    case 'POST faults':
      try {
        return { status: 201, json: ctx.faults.add(body as FaultSpec | FaultSpec[]) };
      } catch (error) {
        if (error instanceof FaultError) return problem(400, error.message);
        throw error;
      }
    case 'DELETE faults':
      ctx.faults.clear();
      return { status: 204 };
    case 'GET payments':
      return { status: 200, json: [...ctx.ledger.payments.values()].map((p) => ctx.ledger.view(p)) };
    case 'GET received':
      return { status: 200, json: ctx.received.summary() };
    case 'GET oauth':
      return ctx.auth ? { status: 200, json: ctx.auth.view() } : problem(404, 'this simulator has no authorization server (--oauth-client-id)');
    case 'GET oauth id':
      if (id === 'tokens' && ctx.auth) return { status: 200, json: ctx.auth.tokens() };
      return problem(404, 'no such control resource');
    case 'POST oauth id':
      if (id === 'revoke' && ctx.auth) return { status: 200, json: { revoked: ctx.auth.revokeClientTokens() } };
      return problem(404, 'no such control resource');
    case 'POST vop': {
      const mode = (body ?? {}) as { mode?: unknown };
      if (mode.mode !== null && !VOP_MODES.includes(mode.mode as VopMode)) return problem(400, `mode must be null or one of ${VOP_MODES.join(', ')}`);
      ctx.settings.vop = mode.mode as VopMode | null;
      return { status: 200, json: { vop: ctx.settings.vop } };
    }
    case 'POST reset':
      ctx.reset();
      return { status: 204 };
  }
  const payment = id ? ctx.ledger.payments.get(id) : undefined;
  if (resource !== 'payments' || !payment) return problem(404, 'no such control resource or payment');
  if (key === 'GET payments id') return { status: 200, json: ctx.ledger.view(payment) };
  if (key === 'POST payments id approve' || key === 'POST payments id refuse') {
    if (!ctx.decide(payment, action as 'approve' | 'refuse')) return problem(409, 'no authorisation of this payment is open');
    return { status: 200, json: ctx.ledger.view(payment) };
  }
  if (key === 'POST payments id status') {
    const { transactionStatus, fundsAvailable } = (body ?? {}) as { transactionStatus?: unknown; fundsAvailable?: unknown };
    if (!TRANSACTION_STATUSES.includes(transactionStatus as TransactionStatus))
      return problem(400, `transactionStatus must be one of ${TRANSACTION_STATUSES.join(', ')}`);
    if (fundsAvailable !== undefined && typeof fundsAvailable !== 'boolean') return problem(400, 'fundsAvailable must be a boolean');
    ctx.ledger.force(payment, transactionStatus as TransactionStatus, fundsAvailable as boolean | undefined);
    return { status: 200, json: ctx.ledger.view(payment) };
  }
  return problem(404, 'no such control resource');
}
