/**
 * The conformance kit against the STET connector and the STET simulator on loopback: a bank
 * configured as `payrail bank add --standard stet` does (client id, token URL, the simulator's
 * TPP signing key, keyId), the payer on the simulator's consent page (Approve / Refuse) and back
 * on Payrail's OAuth2 consent return, or approving in the bank's app (decoupled); the
 * simulator's faults for lost answers. With and without `prism proxy --errors` and STET's file.
 */
import { startStetSimulator } from '../../src/connectors/stet/simulator/index.ts';
import { guideBody, type TestContext } from '../support/helpers.ts';
import { startPrismProxy, STET_SPEC } from '../support/prism.ts';
import { addSimulatedBank, conformanceSuite, type FarSide, SIM_POLL_MAX_MS, SIM_SETTLE_MS, simulatorFarSide } from './kit.ts';

const PAYER = 'FR1420041010050500013M02606';
let banks = 0;

async function simulatedBank(t: TestContext, sca: 'redirect' | 'decoupled', options: { prism?: boolean } = {}): Promise<FarSide> {
  const sim = await startStetSimulator({ clock: t.clock, settleAfterMs: SIM_SETTLE_MS });
  const prism = options.prism ? await startPrismProxy(sim.baseUrl, STET_SPEC) : null;
  if (prism) {
    // Prism compiles its validators on the first request: warm it up so the first case keeps the bank's deadline.
    // A well-formed read (the simulator answers 401, which the file allows), so that Prism has nothing to report.
    await fetch(`${prism.url}/payment-requests/warm-up`, {
      headers: { 'X-Request-ID': crypto.randomUUID(), Accept: 'application/hal+json', Authorization: 'Bearer warm-up', Signature: 'keyId="warm-up"' },
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // Prism logs a response's validation just after answering
  }
  const bank = await addSimulatedBank(t, {
    name: `Simulated STET ${sca} bank ${++banks}`,
    standard: 'stet',
    base_url: prism?.url ?? sim.baseUrl,
    country: 'FR',
    sca_approach: sca,
    signing_key: sim.keys.key,
    signing_cert: sim.keys.cert,
    profile: {
      client_id: sim.clientId,
      token_url: sim.tokenUrl,
      key_id: sim.keyIdUrl,
      timeout_ms: prism ? 4_000 : 1_000,
      poll_initial_ms: 1_000,
      poll_max_ms: SIM_POLL_MAX_MS,
      poll_payer_ms: 1_000,
    },
  });
  const bankPaymentId = async (id: number) =>
    (await t.store.db.selectFrom('payments').select('bank_payment_id').where('id', '=', id).executeTakeFirstOrThrow()).bank_payment_id!;

  return {
    ...simulatorFarSide(t, sim, prism, 'STET 1.5.0.43'),
    connectorUuid: bank.uuid,
    flow: sca,
    cancellation: 'immediate',
    refusedErrorCode: 'CancelledByUser',
    // A dated payment stays ACCP (cancellable) until its date; one for the first open day executes at once.
    paymentBody: (kind) => guideBody(kind === 'cancellable' ? 'deferred' : 'first_open_day', { payer: { scheme_name: 'iban', identification: PAYER } }),
    validateBody: () => ({ connector_uuid: bank.uuid, webview_url: 'https://merchant.example/own-webview', validate_mechanism: 'webauth', fields: {} }),
    async payerAtBank(validateUri, decision) {
      const page = await (await fetch(validateUri)).text();
      if (!page.includes('>Approve</button>') || !page.includes('>Refuse</button>')) throw new Error(`not the consent page:\n${page}`);
      const form = new URLSearchParams(
        [...page.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&amp;/g, '&')]),
      );
      form.set('decision', decision);
      const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!;
      const answer = await fetch(new URL(action, validateUri), { method: 'POST', redirect: 'manual', body: form });
      const back = answer.headers.get('location');
      if (answer.status !== 303 || !back) throw new Error(`the bank did not send the payer back: ${answer.status}`);
      const url = new URL(back);
      const returned = await t.app.inject({ url: url.pathname + url.search });
      if (returned.statusCode >= 400) throw new Error(`Payrail's consent return answered ${returned.statusCode}: ${returned.body}`);
    },
    async payerInApp(id, decision) {
      if (decision === 'approve') sim.approve(await bankPaymentId(id));
      else sim.refuse(await bankPaymentId(id));
    },
    async initiations() {
      return sim.received.initiations.length;
    },
    async loseAnswers(operation) {
      if (operation === 'initiate') sim.faults.add({ kind: 'hang', operation: 'paymentRequestsPost', afterProcessing: true });
      else sim.faults.add({ kind: 'hang', operation: 'paymentRequestsGet', times: 0 });
    },
    async executed() {
      return [...sim.payments.values()].filter((p) => sim.ledger.status(p).status === 'ACSC').length;
    },
  };
}

conformanceSuite('STET connector, redirect bank (OAuth2 + PKCE, simulator)', { faults: true }, (t) => simulatedBank(t, 'redirect'));
conformanceSuite('STET connector, decoupled bank (simulator)', { faults: true }, (t) => simulatedBank(t, 'decoupled'));
conformanceSuite('STET connector, redirect bank behind prism proxy --errors', { faults: true }, (t) => simulatedBank(t, 'redirect', { prism: true }));
