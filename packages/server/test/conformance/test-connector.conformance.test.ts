/** The conformance kit against the built-in test connector, its bank page served by Payrail. */
import { TEST_CONNECTOR_UUID } from '../../src/connectors/test-connector.ts';
import { guideBody, type TestContext } from '../support/helpers.ts';
import { conformanceSuite, type FarSide } from './kit.ts';

const STEP_MS = 1000;

/** The test bank: Payrail's own page; an initiation is the payment's move from created to validating. */
function testBank(t: TestContext): FarSide {
  return {
    connectorUuid: TEST_CONNECTOR_UUID,
    flow: 'redirect',
    cancellation: 'immediate',
    refusedErrorCode: 'CancelledByUser',
    // pdng/done: pending after approval, done one scenario step later (legacy label grammar).
    paymentBody: () => {
      const body = guideBody('first_open_day');
      body.instructions[0]!.label = 'pdng/done - Conformance';
      return body;
    },
    validateBody: () => ({
      connector_uuid: TEST_CONNECTOR_UUID,
      webview_url: 'https://merchant.example/own-webview',
      validate_mechanism: 'webauth',
      fields: {},
    }),
    async payerAtBank(validateUri, decision) {
      const url = new URL(validateUri);
      const page = await t.app.inject({ url: url.pathname + url.search });
      if (page.statusCode !== 200 || !page.body.includes('Approve')) throw new Error(`test bank page: ${page.statusCode}`);
      const form = new URLSearchParams({ ...Object.fromEntries(url.searchParams), decision });
      const answer = await t.app.inject({
        method: 'POST',
        url: url.pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
      if (answer.statusCode !== 200) throw new Error(`test bank answer: ${answer.statusCode} ${answer.body}`);
    },
    async settle() {
      t.clock.advance(STEP_MS);
    },
    async initiations() {
      const row = await t.store.db
        .selectFrom('payment_events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('from_state', '=', 'created')
        .where('to_state', '=', 'validating')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

conformanceSuite('test connector', { faults: false }, async (t) => testBank(t), { appOptions: { testConnectorStepMs: STEP_MS } });
