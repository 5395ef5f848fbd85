/**
 * The conformance kit (ARCHITECTURE.md, "The bank boundary"): one vitest suite every connector passes, parameterised by the
 * connector and a driver of its far side (the test bank's page, or a standard's simulator with its
 * Approve/Refuse buttons and injectable faults). It drives Payrail only through its public API, the
 * payer's return and the status-sync job, on every database, and checks:
 *
 *   flow       initiate → redirect or decoupled → return → sync → final
 *   refused    the payer refuses at the bank → rejected with the connector's error code
 *   unknown    an answer lost on the way back → nothing final, nothing sent twice → resolved by the next sync
 *   cancel     a pending payment cancelled through the API reaches the bank → rejected CancelledByClient
 *              (a standard without cancellation: notSupported, and the payment is paid)
 *   retry      retried API calls (same Idempotency-Key, replayed and concurrent validations) never
 *              double the payment at the bank (the far side counts the initiations it received)
 */
import type { FastifyRequest } from 'fastify';
import { afterAll, expect, it } from 'vitest';
import { CONNECTOR_MODULES } from '../../src/connectors/modules.ts';
import { syncDuePayments } from '../../src/jobs/sync-payments.ts';
import { addBank, type BankInput } from '../../src/services/banks.ts';
import type { ActionEnvironment } from '../../src/services/payment-actions.ts';
import { bearer, describeEachDb, REDIRECT_URI, type TestContext } from '../support/helpers.ts';
import type { Prism } from '../support/prism.ts';

export type Decision = 'approve' | 'refuse';
export type CaseName = 'flow' | 'refused' | 'unknown-status' | 'unknown-initiation' | 'cancel' | 'retry';

export interface FarSide {
  connectorUuid: string;
  /** How the payer approves: at the bank's page (`redirect`) or in the bank's app (`decoupled`). */
  flow: 'redirect' | 'decoupled';
  /** A `POST /payments` body: one the bank settles soon after approval, or one it can still cancel once approved (e.g. dated). */
  paymentBody(kind: 'settles' | 'cancellable'): Record<string, unknown>;
  /** A `POST /payments/{id}` body that validates with this connector (`webview_url`, fields, payer…). */
  validateBody(): Record<string, unknown>;
  /** As the payer's browser: the bank's page behind `validate_uri`, the answer, and the bank's redirect back to Payrail. */
  payerAtBank(validateUri: string, decision: Decision): Promise<void>;
  /** As the payer's phone (decoupled): approve or refuse in the bank's app. */
  payerInApp?(paymentId: number, decision: Decision): Promise<void>;
  /** Time passes at the bank (it settles approved payments) and in Payrail (the next sync is due). */
  settle(): Promise<void>;
  /** Initiations the bank has received so far (all payments). */
  initiations(): Promise<number>;
  /**
   * The bank acts on calls of this operation but their answers never reach Payrail: the next
   * initiation, or every status call until `restoreAnswers`. Absent: this far side cannot lose answers.
   */
  loseAnswers?(operation: 'initiate' | 'status'): Promise<void>;
  restoreAnswers?(): Promise<void>;
  /** Payments the bank has executed (settled) so far; needed with `loseAnswers('initiate')`. */
  executed?(): Promise<number>;
  /**
   * Whether a pending payment's cancellation needs the payer's approval at the bank, or is not
   * offered by the standard at all (UK Open Banking): then the API answers `notSupported` and the
   * payment goes on to be paid.
   */
  cancellation: 'immediate' | 'approval' | 'unsupported';
  /** The error code a refusal at the bank ends with. */
  refusedErrorCode: string;
  /** Checks made after every case (e.g. that Prism, between Payrail and the bank, saw no violation). */
  afterCase?(): Promise<void>;
  /** Stops what the far side started (after the suite's cases on one database). */
  close?(): Promise<void>;
}

/** A standard's simulator settles an approved payment this long after it (`settleAfterMs`). */
export const SIM_SETTLE_MS = 4_000;
/** The simulated banks' longest status poll (profile `poll_max_ms`). */
export const SIM_POLL_MAX_MS = 10_000;

/** Adds a bank as `payrail bank add` does (its key material sealed with the app's keyring) and has the app's connectors see it. */
export async function addSimulatedBank(t: TestContext, input: BankInput) {
  const bank = await addBank({ db: t.store.db, clock: t.clock, keyring: t.app.payrail.keyring, modules: CONNECTOR_MODULES }, input);
  t.app.payrail.connectors.invalidate();
  return bank;
}

/**
 * The part of a far side every standard's simulator shares: time passes past its settling and the
 * longest poll; its faults cleared; with `prism` (`proxy --errors`, the standard's file) between
 * Payrail and the bank, every case fails on any violation it logged meanwhile, in either direction;
 * both stopped at the end.
 */
export function simulatorFarSide(
  t: TestContext,
  sim: { faults: { clear(): void }; close(): Promise<void> },
  prism: Prism | null,
  standard: string,
): Pick<FarSide, 'settle' | 'restoreAnswers' | 'afterCase' | 'close'> {
  let mark = prism?.mark() ?? 0;
  return {
    async settle() {
      t.clock.advance(Math.max(SIM_SETTLE_MS, SIM_POLL_MAX_MS) + 1);
    },
    async restoreAnswers() {
      sim.faults.clear();
    },
    async afterCase() {
      if (!prism) return;
      await new Promise((resolve) => setTimeout(resolve, 200)); // Prism logs a response's validation just after answering
      const problems = prism.problems(mark);
      mark = prism.mark();
      if (problems.length) throw new Error(`Prism saw exchanges that break ${standard}:\n${problems.join('\n')}`);
    },
    async close() {
      await prism?.stop();
      await sim.close();
    },
  };
}

export interface ConformanceOptions {
  /** Options of the app under test (e.g. the test connector's step length). */
  appOptions?: Parameters<typeof describeEachDb>[2];
  /** At most this many settle+sync rounds before a payment must be final. */
  maxRounds?: number;
}

/** The cases a far side can run: `unknown-*` need its faults. Reported by the suite's names. */
export function casesFor(far: Pick<FarSide, 'loseAnswers' | 'executed'>): CaseName[] {
  const cases: CaseName[] = ['flow', 'refused', 'cancel', 'retry'];
  if (far.loseAnswers) cases.push('unknown-status');
  if (far.loseAnswers && far.executed) cases.push('unknown-initiation');
  return cases;
}

/** The environment the background jobs get in `payrail serve`, as the app builds it. */
export function jobEnvironment(t: TestContext): Parameters<typeof syncDuePayments>[0] {
  const actions: ActionEnvironment = t.app.payrail.actions({ protocol: 'http', host: 'localhost:80' } as FastifyRequest);
  return { db: t.store.db, dialect: t.store.dialect, clock: t.clock, actions };
}

/**
 * Registers the suite for one connector. `farSide` is built once per database (after the app),
 * `capabilities` says which cases it supports without building it (the suite's shape is static).
 */
export function conformanceSuite(
  name: string,
  capabilities: { faults: boolean },
  farSide: (t: TestContext) => Promise<FarSide>,
  options: ConformanceOptions = {},
): void {
  describeEachDb(
    `conformance: ${name}`,
    (ctx) => {
      let far: FarSide | undefined;
      const side = async () => (far ??= await farSide(ctx()));
      afterAll(async () => {
        await far?.close?.();
      });
      const maxRounds = options.maxRounds ?? 12;

      let adminToken: { token: string; at: number } | null = null;
      const admin = async () => {
        if (!adminToken || ctx().clock.now() - adminToken.at > 10 * 60_000) adminToken = { token: await ctx().token('payments:admin'), at: ctx().clock.now() };
        return adminToken.token;
      };
      const read = async (id: number) => (await ctx().app.inject({ url: `/2.0/payments/${id}`, headers: bearer(await admin()) })).json();
      const validate = async (id: number) => {
        const token = await ctx().scopedToken(id);
        return ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(token), payload: (await side()).validateBody() });
      };
      const sync = () => syncDuePayments(jobEnvironment(ctx()));
      /** The recorded outcomes of a payment's bank calls of one operation. */
      const attempts = async (id: number, operation: string) =>
        (
          await ctx()
            .store.db.selectFrom('bank_calls')
            .select('outcome')
            .where('payment_id', '=', id)
            .where('operation', '=', operation)
            .orderBy('started_at')
            .execute()
        ).map((a) => a.outcome);
      const FINAL = ['done', 'accepted', 'rejected', 'partial', 'expired'];
      /** A case, followed by the far side's own checks. */
      const check = (title: string, body: () => Promise<void>) =>
        it(title, async () => {
          await body();
          await (await side()).afterCase?.();
        });

      /** Settles and syncs until the payment is final (bounded). */
      async function untilFinal(id: number) {
        for (let round = 0; round < maxRounds; round++) {
          const payment = await read(id);
          if (FINAL.includes(payment.state)) return payment;
          await (await side()).settle();
          await sync();
        }
        return read(id);
      }

      /** Validates and gets the payer through the bank's SCA. */
      async function approveNew(decision: Decision = 'approve', kind: 'settles' | 'cancellable' = 'settles') {
        const f = await side();
        const id = await ctx().createPayment(f.paymentBody(kind));
        return approve(id, decision);
      }

      async function approve(id: number, decision: Decision) {
        const f = await side();
        const response = await validate(id);
        expect(response.statusCode, response.body).toBe(200);
        const validating = response.json();
        expect(validating.state).toBe('validating');
        expect(validating.action).toBe(f.flow);
        if (f.flow === 'redirect') {
          expect(validating.validate_uri).toMatch(/^https?:\/\//);
          await f.payerAtBank(validating.validate_uri, decision);
        } else {
          await f.payerInApp!(id, decision);
          const token = await ctx().scopedToken(id);
          const resumed = await ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(token), payload: { resume: true } });
          expect(resumed.statusCode, resumed.body).toBe(200);
        }
        return id;
      }

      check('flow: initiate → redirect or decoupled → return → sync → done', async () => {
        const before = await (await side()).initiations();
        const id = await approveNew('approve');
        const back = await read(id);
        expect(['pending', 'done', 'accepted']).toContain(back.state);
        const final = await untilFinal(id);
        expect(final).toMatchObject({ state: 'done', error_code: null });
        expect(final.validate_date).not.toBeNull();
        expect(await (await side()).initiations()).toBe(before + 1);
      });

      check('refused: the payer refuses at the bank → rejected with the mapped error code', async () => {
        const id = await approveNew('refuse');
        const final = await untilFinal(id);
        expect(final).toMatchObject({ state: 'rejected', error_code: (await side()).refusedErrorCode });
        expect(final.error_description).toEqual(expect.any(String));
      });

      check('cancel: a pending payment cancelled through the API is cancelled at the bank', async () => {
        const f = await side();
        const id = await approveNew('approve', 'cancellable');
        expect((await read(id)).state).toBe('pending');
        const token = await ctx().scopedToken(id, ['payments:cancel']);
        const response = await ctx().app.inject({
          method: 'POST',
          url: `/2.0/payments/${id}`,
          headers: bearer(token),
          payload: { cancel: true, client_redirect_uri: REDIRECT_URI },
        });
        if (f.cancellation === 'unsupported') {
          expect(response.statusCode, response.body).toBe(400);
          expect(response.json().code).toBe('notSupported');
          expect(await untilFinal(id)).toMatchObject({ state: 'done' });
          return;
        }
        expect(response.statusCode, response.body).toBe(200);
        if (f.cancellation === 'approval') {
          expect(response.json()).toMatchObject({ state: 'pending', state_detail: 'cancelling', validate_uri: expect.stringMatching(/^https?:\/\//) });
          await f.payerAtBank(response.json().validate_uri, 'approve');
        }
        const final = await untilFinal(id);
        expect(final).toMatchObject({ state: 'rejected', error_code: 'CancelledByClient' });
        // Settling further changes nothing: the bank does not execute a cancelled payment.
        await f.settle();
        await sync();
        expect((await read(id)).state).toBe('rejected');
      });

      check('retry: the same Idempotency-Key and replayed or concurrent validations never double the payment at the bank', async () => {
        const f = await side();
        const key = `conformance-${ctx().dialect}-${Date.now()}`;
        const create = async () =>
          ctx().app.inject({
            method: 'POST',
            url: '/2.0/payments',
            headers: { ...bearer(await admin()), 'idempotency-key': key },
            payload: f.paymentBody('settles'),
          });
        const first = await create();
        const second = await create();
        expect(first.statusCode, first.body).toBe(200);
        expect(second.json().id).toBe(first.json().id);
        const id = first.json().id as number;
        const before = await f.initiations();
        const answers = await Promise.all([validate(id), validate(id), validate(id)]);
        expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
        for (const a of answers.filter((x) => x.statusCode !== 200)) expect(a.statusCode).toBeLessThan(500);
        const replay = await validate(id);
        expect(replay.statusCode).toBe(409);
        expect(replay.json().code).toBe('invalidState');
        expect(await f.initiations()).toBe(before + 1);
      });

      if (capabilities.faults) {
        check('unknown: a status answer lost on the way back leaves the payment unfinished, and the next sync resolves it', async () => {
          const f = await side();
          const id = await approveNew('approve');
          await f.loseAnswers!('status');
          await f.settle();
          await sync();
          const during = await read(id);
          expect(['validating', 'pending']).toContain(during.state);
          expect(await attempts(id, 'status')).toContain('unknown');
          await f.restoreAnswers!();
          const final = await untilFinal(id);
          expect(final).toMatchObject({ state: 'done' });
        });

        check("unknown: an initiation whose answer is lost is never sent again; on a redirect bank the payer's fresh attempt pays once", async () => {
          const f = await side();
          const before = { initiations: await f.initiations(), executed: await f.executed!() };
          const id = await ctx().createPayment(f.paymentBody('settles'));
          await f.loseAnswers!('initiate');
          const response = await validate(id);
          expect(response.statusCode, response.body).toBe(200);
          expect(response.json()).toMatchObject({
            state: 'validating',
            action: null,
            state_detail: 'initiation_unknown',
            error_description: expect.any(String),
          });
          expect(await f.initiations()).toBe(before.initiations + 1);
          expect(await attempts(id, 'initiate')).toEqual(['unknown']);
          // Status sync never re-sends it.
          for (let round = 0; round < 3; round++) {
            await f.settle();
            await sync();
          }
          expect(await f.initiations()).toBe(before.initiations + 1);
          expect((await read(id)).state).toBe('validating');
          if (f.flow === 'redirect') {
            // Nothing executes without the payer's SCA: the payer may start afresh, and pays once.
            await approve(id, 'approve');
            expect(await untilFinal(id)).toMatchObject({ state: 'done' });
            expect(await f.initiations()).toBe(before.initiations + 2);
            expect(await f.executed!()).toBe(before.executed + 1);
          } else {
            const again = await validate(id);
            expect(again.statusCode).toBe(409);
            expect(await f.initiations()).toBe(before.initiations + 1);
          }
        });
      }
    },
    options.appOptions ?? {},
  );
}
