/**
 * Soak test of the bank boundary with real processes (docs/operations.md, "Soak test"): two
 * `payrail serve` processes on one PostgreSQL, `payrail bank simulate` answering every call in
 * 50 ms with a share of its answers failing (503 before processing, dropped connections after
 * processing, accepted and never answered), SOAK_PAYMENTS payments (200 here, 1,000 with
 * `npm run soak`) made and validated by 20 concurrent payers through either process, each payer
 * approving (or one in ten refusing) on the bank's page and coming back; one process killed with
 * SIGKILL half way and started again. Then:
 *
 * - the simulator received no initiation twice (neither an X-Request-ID nor a body);
 * - no request was answered 5xx;
 * - every payment reached a final state, or a clearly reported unknown initiation (validating,
 *   state_detail initiationUnknown, its error_description telling the payer), or is `created` and
 *   free to validate (the killed process's claims ended); and once the sandbox clock of both
 *   processes passes the payments' expiry, every payment is final;
 * - every state change of every payment was announced by a webhook whose signature verifies.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { FINAL_STATES, STATE_DETAIL } from '../src/domain/states.ts';
import { decideAtSimulator, startSimulatorProcess } from './e2e/bg-stack.ts';
import { BIN, exited, startServe, startWebhookReceiver, waitFor } from './support/processes.ts';

const PAYMENTS = Number(process.env.SOAK_PAYMENTS ?? 200);
const PAYERS = 20;
const DEBTOR = 'DE02100100109307118603';
const CREDITOR = 'FR7630006000011234567890189';
const REDIRECT = 'https://merchant.example/payment/return';
const FINAL: readonly string[] = [...FINAL_STATES];
/** The faults: one initiation in 23 answered 503 before processing, one in 29 dropped after it, one in 37 accepted and never answered; status reads fail too. */
const FAULTS = [
  { kind: 'latency', latencyMs: 50, times: 0 },
  { kind: 'error', status: 503, operation: 'initiatePayment', every: 23, times: 0 },
  { kind: 'drop', operation: 'initiatePayment', afterProcessing: true, every: 29, times: 0 },
  { kind: 'hang', operation: 'initiatePayment', every: 37, times: 0 },
  { kind: 'error', status: 503, operation: 'getPaymentInitiationStatus', every: 19, times: 0 },
  { kind: 'drop', operation: 'getPaymentInitiationStatus', every: 31, times: 0 },
];

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const pgUrl = inject('pgUrl');
describe.runIf(pgUrl)('soak: banks that fail under load, two processes, one killed', () => {
  it(
    `ends ${PAYMENTS} payments validated by ${PAYERS} payers with nothing sent twice, no 5xx and every change announced`,
    async () => {
      const started = Date.now();
      const name = `payrail_soak_${randomBytes(4).toString('hex')}`;
      await adminQuery(pgUrl!, `create database ${name}`);
      const dbUrl = new URL(pgUrl!);
      dbUrl.pathname = `/${name}`;
      const db = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
      // The database is dropped WITH (FORCE) at the end: a connection still closing then gets 57P01, which is no failure.
      db.on('error', () => undefined);
      const args = ['--database-url', dbUrl.toString()];
      const cli = (extra: string[]) => {
        const result = spawnSync(process.execPath, [BIN, ...extra, ...args, '--json'], { encoding: 'utf8', timeout: 60_000 });
        if (result.status !== 0) throw new Error(`payrail ${extra.join(' ')} exited ${result.status}: ${result.stderr}`);
        return JSON.parse(result.stdout);
      };

      // The webhook receiver: every announcement, with its signature checked.
      const receiver = await startWebhookReceiver();
      const { announced } = receiver;

      const sim = await startSimulatorProcess(['--settle-seconds', '1']);
      const control = async (method: string, path: string, body?: unknown): Promise<any> =>
        (
          await fetch(`${sim.url}/_simulator${path}`, {
            method,
            headers: { 'Content-Type': 'application/json' },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          })
        ).json();
      const servers: { proc: ChildProcess; base: string; alive: boolean }[] = [];
      try {
        const bank = cli([
          'bank',
          'add',
          '--standard',
          'berlin-group',
          '--name',
          'Soak Bank',
          '--base-url',
          sim.url,
          '--country',
          'DE',
          '--profile',
          JSON.stringify({ timeout_ms: 1500, poll_initial_ms: 500, poll_max_ms: 2000 }),
        ]);
        const client = cli(['client', 'create', '--name', 'Soak shop', '--redirect-uri', REDIRECT]);
        receiver.secret = cli(['webhook', 'add', '--url', receiver.url, '--event', 'PAYMENT_STATE_UPDATED']).secret_key;
        const serveArgs = [...args, '--log-level', 'error', '--sandbox-clock', '--job-lease-seconds', '12'];
        for (let i = 0; i < 2; i++) servers.push({ ...(await startServe(serveArgs)), alive: true });
        await control('POST', '/faults', FAULTS);

        // What the payers saw: every answer of Payrail, and requests cut by the kill.
        const answers: { status: number; at: number; what: string }[] = [];
        let cut = 0;
        let failedPayers = 0;
        const serverFor = (n: number) => (servers[n % 2]!.alive ? servers[n % 2]! : servers[(n + 1) % 2]!);
        const once = async (server: (typeof servers)[number], method: string, path: string, body: unknown, headers: Record<string, string>) => {
          const response = await fetch(`${server.base}${path}`, {
            method,
            redirect: 'manual',
            headers: { 'content-type': 'application/json', ...headers },
            ...(body ? { body: JSON.stringify(body) } : {}),
            signal: AbortSignal.timeout(30_000),
          });
          answers.push({ status: response.status, at: Date.now(), what: `${method} ${path.replace(/\d+/g, '{id}')}` });
          const text = await response.text();
          return {
            status: response.status,
            json: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null,
            location: response.headers.get('location'),
          };
        };
        /** A request through the load balancer: a request the kill cut is sent once more to a process that is up. */
        const call = async (n: number, method: string, path: string, body?: unknown, token?: string, key?: string) => {
          const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(key ? { 'idempotency-key': key } : {}) };
          try {
            return await once(serverFor(n), method, path, body, headers);
          } catch {
            cut++;
            await waitFor('a process up', () => (servers.some((s) => s.alive) ? true : undefined));
            return once(serverFor(n), method, path, body, headers);
          }
        };
        const tokenOf = async () =>
          (
            await call(0, 'POST', '/2.0/auth/token', {
              grant_type: 'client_credentials',
              client_id: client.client_id,
              client_secret: client.client_secret,
              scope: 'payments:admin',
            })
          ).json.token as string;
        const token = await tokenOf();

        /** One payer: the payment, its validation, the bank's page (approve; one in ten refuses), the way back. */
        const pay = async (n: number) => {
          const created = await call(
            n,
            'POST',
            '/2.0/payments',
            {
              client_redirect_uri: REDIRECT,
              instructions: [
                {
                  label: `Soak ${n}`,
                  amount: '12.34',
                  currency: 'EUR',
                  execution_date_type: 'instant',
                  beneficiary: { scheme_name: 'iban', identification: CREDITOR, label: 'ACME' },
                },
              ],
            },
            token,
            `soak-${n}`,
          );
          if (created.status !== 200) return;
          const validated = await call(
            n,
            `POST`,
            `/2.0/payments/${created.json.id}`,
            { connector_uuid: bank.uuid, webview_url: 'https://merchant.example/own', payer: { scheme_name: 'iban', identification: DEBTOR } },
            token,
          );
          if (validated.status !== 200 || validated.json.action !== 'redirect') return;
          const back = await decideAtSimulator(validated.json.validate_uri, n % 10 === 9 ? 'refuse' : 'approve');
          if (!back) return;
          // The payer comes back through the load balancer: to whichever process is up.
          const url = new URL(back);
          await call(n, 'GET', `${url.pathname}${url.search}`);
        };

        let next = 0;
        let killedAt = 0;
        let restartedAt = 0;
        let restart: Promise<void> | null = null;
        await Promise.all(
          Array.from({ length: PAYERS }, async () => {
            while (next < PAYMENTS) {
              const n = next++;
              if (n === Math.floor(PAYMENTS / 2)) {
                // Half way: SIGKILL the first process in the middle of the burst, and start it again.
                servers[0]!.proc.kill('SIGKILL');
                servers[0]!.alive = false;
                killedAt = Date.now();
                restart = exited(servers[0]!.proc).then(async () => {
                  const again = await startServe(serveArgs);
                  servers[0] = { ...again, alive: true };
                  restartedAt = Date.now();
                });
              }
              await pay(n).catch(() => void failedPayers++);
            }
          }),
        );
        await restart;
        expect(servers[0]!.proc.exitCode === null && restartedAt > killedAt).toBe(true);
        const burstSeconds = (Date.now() - started) / 1000;

        // The simulator: no initiation received twice.
        const received = await control('GET', '/received');
        expect(received.duplicates).toEqual({ requestIds: [], bodyHashes: [] });
        // No request answered 5xx (the killed process's requests fail without an answer).
        expect(answers.filter((a) => a.status >= 500)).toEqual([]);

        const payments = async () =>
          (
            await db.query<{ id: number; state: string; state_detail: string | null; error_description: string | null }>(
              'select id, state, state_detail, error_description from payments order by id',
            )
          ).rows;
        const settled = (p: { state: string; state_detail: string | null }) => FINAL.includes(p.state) || p.state_detail === STATE_DETAIL.initiationUnknown;
        // Status sync brings every approved or refused payment to its final state (the settlement takes a second);
        // the killed process's claims end once its lease has passed (docs/operations.md, "After a crash").
        const initiating = (p: { state_detail: string | null }) => p.state_detail === STATE_DETAIL.initiating;
        await waitFor(
          'every payment final, clearly unknown or created (free to validate)',
          async () => ((await payments()).every((p) => settled(p) || (p.state === 'created' && !initiating(p))) ? true : undefined),
          30_000,
        ).catch(() => undefined);
        const before = await payments();
        const count = (f: (p: (typeof before)[number]) => boolean) => before.filter(f).length;
        const figures = {
          payments: before.length,
          done: count((p) => p.state === 'done' || p.state === 'accepted'),
          rejected: count((p) => p.state === 'rejected'),
          unknown: count((p) => p.state_detail === STATE_DETAIL.initiationUnknown),
          created: count((p) => p.state === 'created'),
          initiating: count(initiating),
          other: count((p) => !settled(p) && p.state !== 'created'),
        };
        const otherRows = (
          await db.query(
            "select p.state, p.state_detail, p.action, a.sync_failures, count(*)::int as n from payments p left join payment_attempts a on a.id = p.current_attempt_id where p.state not in ('done','rejected','expired','accepted') group by 1,2,3,4",
          )
        ).rows;
        for (const p of before.filter((p) => p.state_detail === STATE_DETAIL.initiationUnknown)) expect(p.error_description).toMatch(/did not confirm/);
        // No claim outlives the process that made it.
        expect(figures.initiating).toBe(0);

        // Past the payments' expiry (30 days by default) on both processes' sandbox clocks: every payment is final.
        const adminToken = await tokenOf();
        for (const server of servers) {
          const moved = await fetch(`${server.base}/2.0/sandbox/clock`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
            body: JSON.stringify({ advance_days: 31 }),
          });
          expect(moved.status).toBe(200);
        }
        await waitFor('every payment final', async () => ((await payments()).every((p) => FINAL.includes(p.state)) ? true : undefined), 90_000);

        // Every state change announced by a signed webhook.
        const changes = (
          await db.query<{ payment_id: number; to_state: string }>("select payment_id, to_state from payment_events where type = 'state_changed'")
        ).rows;
        await waitFor(
          'every change announced',
          () => (changes.every((c) => announced.some((a) => a.id === Number(c.payment_id) && a.state === c.to_state)) ? true : undefined),
          60_000,
        );
        expect(announced.every((a) => a.verified)).toBe(true);
        console.log(
          `soak: ${PAYMENTS} payments, ${PAYERS} payers, burst ${burstSeconds.toFixed(1)} s; ${JSON.stringify(figures)} before the expiry (${JSON.stringify(otherRows)}); ` +
            `${received.initiations.length} initiations received, none twice; ${answers.length} answers, none 5xx; ${cut} requests cut by the kill and sent again, ${failedPayers} payers gave up ` +
            `(down ${((restartedAt - killedAt) / 1000).toFixed(1)} s); ${changes.length} state changes, ${announced.length} webhooks, all signed; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
        );
      } finally {
        for (const server of servers) {
          if (server.proc.exitCode === null && !server.proc.signalCode) {
            server.proc.kill('SIGTERM');
            await exited(server.proc);
          }
        }
        sim.proc.kill('SIGTERM');
        await exited(sim.proc);
        await receiver.close();
        await db.end();
        await adminQuery(pgUrl!, `drop database if exists ${name} with (force)`);
      }
    },
    300_000 + PAYMENTS * 1_500,
  );
});
