/**
 * The state reducer alone (services/payment-reducer.ts): pure, no database, no clock, no
 * connector. And the one-writer rule: no module but the writer updates the payments table.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectorOutcome } from '../../src/connectors/kit/types.ts';
import { ApiError, ForbiddenStateChange, VersionConflict } from '../../src/domain/errors.ts';
import { assertTransition } from '../../src/domain/state-machine.ts';
import { errorBody, toApiError } from '../../src/http/errors.ts';
import { type OutcomeContext, reduceOutcome, UNKNOWN_INITIATION_TEXT } from '../../src/services/payment-reducer.ts';
import { instructionsAfter } from '../../src/services/payment-changes.ts';
import type { AttemptRow, InstructionRow, PaymentRow } from '../../src/store/schema.ts';

const payment = (over: Partial<PaymentRow> = {}): PaymentRow =>
  ({
    id: 7,
    domain_id: 1,
    client_ref: 1,
    state: 'validating',
    state_detail: 'initiating',
    action: null,
    execution_date_type: 'first_open_day',
    validate_date: null,
    version: 3,
    current_attempt_id: 11,
    ...over,
  }) as PaymentRow;
const attempt = (over: Partial<AttemptRow> = {}): AttemptRow => ({ id: 11, number: 1, bank_status: 'RCVD', connector_data: '{}', ...over }) as AttemptRow;
const ctx = (over: Partial<OutcomeContext> = {}): OutcomeContext => ({
  operation: 'initiate',
  source: 'interactive',
  manualConfirmation: false,
  partialStatusTracking: [],
  ...over,
});

describe('payment reducer', () => {
  it("keeps a connector's sealed consent on the attempt only when the outcome carries one (absent: unchanged; null: cleared)", () => {
    const base: ConnectorOutcome = { kind: 'redirect', validate_uri: 'https://as.example/authorize', data: { authorize: 'x' } };
    const attemptOf = (outcome: ConnectorOutcome) => {
      const reduced = reduceOutcome(payment(), attempt(), outcome, ctx());
      return reduced.kind === 'change' ? reduced.attempt : null;
    };
    expect(attemptOf({ ...base, consent: 'kek1.sealed' })).toMatchObject({ consent_sealed: 'kek1.sealed', connector_data: '{"authorize":"x"}' });
    expect(attemptOf({ ...base, consent: null })).toMatchObject({ consent_sealed: null });
    expect(attemptOf(base)).not.toHaveProperty('consent_sealed');
  });

  it("the bank status an answer carries while the payer is at the bank (a Verification of Payee code) becomes the attempt's; absent: unchanged", () => {
    const base: ConnectorOutcome = { kind: 'redirect', validate_uri: 'https://bank.example/sca', data: {} };
    const attemptOf = (outcome: ConnectorOutcome) => {
      const reduced = reduceOutcome(payment(), attempt(), outcome, ctx());
      return reduced.kind === 'change' ? reduced.attempt : null;
    };
    expect(attemptOf({ ...base, bank_status: 'RVCM' })).toMatchObject({ bank_status: 'RVCM' });
    expect(attemptOf({ kind: 'fields', fields: [], data: {}, bank_status: 'RCVD' })).toMatchObject({ bank_status: 'RCVD' });
    expect(attemptOf(base)).not.toHaveProperty('bank_status');
  });

  it('a redirect answer to the initiation: validating + redirect, the bank id on payment and attempt, the attempt ok and polled', () => {
    const outcome: ConnectorOutcome = { kind: 'redirect', validate_uri: 'https://bank.example/sca', bank_reference: 'B-1', data: { id: 'B-1' } };
    expect(reduceOutcome(payment(), attempt(), outcome, ctx())).toEqual({
      kind: 'change',
      change: {
        state: 'validating',
        patch: {
          bank_payment_id: 'B-1',
          validate_uri: 'https://bank.example/sca',
          fields: null,
          error_code: null,
          error_description: null,
          state_detail: null,
          action: 'redirect',
        },
      },
      attempt: { bank_payment_id: 'B-1', connector_data: '{"id":"B-1"}', outcome: 'ok' },
      sync: 'poll',
    });
  });

  it('an unknown initiation waits (initiation_unknown) and marks the attempt unknown; an unknown later answer changes nothing and asks soon', () => {
    const lost: ConnectorOutcome = { kind: 'unknown', reason: 'timeout', data: {} };
    const initiation = reduceOutcome(payment(), attempt(), lost, ctx());
    expect(initiation).toMatchObject({
      kind: 'change',
      change: { state: 'validating', patch: { state_detail: 'initiation_unknown', error_description: UNKNOWN_INITIATION_TEXT, action: null } },
      attempt: { outcome: 'unknown' },
    });
    expect(reduceOutcome(payment({ state: 'pending' }), attempt(), lost, ctx({ operation: 'status' }))).toEqual({
      kind: 'record',
      attempt: { connector_data: '{}', sync_locked_until: null },
      sync: 'soon',
    });
  });

  it('a refusal rejects the initiation, is nothing for a status read, and is notSupported for a cancellation', () => {
    const refused: ConnectorOutcome = { kind: 'refused', error_code: 'invalidEmitter', error_description: 'no', bank_status: 'RJCT', data: {} };
    expect(reduceOutcome(payment(), attempt(), refused, ctx())).toMatchObject({
      kind: 'change',
      change: { state: 'rejected', patch: { error_code: 'invalidEmitter' }, source: 'interactive' },
      attempt: { bank_status: 'RJCT', outcome: 'refused' },
      sync: 'none',
    });
    expect(reduceOutcome(payment({ state: 'pending' }), attempt(), refused, ctx({ operation: 'status' }))).toEqual({
      kind: 'record',
      attempt: { sync_locked_until: null },
      sync: 'poll',
    });
    expect(reduceOutcome(payment({ state: 'pending' }), attempt(), refused, ctx({ operation: 'cancel' }))).toEqual({
      kind: 'record',
      attempt: {},
      sync: 'keep',
      refused: true,
    });
  });

  it('a state answer: final stops the sync, keeps the bank status when the bank gave none, honours partial status tracking', () => {
    const done: ConnectorOutcome = { kind: 'state', state: 'done', data: {} };
    expect(reduceOutcome(payment({ state: 'pending' }), attempt(), done, ctx({ operation: 'status', source: 'background' }))).toMatchObject({
      kind: 'change',
      change: { state: 'done', allInstructionsState: 'done', source: 'background' },
      attempt: { bank_status: 'RCVD' },
      sync: 'none',
    });
    const accepted: ConnectorOutcome = { kind: 'state', state: 'done', bank_status: 'ACSC', data: {} };
    const deferred = payment({ state: 'pending', execution_date_type: 'deferred' });
    expect(reduceOutcome(deferred, attempt(), accepted, ctx({ operation: 'status', partialStatusTracking: ['deferred'] }))).toMatchObject({
      kind: 'change',
      change: { state: 'accepted' },
      attempt: { bank_status: 'ACSC' },
    });
  });

  it("a payer's cancellation read while the client's cancellation is sent is the client's; without one it stays the payer's", () => {
    const canc: ConnectorOutcome = {
      kind: 'state',
      state: 'rejected',
      error_code: 'CancelledByUser',
      error_description: 'Cancelled at the bank.',
      bank_status: 'CANC',
      data: {},
    };
    const pending = payment({ state: 'pending' });
    expect(reduceOutcome(pending, attempt(), canc, ctx({ operation: 'status', clientCancelled: true }))).toMatchObject({
      change: {
        state: 'rejected',
        patch: { error_code: 'CancelledByClient', error_description: "The payment was cancelled at the bank at the client's request." },
      },
      attempt: { bank_status: 'CANC' },
    });
    expect(reduceOutcome(pending, attempt(), canc, ctx({ operation: 'status' }))).toMatchObject({
      change: { state: 'rejected', patch: { error_code: 'CancelledByUser', error_description: 'Cancelled at the bank.' } },
    });
    // Another rejection is the bank's, whoever asked.
    const funds: ConnectorOutcome = { ...canc, error_code: 'insufficientFunds', bank_status: 'RJCT' };
    expect(reduceOutcome(pending, attempt(), funds, ctx({ operation: 'status', clientCancelled: true }))).toMatchObject({
      change: { patch: { error_code: 'insufficientFunds' } },
    });
  });

  it('with manual confirmation, a validated payment waits for action confirm, the bank answer kept on the attempt', () => {
    const done: ConnectorOutcome = { kind: 'state', state: 'done', bank_status: 'ACSC', data: { x: 1 } };
    const reduction = reduceOutcome(payment(), attempt(), done, ctx({ operation: 'return', manualConfirmation: true }));
    expect(reduction).toMatchObject({ kind: 'change', change: { state: 'validating', patch: { action: 'confirm' } }, sync: 'none' });
    expect(JSON.parse((reduction as { attempt: { connector_data: string } }).attempt.connector_data)).toEqual({
      x: 1,
      confirm_outcome: { state: 'done', instructions: null, bank_status: 'ACSC' },
    });
    // Status sync (background) never stops at confirm.
    expect(reduceOutcome(payment(), attempt(), done, ctx({ operation: 'status', source: 'background', manualConfirmation: true }))).toMatchObject({
      change: { state: 'done' },
    });
  });
});

describe('one writer', () => {
  it('no module but services/payment-changes.ts updates the payments table (the schema migrations aside)', () => {
    const root = join(import.meta.dirname, '../../src');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) files.push(path);
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(50);
    const writes = /updateTable\(\s*['"`]payments['"`]|update\s+payments\b/i;
    const offenders = files.filter((f) => writes.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(offenders).toEqual(['services/payment-changes.ts', 'store/migrations.ts']);
  });
});

describe('typed core errors', () => {
  it('a version conflict and a forbidden state change are different types, both the Powens invalidState body on the wire', () => {
    const conflict = new VersionConflict(7);
    let forbidden: unknown;
    try {
      assertTransition('done', 'pending');
    } catch (error) {
      forbidden = error;
    }
    expect(forbidden).toBeInstanceOf(ForbiddenStateChange);
    expect(forbidden).not.toBeInstanceOf(VersionConflict);
    expect(conflict).not.toBeInstanceOf(ForbiddenStateChange);
    expect(errorBody(toApiError(conflict)!, '1')).toEqual({
      code: 'invalidState',
      description: 'the payment changed meanwhile; read it again and retry',
      message: expect.any(String),
      request_id: 1,
    });
    expect(errorBody(toApiError(forbidden)!, '2')).toMatchObject({
      code: 'invalidState',
      description: 'a done payment cannot become pending (final states never change)',
    });
    expect(toApiError(conflict)).toBeInstanceOf(ApiError);
    expect((toApiError(forbidden) as ApiError).status).toBe(409);
  });
});

describe('the instructions a change leaves (what a validation answers without reading them again)', () => {
  const rows = [1, 0].map((position) => ({ id: 10 + position, position, state: 'created' }) as unknown as InstructionRow);
  it('keeps them when the change gives no states, gives each its own or all the same one', () => {
    expect(instructionsAfter(rows, { patch: {} })).toBe(rows);
    expect(instructionsAfter(rows, { patch: {}, instructionStates: ['done', 'rejected'] }).map((i) => [i.id, i.state])).toEqual([
      [11, 'rejected'],
      [10, 'done'],
    ]);
    expect(instructionsAfter(rows, { patch: {}, allInstructionsState: 'pending' }).map((i) => i.state)).toEqual(['pending', 'pending']);
    expect(rows.map((i) => i.state)).toEqual(['created', 'created']);
  });
});
