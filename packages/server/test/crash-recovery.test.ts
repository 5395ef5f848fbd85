/**
 * A crash during initiations, with real processes (docs/operations.md, "After a crash"): `payrail
 * serve` killed with SIGKILL while payments are being sent to a bank, then started again.
 *
 * - The test bank (in-process: nothing can have reached a bank): the payments whose validation was
 *   in flight are free again (at once on the embedded database, within the dead process's lease on
 *   PostgreSQL), are validated again and reach `done`, and every state change of every payment is
 *   announced by a signed webhook.
 * - The Berlin Group simulator holding the initiation unanswered when the process dies: the call
 *   may have reached the bank, so the initiation becomes `unknown` (announced), Payrail never sends
 *   it again (with no bank id there is nothing to ask; status sync keeps asking what it can), and
 *   the payer's fresh attempt at this redirect bank — a new request, never the old one — ends it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { decideAtSimulator, startSimulatorProcess } from './e2e/bg-stack.ts';
import { processDatabases, type ProcessDatabase } from './support/process-databases.ts';
import { BIN, decideAtTestBank, exited, startServe, startWebhookReceiver, waitFor } from './support/processes.ts';

const REDIRECT = 'https://merchant.example/payment/return';
const DEBTOR = 'DE02100100109307118603';
const CREDITOR = 'FR7630006000011234567890189';

function storeOf(db: ProcessDatabase): Promise<Store> {
  const [flag, value] = db.args;
  return openStore(flag === '--data-dir' ? { dataDir: value! } : { databaseUrl: value! });
}

/** What a merchant's backend does, against one process. */
function api(base: () => string, token: () => string) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base()}${path}`, {
      method,
      redirect: 'manual',
      headers: { 'content-type': 'application/json', ...(token() ? { authorization: `Bearer ${token()}` } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
  };
}

/** Payrail's own command line on this database. */
function cliOf(db: ProcessDatabase) {
  return (args: string[]) => {
    const result = spawnSync(process.execPath, [BIN, ...args, ...db.args, '--json'], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`payrail ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
}

/**
 * `payrail serve` with these arguments, and the merchant's backend calling it with `client`'s admin
 * token: `call` reaches the current process; `restart` starts it again (after a kill) and mints a
 * new token; `stop` ends it unless it has died.
 */
async function servedAsAdmin(serveArgs: string[], client: { client_id: string; client_secret: string }) {
  let server = await startServe(serveArgs);
  let token = '';
  const call = api(
    () => server.base,
    () => token,
  );
  const mint = async () => {
    token = (
      await call('POST', '/2.0/auth/token', {
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        scope: 'payments:admin',
      })
    ).json.token as string;
  };
  await mint();
  return {
    call,
    get server() {
      return server;
    },
    async restart() {
      server = await startServe(serveArgs);
      await mint();
    },
    async stop() {
      if (server.proc.exitCode === null && !server.proc.signalCode) {
        server.proc.kill('SIGTERM');
        await exited(server.proc);
      }
    },
  };
}

const paymentBody = (label: string) => ({
  client_redirect_uri: REDIRECT,
  instructions: [
    { label, amount: '1.00', currency: 'EUR', execution_date_type: 'instant', beneficiary: { scheme_name: 'iban', identification: CREDITOR, label: 'ACME' } },
  ],
});

/** Every state change of every payment was announced by a signed webhook, at least once. */
async function expectEveryChangeAnnounced(store: Store, announced: { id: number; state: string; verified: boolean }[]) {
  const changes = await store.db.selectFrom('payment_events').select(['payment_id', 'to_state']).where('type', '=', 'state_changed').execute();
  expect(changes.length).toBeGreaterThan(0);
  await waitFor(
    'every change announced',
    () => (changes.every((c) => announced.some((a) => a.id === Number(c.payment_id) && a.state === c.to_state)) ? true : undefined),
    30_000,
  );
  expect(announced.every((a) => a.verified)).toBe(true);
}

for (const target of processDatabases()) {
  describe(`a crash during initiations [${target.name}]`, () => {
    it('frees the test bank payments whose validation was in flight; every payment then reaches done, every change announced', async () => {
      const db = await target.create();
      const receiver = await startWebhookReceiver();
      const cli = cliOf(db);
      let served: Awaited<ReturnType<typeof servedAsAdmin>> | null = null;
      let store: Store | null = null;
      try {
        const client = cli(['client', 'create', '--name', 'Shop', '--redirect-uri', REDIRECT]);
        receiver.secret = cli(['webhook', 'add', '--url', receiver.url, '--event', 'PAYMENT_STATE_UPDATED']).secret_key;
        store = await storeOf(db);
        // A short lease: on PostgreSQL a dead process's claims end once it has passed.
        const serveArgs = [...db.args, '--log-level', 'error', '--job-lease-seconds', '11', '--test-connector-step-seconds', '1'];
        served = await servedAsAdmin(serveArgs, client);
        const { call } = served;
        const validation = { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own' };

        // Bursts of validations by 8 payers, the process killed while several are in flight; again
        // until a kill leaves claims behind (usually 1-3 kills; up to 20: with the test bank the window
        // between a claim's commit and its outcome's is short, and a kill outside it leaves nothing to recover).
        const stuck: number[] = [];
        let rounds = 0;
        while (stuck.length === 0 && rounds < 20) {
          rounds++;
          const running = served.server;
          let inFlight = 0;
          let killed = false;
          await Promise.all(
            Array.from({ length: 8 }, async () => {
              for (let i = 0; i < 50 && !killed; i++) {
                const created = await call('POST', '/2.0/payments', paymentBody('pdng/done - Crash')).catch(() => null);
                if (created?.status !== 200 || killed) return;
                inFlight++;
                const validated = call('POST', `/2.0/payments/${created.json.id}`, validation).catch(() => null);
                if (i >= 2 && inFlight >= 4 && !killed) {
                  killed = true;
                  running.proc.kill('SIGKILL');
                }
                await validated;
                inFlight--;
              }
            }),
          );
          await exited(running.proc);
          expect(running.proc.signalCode).toBe('SIGKILL');
          const left = await store.db.selectFrom('payments').select('id').where('state_detail', '=', 'initiating').execute();
          stuck.push(...left.map((p) => Number(p.id)));
          await served.restart();
          if (target.name === 'sqlite') {
            // The embedded database: the claims of the process that died end before the first request.
            expect(await store.db.selectFrom('payments').select('id').where('state_detail', '=', 'initiating').execute()).toEqual([]);
          }
        }
        expect(stuck.length, 'a kill left claims behind').toBeGreaterThan(0);
        await waitFor(
          "the dead process's claims ended",
          async () =>
            (await store!.db.selectFrom('payments').select('id').where('state_detail', '=', 'initiating').execute()).length === 0 ? true : undefined,
          30_000,
        );
        // Nothing can have reached the test bank: each payment is free again, as before its claim.
        const freed = await store.db.selectFrom('payments').select(['state', 'state_detail', 'current_attempt_id']).where('id', 'in', stuck).execute();
        expect(freed.every((p) => p.state === 'created' && p.state_detail === null && p.current_attempt_id === null)).toBe(true);

        // Every payment carried on: validated again where it had not been, approved at the bank.
        const all = await store.db.selectFrom('payments').select(['id', 'state']).execute();
        for (const payment of all) {
          let uri: string | null = null;
          if (payment.state === 'created') {
            const validated = await call('POST', `/2.0/payments/${payment.id}`, validation);
            expect(validated.status, `payment ${payment.id}: ${JSON.stringify(validated.json)}`).toBe(200);
            uri = validated.json.validate_uri;
          } else if (payment.state === 'validating') {
            uri = (await call('GET', `/2.0/payments/${payment.id}`)).json.validate_uri;
          }
          if (uri) await decideAtTestBank(served.server.base, uri);
        }
        await waitFor(
          'every payment done',
          async () => ((await store!.db.selectFrom('payments').select('id').where('state', '!=', 'done').execute()).length === 0 ? true : undefined),
          60_000,
        );
        await expectEveryChangeAnnounced(store, receiver.announced);
        console.log(
          `crash recovery [${target.name}]: ${rounds} kill(s), ${stuck.length} claims left by the dead process, all freed; ${all.length} payments done`,
        );
      } finally {
        await store?.close();
        await served?.stop();
        await receiver.close();
        await db.cleanup();
      }
    }, 240_000);

    it('makes an initiation the bank holds unanswered when the process dies unknown, never sends it again, and ends with the payer’s fresh attempt', async () => {
      const db = await target.create();
      const receiver = await startWebhookReceiver();
      const cli = cliOf(db);
      const sim = await startSimulatorProcess(['--settle-seconds', '1']);
      const control = async (method: string, path: string, body?: unknown): Promise<any> =>
        (
          await fetch(`${sim.url}/_simulator${path}`, {
            method,
            headers: { 'Content-Type': 'application/json' },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          })
        ).json();
      let served: Awaited<ReturnType<typeof servedAsAdmin>> | null = null;
      let store: Store | null = null;
      try {
        // The bank's deadline is long: the initiation is still in flight when the process dies.
        const bank = cli([
          'bank',
          'add',
          '--standard',
          'berlin-group',
          '--name',
          'Hanging Bank',
          '--base-url',
          sim.url,
          '--country',
          'DE',
          '--profile',
          JSON.stringify({ timeout_ms: 120_000, poll_initial_ms: 300, poll_max_ms: 1000, poll_payer_ms: 300 }),
        ]);
        const client = cli(['client', 'create', '--name', 'Shop', '--redirect-uri', REDIRECT]);
        receiver.secret = cli(['webhook', 'add', '--url', receiver.url, '--event', 'PAYMENT_STATE_UPDATED']).secret_key;
        store = await storeOf(db);
        const serveArgs = [...db.args, '--log-level', 'error', '--job-lease-seconds', '11'];
        served = await servedAsAdmin(serveArgs, client);
        const { call } = served;
        // The bank takes the next initiation and never answers.
        await control('POST', '/faults', [{ kind: 'hang', operation: 'initiatePayment', times: 1 }]);
        const payment = (await call('POST', '/2.0/payments', paymentBody('Hanging'))).json;
        const validation = { connector_uuid: bank.uuid, webview_url: 'https://merchant.example/own', payer: { scheme_name: 'iban', identification: DEBTOR } };
        const cut = call('POST', `/2.0/payments/${payment.id}`, validation).catch(() => null);
        await waitFor(
          'the bank to receive the initiation',
          async () => ((await control('GET', '/received')).initiations.length === 1 ? true : undefined),
          30_000,
        );
        served.server.proc.kill('SIGKILL');
        await exited(served.server.proc);
        expect(await cut).toBeNull(); // no answer: the process died
        const claim = await store.db
          .selectFrom('payments')
          .select(['state', 'state_detail', 'current_attempt_id'])
          .where('id', '=', payment.id)
          .executeTakeFirstOrThrow();
        expect(claim).toMatchObject({ state: 'created', state_detail: 'initiating' });

        await served.restart();
        // The call was recorded before it left: it may have reached the bank, so the initiation is unknown.
        await waitFor(
          'the initiation to be unknown',
          async () => {
            const row = await store!.db.selectFrom('payments').select('state_detail').where('id', '=', payment.id).executeTakeFirstOrThrow();
            return row.state_detail === 'initiation_unknown' ? true : undefined;
          },
          30_000,
        );
        const shown = (await call('GET', `/2.0/payments/${payment.id}`)).json;
        expect(shown).toMatchObject({ state: 'validating', state_detail: 'initiation_unknown' });
        expect(shown.error_description).toMatch(/did not confirm/);
        const first = await store.db.selectFrom('payment_attempts').selectAll().where('id', '=', claim.current_attempt_id!).executeTakeFirstOrThrow();
        expect(first.outcome).toBe('unknown');
        const firstCalls = await store.db.selectFrom('bank_calls').select(['id', 'operation', 'outcome']).where('attempt_id', '=', first.id).execute();
        expect(firstCalls).toEqual([{ id: expect.any(String), operation: 'initiate', outcome: 'unknown' }]);
        await waitFor(
          'the change announced',
          () => (receiver.announced.some((a) => a.id === payment.id && a.state === 'validating') ? true : undefined),
          30_000,
        );
        // Status sync runs meanwhile; Payrail never sends the initiation again.
        await new Promise((r) => setTimeout(r, 2_000));
        const heldOnce = await control('GET', '/received');
        expect(heldOnce.initiations.map((i: { requestId: string }) => i.requestId)).toEqual([firstCalls[0]!.id]);

        // A redirect bank: the payer may start a fresh attempt (a new initiation, a new request id), and approves it.
        const again = await call('POST', `/2.0/payments/${payment.id}`, validation);
        expect(again.status, JSON.stringify(again.json)).toBe(200);
        expect(again.json.action).toBe('redirect');
        const back = await decideAtSimulator(again.json.validate_uri, 'approve');
        expect(back).not.toBeNull();
        const url = new URL(back!);
        await fetch(`${served.server.base}${url.pathname}${url.search}`, { redirect: 'manual' }).then((r) => r.arrayBuffer());
        await waitFor(
          'the payment done',
          async () =>
            (await store!.db.selectFrom('payments').select('state').where('id', '=', payment.id).executeTakeFirstOrThrow()).state === 'done' ? true : undefined,
          30_000,
        );
        const received = await control('GET', '/received');
        expect(received.initiations).toHaveLength(2);
        expect(received.duplicates.requestIds).toEqual([]);
        expect(received.initiations[0].requestId).toBe(firstCalls[0]!.id);
        const attempts = await store.db
          .selectFrom('payment_attempts')
          .select(['number', 'outcome'])
          .where('payment_id', '=', payment.id)
          .orderBy('number')
          .execute();
        expect(attempts).toEqual([
          { number: 1, outcome: 'unknown' },
          { number: 2, outcome: 'ok' },
        ]);
        await expectEveryChangeAnnounced(store, receiver.announced);
      } finally {
        await store?.close();
        await served?.stop();
        sim.proc.kill('SIGTERM');
        await exited(sim.proc);
        await receiver.close();
        await db.cleanup();
      }
    }, 120_000);
  });
}
