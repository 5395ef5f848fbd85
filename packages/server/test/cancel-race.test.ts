/**
 * A client's cancellation racing status sync, against the Berlin Group simulator on loopback with
 * the real core (claims, attempts, apply, status sync driven by hand). The cancellation's DELETE
 * reaches the bank; its status read back is held by the bank (latency fault) while status sync —
 * with the attempt's data as it was before the cancellation — reads CANC and writes first. The
 * payment still ends `CancelledByClient`; a cancellation at the bank with no client cancellation
 * sent stays the payer's (`CancelledByUser`).
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../src/connectors/berlin-group/simulator/index.ts';
import { CONNECTOR_MODULES } from '../src/connectors/modules.ts';
import { syncOne } from '../src/jobs/sync-payments.ts';
import { addBank } from '../src/services/banks.ts';
import { bearer, describeEachDb, guideBody, paymentWithAttempt, REDIRECT_URI, syncEnvironment, type TestContext } from './support/helpers.ts';

/** How long the bank holds the cancellation's status read: far longer than status sync takes. */
const HELD_MS = 4_000;

describeEachDb('a client cancellation racing status sync', (ctx) => {
  let sim: BerlinGroupSimulator;
  let banks = 0;

  beforeAll(async () => {
    sim = await startBerlinGroupSimulator({ clock: ctx().clock, settleAfterMs: 4_000 });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.faults.clear();
    sim.settings.cancellationSca = false;
  });

  async function paymentOf(c: TestContext, id: number) {
    return (await c.app.inject({ method: 'GET', url: `/2.0/payments/${id}`, headers: bearer(await c.token('payments:admin')) })).json();
  }

  /** A deferred payment the payer approved at the simulated bank, made pending by status sync. */
  async function pendingPayment(c: TestContext) {
    const bank = await addBank(
      { db: c.store.db, clock: c.clock, keyring: c.app.payrail.keyring, modules: CONNECTOR_MODULES },
      {
        name: `Race bank ${++banks} ${c.dialect}`,
        standard: 'berlin-group',
        base_url: sim.url,
        country: 'DE',
        profile: { deferred: true, timeout_ms: 10_000 },
      },
    );
    c.app.payrail.connectors.invalidate();
    const id = await c.createPayment(guideBody('deferred', { payer: { scheme_name: 'iban', identification: 'DE02100100109307118603' } }));
    const validated = await c.app.inject({
      method: 'POST',
      url: `/2.0/payments/${id}`,
      headers: bearer(await c.token(['payments:admin'])),
      payload: { connector_uuid: bank.uuid, webview_url: 'https://merchant.example/own' },
    });
    expect(validated.json()).toMatchObject({ state: 'validating', action: 'redirect' });
    const row = await paymentWithAttempt(c.store.db, id);
    sim.approve(row.bank_payment_id!);
    expect(await syncOne(syncEnvironment(c), id, row.domain_id)).toBe(true);
    expect(await paymentOf(c, id)).toMatchObject({ state: 'pending' });
    return { id, domainId: row.domain_id, bankPaymentId: row.bank_payment_id! };
  }

  it('status sync reads CANC between the DELETE and the cancellation’s own answer: still CancelledByClient', async () => {
    const c = ctx();
    const { id, domainId, bankPaymentId } = await pendingPayment(c);
    // The cancellation's DELETE is answered at once; its status read back is held by the bank.
    sim.faults.add({ kind: 'latency', operation: 'getPaymentInitiationStatus', latencyMs: HELD_MS, times: 1 });
    let answered = false;
    const cancelling = c.app
      .inject({
        method: 'POST',
        url: `/2.0/payments/${id}`,
        headers: bearer(await c.token('payments:cancel')),
        payload: { cancel: true, client_redirect_uri: REDIRECT_URI },
      })
      .then((r) => {
        answered = true;
        return r;
      });
    // The bank has cancelled it (the DELETE was processed).
    const started = Date.now();
    while (sim.ledger.status(sim.payments.get(bankPaymentId)!) !== 'CANC') {
      expect(Date.now() - started).toBeLessThan(HELD_MS / 2);
      await new Promise((r) => setTimeout(r, 10));
    }
    // Status sync, with the attempt's data from before the cancellation, reads CANC and writes first.
    expect(await syncOne(syncEnvironment(c), id, domainId)).toBe(true);
    expect(answered).toBe(false);
    expect(await paymentOf(c, id)).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient' });
    const cancelled = await cancelling;
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient' });
    expect(await paymentOf(c, id)).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient' });
    const calls = await c.store.db.selectFrom('bank_calls').select(['operation', 'outcome']).where('payment_id', '=', id).orderBy('started_at').execute();
    expect(calls.filter((call) => call.operation === 'cancel')).toEqual([{ operation: 'cancel', outcome: 'ok' }]);
  });

  it('a cancellation at the bank with no client cancellation sent stays the payer’s: CancelledByUser', async () => {
    const c = ctx();
    const { id, domainId, bankPaymentId } = await pendingPayment(c);
    sim.ledger.cancel(sim.payments.get(bankPaymentId)!);
    expect(await syncOne(syncEnvironment(c), id, domainId)).toBe(true);
    expect(await paymentOf(c, id)).toMatchObject({ state: 'rejected', error_code: 'CancelledByUser' });
  });
});
