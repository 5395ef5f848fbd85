/**
 * Validations take turns (services/turns.ts) through the API: the work before the bank call waits for
 * the turn, a refused validation gives it back, the answer is applied in a turn of its own, and
 * /metrics counts how the turns began. Why turns exist and what they bought: docs/performance.md.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../src/connectors/berlin-group/simulator/index.ts';
import { CONNECTOR_MODULES } from '../src/connectors/modules.ts';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { addBank } from '../src/services/banks.ts';
import { bearer, describeEachDb, guideBody } from './support/helpers.ts';

const VALIDATE = { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/own' };

type Counts = Record<'before' | 'after', { free: number; handed: number; expired: number }>;

/** payrail_validation_turns_total by phase and by how the turn began. */
async function turnCounts(inject: (path: string) => Promise<{ body: string }>): Promise<Counts> {
  const text = (await inject('/metrics')).body;
  const counts: Counts = { before: { free: 0, handed: 0, expired: 0 }, after: { free: 0, handed: 0, expired: 0 } };
  for (const m of text.matchAll(/^payrail_validation_turns_total\{phase="(before|after)",start="(free|handed|expired)"\} (\d+)$/gm))
    counts[m[1] as 'before' | 'after'][m[2] as 'free' | 'handed' | 'expired'] = Number(m[3]);
  return counts;
}

/** Turns taken in `phase` between two readings. */
const taken = (before: Counts, after: Counts, phase: 'before' | 'after') =>
  after[phase].free - before[phase].free + after[phase].handed - before[phase].handed + after[phase].expired - before[phase].expired;

const FREE = { before: { held: false, waiting: 0 }, after: { held: false, waiting: 0 } };

describeEachDb(
  'validation turns',
  (ctx) => {
    const metrics = () => turnCounts((url) => ctx().app.inject({ method: 'GET', url }));
    const validate = async (id: number, body: object = VALIDATE) =>
      ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(await ctx().token('payments:admin')), payload: body });
    const turnsNow = () => ({ before: ctx().app.payrail.turns.before.state, after: ctx().app.payrail.turns.after.state });
    const attempts = async (id: number) => (await ctx().store.db.selectFrom('payment_attempts').select('id').where('payment_id', '=', id).execute()).length;

    let sim: BerlinGroupSimulator;
    beforeAll(async () => {
      sim = await startBerlinGroupSimulator({ clock: ctx().clock });
    });
    afterAll(async () => {
      await sim.close();
    });

    it('a validation does nothing before its turn, and goes on once the turn is passed to it', async () => {
      const id = await ctx().createPayment();
      const held = await ctx().app.payrail.turns.before.take();
      const answer = validate(id);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await attempts(id)).toBe(0); // no claim, no attempt, nothing sent: it waits for its turn
      expect(ctx().app.payrail.turns.before.state).toEqual({ held: true, waiting: 1 });
      held.end();
      const response = await answer;
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ state: 'validating' });
      expect(await attempts(id)).toBe(1);
      expect(turnsNow()).toEqual(FREE);
    });

    it('each validation takes a turn before its bank call and one after it; a refused one gives its turn back', async () => {
      const before = await metrics();
      const ids = await Promise.all(Array.from({ length: 6 }, () => ctx().createPayment()));
      for (const id of ids) expect((await validate(id)).statusCode).toBe(200);
      const after = await metrics();
      expect(taken(before, after, 'before')).toBe(6);
      expect(taken(before, after, 'after')).toBe(6);
      expect(after.before.expired + after.after.expired).toBe(before.before.expired + before.after.expired);

      // Refused before the bank call (unknown connector, a payment no longer created, an unknown payment): the turn is free again.
      const refused = [
        await validate(ids[0]!), // validating already: 409
        await validate(await ctx().createPayment(), { ...VALIDATE, connector_uuid: '00000000-0000-4000-8000-000000000000' }),
        await validate(99_999_999),
      ];
      expect(refused.map((r) => r.statusCode)).toEqual([409, 400, 404]);
      expect(turnsNow()).toEqual(FREE);
      const more = await ctx().createPayment();
      const started = performance.now();
      expect((await validate(more)).statusCode).toBe(200);
      expect(performance.now() - started).toBeLessThan(30_000); // a turn left held would make it wait the whole 60 s
    });

    it('the turn ends once the bank call is recorded, not when the bank answers: a slow bank holds up no other validation', async () => {
      const c = ctx();
      const bank = await addBank(
        { db: c.store.db, clock: c.clock, keyring: c.app.payrail.keyring, modules: CONNECTOR_MODULES },
        { name: `Slow bank ${c.dialect}`, standard: 'berlin-group', base_url: sim.url, country: 'DE', profile: { timeout_ms: 20_000 } },
      );
      c.app.payrail.connectors.invalidate();
      const SLOW_MS = 3_000;
      sim.faults.add({ kind: 'latency', operation: 'initiatePayment', latencyMs: SLOW_MS, times: 0 });
      try {
        const payer = { scheme_name: 'iban', identification: 'DE02100100109307118603' };
        const ids = await Promise.all(Array.from({ length: 4 }, () => c.createPayment(guideBody('instant', { payer }))));
        const token = await c.token('payments:admin');
        const before = sim.received.count('initiatePayment');
        const started = performance.now();
        const answers = Promise.all(
          ids.map((id) =>
            c.app.inject({
              method: 'POST',
              url: `/2.0/payments/${id}`,
              headers: bearer(token),
              payload: { connector_uuid: bank.uuid, webview_url: 'https://merchant.example/own' },
            }),
          ),
        );
        // All four initiations reach the bank while it still holds the first: none waited for another's answer.
        while (sim.received.count('initiatePayment') - before < 4) {
          expect(performance.now() - started).toBeLessThan(SLOW_MS - 500);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(turnsNow()).toEqual(FREE);
        for (const answer of await answers) expect(answer.json(), answer.body).toMatchObject({ state: 'validating', action: 'redirect' });
        expect(performance.now() - started).toBeLessThan(2 * SLOW_MS);
      } finally {
        sim.faults.clear();
      }
    });

    it('validations sent together are all answered, in turns, and leave the turns free', async () => {
      const before = await metrics();
      const ids = await Promise.all(Array.from({ length: 12 }, () => ctx().createPayment()));
      const token = await ctx().token('payments:admin');
      const answers = await Promise.all(
        ids.map((id) => ctx().app.inject({ method: 'POST', url: `/2.0/payments/${id}`, headers: bearer(token), payload: VALIDATE })),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(ids.map(() => 200));
      expect(new Set(answers.map((a) => a.json().state))).toEqual(new Set(['validating']));
      const after = await metrics();
      expect(after.before.handed - before.before.handed).toBeGreaterThan(0); // some waited for the one before
      expect(taken(before, after, 'before')).toBe(12);
      expect(taken(before, after, 'after')).toBe(12);
      expect(turnsNow()).toEqual(FREE);
    });
  },
  // A long wait: a turn never passed on would show as a 60 s wait, not 5 ms.
  { validationTurnMs: 60_000, probes: { metrics: 'open' } },
);
