/**
 * The recovery pass (services/claim-recovery.ts) on both databases: a claim whose process is alive
 * is left alone; a dead process's claim with no bank call recorded is released (the payment free
 * again, as before the claim); one with a call recorded becomes an unknown initiation, announced
 * by webhook, its call `unknown`; and once a claim has ended, the recorder refuses the calls of the
 * process that held it (a process wrongly taken for dead sends nothing more).
 */
import { expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { VersionConflict } from '../src/domain/errors.ts';
import { attemptRecorder } from '../src/services/attempts.ts';
import { recoverClaims } from '../src/services/claim-recovery.ts';
import { claimInitiation } from '../src/services/payment-changes.ts';
import type { ActionEnvironment } from '../src/services/payment-actions.ts';
import { readPaymentRow } from '../src/store/repositories/payments.ts';
import { createEndpoint } from '../src/webhooks/endpoints.ts';
import { bearer, describeEachDb } from './support/helpers.ts';

describeEachDb('recovery of dead processes’ claims', (ctx) => {
  const processClock = new ManualClock('2026-06-01T12:00:00Z');
  const env = (): ActionEnvironment => {
    const { app, store, clock } = ctx();
    return {
      db: store.db,
      clock,
      secret: app.payrail.secret,
      baseUrl: 'http://127.0.0.1:3000',
      testStepMs: app.payrail.testStepMs,
      connectors: app.payrail.connectors,
      notifier: app.payrail.notifier,
    };
  };
  let endpoint = false;
  /** A payment on the test bank, claimed for an initiation by `owner`, and its attempt. */
  const claimed = async (owner: string | null) => {
    const { store, clock } = ctx();
    const id = await ctx().createPayment();
    const payment = (await store.db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow())!;
    if (!endpoint) {
      await createEndpoint(store.db, clock, payment.domain_id, { url: 'http://127.0.0.1:9/hook' }, { keyring: ctx().app.payrail.keyring, allowPrivate: true });
      endpoint = true;
    }
    const claim = await claimInitiation(store.db, clock, payment, { connector_uuid: TEST_CONNECTOR_UUID, bank_id: null, claimed_by: owner });
    return { id, domainId: payment.domain_id, attempt: claim.attempt };
  };
  const rowOf = async (id: number, domainId: number) => (await readPaymentRow(ctx().store.db, domainId, id))!;
  /** The call record written before a request leaves: the mark that it may have reached the bank. */
  const recordCall = (paymentId: number, attemptId: number) =>
    attemptRecorder(ctx().store.db, { fenced: true }).begin({
      id: `call-${paymentId}-${Math.random()}`,
      payment_id: paymentId,
      attempt_id: attemptId,
      bank_id: null,
      operation: 'initiate',
      started_at: ctx().clock.now(),
    });
  const processes = async (rows: { id: string; alive: boolean }[]) => {
    const now = processClock.now();
    for (const row of rows)
      await ctx()
        .store.db.insertInto('processes')
        .values({ id: row.id, started_at: now - 60_000, alive_until: row.alive ? now + 30_000 : now - 1 })
        .execute();
  };

  it('leaves the claim of a live process alone, releases a dead one’s that sent nothing, and makes one that sent a call unknown', async () => {
    await processes([
      { id: 'alive', alive: true },
      { id: 'dead', alive: false },
    ]);
    const live = await claimed('alive');
    const unsent = await claimed('dead');
    const sent = await claimed('dead');
    await recordCall(sent.id, sent.attempt.id);
    const own = await claimed('me');

    expect(await recoverClaims(env(), { self: 'me', processClock })).toEqual({ released: 1, unknown: 1 });

    // Alive (and this process's own): untouched, still being sent.
    for (const c of [live, own])
      expect(await rowOf(c.id, c.domainId)).toMatchObject({ state: 'created', state_detail: 'initiating', current_attempt_id: c.attempt.id });

    // Dead, nothing sent: free again, exactly as before the claim; its attempt is gone.
    expect(await rowOf(unsent.id, unsent.domainId)).toMatchObject({ state: 'created', state_detail: null, current_attempt_id: null });
    expect(await ctx().store.db.selectFrom('payment_attempts').select('id').where('payment_id', '=', unsent.id).execute()).toEqual([]);
    // A late call of the process taken for dead is refused before it leaves.
    await expect(recordCall(unsent.id, unsent.attempt.id)).rejects.toBeInstanceOf(VersionConflict);
    // And the payer can validate it again.
    const again = await ctx().app.inject({
      method: 'POST',
      url: `/2.0/payments/${unsent.id}`,
      headers: bearer(await ctx().token('payments:admin')),
      payload: { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own' },
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ state: 'validating', action: 'redirect' });

    // Dead, a call recorded: the bank may have it, so the initiation is unknown and never sent again.
    const unknown = await rowOf(sent.id, sent.domainId);
    expect(unknown).toMatchObject({ state: 'validating', state_detail: 'initiation_unknown', current_attempt_id: sent.attempt.id });
    expect(unknown.error_description).toMatch(/did not confirm/);
    const attempt = await ctx().store.db.selectFrom('payment_attempts').selectAll().where('id', '=', sent.attempt.id).executeTakeFirstOrThrow();
    expect(attempt.outcome).toBe('unknown');
    expect(attempt.next_sync_at).not.toBeNull(); // status sync asks the bank what it can
    const calls = await ctx().store.db.selectFrom('bank_calls').select(['outcome', 'error']).where('attempt_id', '=', sent.attempt.id).execute();
    expect(calls).toEqual([{ outcome: 'unknown', error: expect.stringMatching(/process sending the initiation stopped/) }]);
    await expect(recordCall(sent.id, sent.attempt.id)).rejects.toBeInstanceOf(VersionConflict);
    // The change is announced by webhook (a background change).
    const announced = await ctx().store.db.selectFrom('webhook_data').select('body').where('payment_id', '=', sent.id).execute();
    expect(announced.map((a) => JSON.parse(String(a.body)).state)).toEqual(['validating']);

    // A second pass finds nothing more.
    expect(await recoverClaims(env(), { self: 'me', processClock })).toEqual({ released: 0, unknown: 0 });
  });

  it('counts a live process as dead once its lease ends', async () => {
    await processes([{ id: 'slow', alive: true }]);
    const slow = await claimed('slow');
    expect(await recoverClaims(env(), { self: 'me', processClock })).toEqual({ released: 0, unknown: 0 });
    // Past the leases of 'slow' and of 'alive' (the first test's live claim).
    processClock.advance(31_000);
    expect(await recoverClaims(env(), { self: 'me', processClock })).toEqual({ released: 2, unknown: 0 });
    expect(await rowOf(slow.id, slow.domainId)).toMatchObject({ state: 'created', state_detail: null, current_attempt_id: null });
  });

  it('ends a claim made before claims had an owner once older than a minute; at the start of the only process (embedded database), every other one at once', async () => {
    const legacy = await claimed(null);
    expect(await recoverClaims(env(), { self: 'me', processClock })).toEqual({ released: 0, unknown: 0 });
    ctx().clock.advance(61_000);
    expect(await recoverClaims(env(), { self: 'me', processClock })).toEqual({ released: 1, unknown: 0 });
    expect(await rowOf(legacy.id, legacy.domainId)).toMatchObject({ state: 'created', state_detail: null });

    await processes([{ id: 'neighbour', alive: true }]);
    const young = await claimed(null);
    const neighbours = await claimed('neighbour');
    expect(await recoverClaims(env(), { self: 'me', processClock, everyOtherDead: true })).toEqual({ released: 2, unknown: 0 });
    for (const c of [young, neighbours]) expect(await rowOf(c.id, c.domainId)).toMatchObject({ state: 'created', state_detail: null });
    expect(await ctx().store.db.selectFrom('processes').select('id').execute()).toEqual([]);
  });
});
