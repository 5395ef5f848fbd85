/**
 * The conformance kit against the UK Open Banking connector and the model bank on loopback: a bank
 * configured like `payrail bank add --standard obie`, the payer on the model bank's authorize
 * page (Approve / Refuse) and back on Payrail's consent return (the fragment's values posted as
 * its page does), the model bank's faults for lost answers; v4.0 with and without
 * `prism proxy --errors`, v3.1.11 behind it. The standard has no cancellation: that case checks
 * `notSupported`. A lost consent is asked again under its idempotency key, which creates nothing
 * new at the bank: "initiations" counts the consents the bank made.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startObieSimulator } from '../../src/connectors/obie/simulator/index.ts';
import { API_ROOT, type ApiVersion } from '../../src/connectors/obie/versions.ts';
import { guideBody, type TestContext } from '../support/helpers.ts';
import { OBIE_SPECS, startPrismProxy } from '../support/prism.ts';
import { addSimulatedBank, conformanceSuite, type FarSide, SIM_POLL_MAX_MS, SIM_SETTLE_MS, simulatorFarSide } from './kit.ts';

let banks = 0;

async function modelBank(t: TestContext, version: ApiVersion, options: { prism?: boolean } = {}): Promise<FarSide> {
  const sim = await startObieSimulator({
    apiVersion: version,
    clock: t.clock,
    settleAfterMs: SIM_SETTLE_MS,
    keysDir: mkdtempSync(join(tmpdir(), 'obie-conf-')),
  });
  const prism = options.prism ? await startPrismProxy(`${sim.url}${API_ROOT[version]}`, OBIE_SPECS[version]) : null;
  const bank = await addSimulatedBank(t, {
    name: `UK model bank ${++banks}`,
    standard: 'obie',
    base_url: prism?.url ?? sim.baseUrl,
    country: 'GB',
    signing_key: readFileSync(sim.clientKey.path, 'utf8'),
    profile: {
      api_version: version,
      issuer: sim.issuer,
      client_id: sim.clientId,
      signing_kid: sim.clientKey.kid,
      timeout_ms: prism ? 3_000 : 1_000,
      poll_initial_ms: 1_000,
      poll_max_ms: SIM_POLL_MAX_MS,
    },
  });
  return {
    ...simulatorFarSide(t, sim, prism, `UK Open Banking ${version}`),
    connectorUuid: bank.uuid,
    flow: 'redirect',
    cancellation: 'unsupported',
    refusedErrorCode: 'CancelledByUser',
    paymentBody: () => {
      const body = guideBody('first_open_day');
      Object.assign(body.instructions[0]!, {
        currency: 'GBP',
        reference_id: 'ORDER42',
        beneficiary: { scheme_name: 'sort_code_account_number', identification: '40051512345678', label: 'Tea Shop Ltd' },
      });
      return body;
    },
    validateBody: () => ({ connector_uuid: bank.uuid, webview_url: 'https://merchant.example/own-webview', validate_mechanism: 'webauth', fields: {} }),
    async payerAtBank(validateUri, decision) {
      const page = await (await fetch(validateUri)).text();
      if (!page.includes('Approve') || !page.includes('Refuse')) throw new Error(`not the authorize page:\n${page}`);
      const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page)![1]!;
      const answer = await fetch(`${sim.url}/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ticket: field('ticket'), token: field('token'), decision }),
      });
      const back = answer.headers.get('location');
      if (answer.status !== 303 || !back) throw new Error(`the bank did not send the payer back: ${answer.status}`);
      const url = new URL(back);
      // A fragment never reaches a server: Payrail's return page posts its values back, as here.
      const returned = url.hash
        ? await t.app.inject({
            method: 'POST',
            url: url.pathname,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: url.hash.slice(1),
          })
        : await t.app.inject({ url: url.pathname + url.search });
      if (returned.statusCode >= 400) throw new Error(`Payrail's consent return answered ${returned.statusCode}: ${returned.body}`);
    },
    async initiations() {
      return sim.bank.consents.size;
    },
    async loseAnswers(operation) {
      if (operation === 'initiate') sim.faults.add({ kind: 'hang', operation: 'CreateDomesticPaymentConsents', afterProcessing: true });
      else sim.faults.add({ kind: 'hang', operation: 'GetDomesticPaymentsDomesticPaymentId', times: 0 });
    },
    async executed() {
      return [...sim.bank.payments.values()].filter((p) => ['ACSC', 'AcceptedSettlementCompleted'].includes(sim.bank.status(p).status)).length;
    },
  };
}

conformanceSuite('UK Open Banking 4.0 connector (model bank)', { faults: true }, (t) => modelBank(t, '4.0'));
conformanceSuite('UK Open Banking 4.0 connector behind prism proxy --errors', { faults: true }, (t) => modelBank(t, '4.0', { prism: true }));
conformanceSuite('UK Open Banking 3.1.11 connector behind prism proxy --errors', { faults: true }, (t) => modelBank(t, '3.1.11', { prism: true }));
