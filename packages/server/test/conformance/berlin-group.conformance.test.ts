/**
 * The conformance kit against the Berlin Group connector and the NextGenPSD2 simulator on
 * loopback: a bank configured like `payrail bank add --standard berlin-group`, the payer on the
 * simulator's SCA page (Approve / Refuse) and back on Payrail's return URL, the simulator's faults
 * for lost answers. Redirect and decoupled banks.
 */
import { startBerlinGroupSimulator } from '../../src/connectors/berlin-group/simulator/index.ts';
import { guideBody, type TestContext } from '../support/helpers.ts';
import { startPrismProxy } from '../support/prism.ts';
import { addSimulatedBank, conformanceSuite, type FarSide, SIM_POLL_MAX_MS, SIM_SETTLE_MS, simulatorFarSide } from './kit.ts';

const PAYER = 'DE02100100109307118603';
let banks = 0;

/**
 * A simulated bank, configured as `payrail bank add` does; with `prism`, Stoplight Prism
 * (`proxy --errors`, the official 1.3.12 file) sits between Payrail and the bank and every case
 * fails on any violation it logs, in either direction.
 */
async function simulatedBank(t: TestContext, sca: 'redirect' | 'decoupled', options: { prism?: boolean } = {}): Promise<FarSide> {
  const sim = await startBerlinGroupSimulator({ clock: t.clock, settleAfterMs: SIM_SETTLE_MS });
  const prism = options.prism ? await startPrismProxy(sim.url) : null;
  if (prism) {
    // Prism compiles its validators on the first request: warm it up so the first case keeps the bank's deadline.
    await fetch(`${prism.url}/v1/payments/sepa-credit-transfers/warm-up/status`, {
      headers: { 'X-Request-ID': crypto.randomUUID(), Accept: 'application/json' },
    });
  }
  const bank = await addSimulatedBank(t, {
    name: `Simulated ${sca} bank ${++banks}`,
    standard: 'berlin-group',
    base_url: prism?.url ?? sim.url,
    country: 'DE',
    sca_approach: sca,
    profile: { deferred: true, timeout_ms: prism ? 3_000 : 1_000, poll_initial_ms: 1_000, poll_max_ms: SIM_POLL_MAX_MS },
  });
  const bankPaymentId = async (id: number) =>
    (await t.store.db.selectFrom('payments').select('bank_payment_id').where('id', '=', id).executeTakeFirstOrThrow()).bank_payment_id!;

  return {
    ...simulatorFarSide(t, sim, prism, 'NextGenPSD2 1.3.12'),
    connectorUuid: bank.uuid,
    flow: sca,
    cancellation: 'immediate',
    refusedErrorCode: sca === 'redirect' ? 'CancelledByUser' : 'authenticationFailed',
    // A dated payment can still be cancelled once approved; one for the first open day executes at once.
    // The payer's IBAN: 1.3.12 needs debtorAccount (the webview asks for it when a payment has none).
    paymentBody: (kind) => guideBody(kind === 'cancellable' ? 'deferred' : 'first_open_day', { payer: { scheme_name: 'iban', identification: PAYER } }),
    validateBody: () => ({
      connector_uuid: bank.uuid,
      webview_url: 'https://merchant.example/own-webview',
      validate_mechanism: 'webauth',
      fields: sca === 'decoupled' ? { psu_id: 'jdoe' } : {},
    }),
    async payerAtBank(validateUri, decision) {
      const page = await (await fetch(validateUri)).text();
      if (!page.includes('Approve') || !page.includes('Refuse')) throw new Error(`not the SCA page:\n${page}`);
      const token = /name="token" value="([^"]+)"/.exec(page)![1]!;
      const answer = await fetch(validateUri, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, decision }),
      });
      const back = answer.headers.get('location');
      if (answer.status !== 303 || !back) throw new Error(`the bank did not send the payer back: ${answer.status}`);
      const url = new URL(back);
      const returned = await t.app.inject({ url: url.pathname + url.search });
      if (returned.statusCode >= 400) throw new Error(`Payrail's return URL answered ${returned.statusCode}: ${returned.body}`);
    },
    async payerInApp(id, decision) {
      if (decision === 'approve') sim.approve(await bankPaymentId(id));
      else sim.refuse(await bankPaymentId(id));
    },
    async initiations() {
      return sim.received.initiations.length;
    },
    async loseAnswers(operation) {
      if (operation === 'initiate') sim.faults.add({ kind: 'hang', operation: 'initiatePayment', afterProcessing: true });
      else sim.faults.add({ kind: 'hang', operation: 'getPaymentInitiationStatus', times: 0 });
    },
    async executed() {
      return [...sim.payments.values()].filter((p) => sim.ledger.status(p) === 'ACSC').length;
    },
  };
}

conformanceSuite('Berlin Group connector, redirect bank (simulator)', { faults: true }, (t) => simulatedBank(t, 'redirect'));
conformanceSuite('Berlin Group connector, decoupled bank (simulator)', { faults: true }, (t) => simulatedBank(t, 'decoupled'));
conformanceSuite('Berlin Group connector, redirect bank behind prism proxy --errors', { faults: true }, (t) => simulatedBank(t, 'redirect', { prism: true }));
