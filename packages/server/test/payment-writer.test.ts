/**
 * The payment writer's two ways of writing a change (services/payment-changes.ts): a transaction, and
 * on PostgreSQL one statement when the caller gives the instructions it read with the payment. Both
 * must write the same rows — the payment, the instructions' states, the event rows, the announcement
 * (its body the payment as it is after the change) — and a change of a stale version must write
 * nothing at all.
 */
import { expect, it } from 'vitest';
import { VersionConflict } from '../src/domain/errors.ts';
import { changePayment } from '../src/services/payment-changes.ts';
import { getPayment } from '../src/services/payments.ts';
import { stateChangeBody } from '../src/webhooks/endpoints.ts';
import { bearer, describeEachDb, guideBody } from './support/helpers.ts';

describeEachDb('payment writer', (ctx) => {
  const env = () => ({ db: ctx().store.db, clock: ctx().clock, notifier: ctx().app.payrail.notifier });
  const counts = async (paymentId: number) => {
    const db = ctx().store.db;
    const count = async (table: 'payment_events' | 'webhook_data' | 'webhook_deliveries') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where('payment_id', '=', paymentId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    return { events: await count('payment_events'), data: await count('webhook_data'), deliveries: await count('webhook_deliveries') };
  };

  it('writes the same change with or without the instructions given, and nothing for a stale version', async () => {
    const admin = await ctx().token('payments:admin');
    for (const path of ['/one', '/two']) {
      const created = await ctx().app.inject({
        method: 'POST',
        url: '/2.0/webhooks',
        headers: bearer(admin),
        payload: { url: `http://127.0.0.1:9${path}`, event: 'PAYMENT_STATE_UPDATED' },
      });
      expect(created.statusCode, created.body).toBe(200);
    }
    const body = guideBody('instant');
    body.instructions.push({ ...body.instructions[0]!, label: 'Second' });
    const db = ctx().store.db;
    for (const given of [true, false]) {
      const id = await ctx().createPayment(body);
      const { domain_id: domain } = await db.selectFrom('payments').select('domain_id').where('id', '=', id).executeTakeFirstOrThrow();
      const before = await getPayment(db, domain, id);
      const counted = await counts(id);
      ctx().clock.advance(1000);
      const updated = await changePayment(env(), before.payment, {
        state: 'validating',
        patch: { action: 'redirect', website: 'shop.example' },
        detail: { reason: 'test' },
        instructionStates: ['validating'],
        ...(given ? { instructions: before.instructions } : {}),
      });
      const after = await getPayment(db, domain, id);
      expect(updated).toEqual(after.payment);
      expect(after.payment).toMatchObject({ state: 'validating', action: 'redirect', website: 'shop.example', version: before.payment.version + 1 });
      expect(after.instructions.map((i) => i.state)).toEqual(['validating', before.instructions[1]!.state]);
      expect(await counts(id)).toEqual({ events: counted.events + 1, data: counted.data + 1, deliveries: counted.deliveries + 2 });
      const event = await db.selectFrom('payment_events').selectAll().where('payment_id', '=', id).orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(event).toMatchObject({
        type: 'state_changed',
        from_state: 'created',
        to_state: 'validating',
        data: '{"reason":"test"}',
        created_at: ctx().clock.now(),
      });
      const announced = await db.selectFrom('webhook_data').select('body').where('payment_id', '=', id).orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(announced.body).toBe(stateChangeBody(after.payment, after.instructions));

      // The same change again from the version read before: refused, and nothing of it written.
      await expect(
        changePayment(env(), before.payment, {
          state: 'validating',
          patch: { action: 'redirect' },
          allInstructionsState: 'rejected',
          ...(given ? { instructions: before.instructions } : {}),
        }),
      ).rejects.toBeInstanceOf(VersionConflict);
      expect(await getPayment(db, domain, id)).toEqual(after);
      expect(await counts(id)).toEqual({ events: counted.events + 1, data: counted.data + 1, deliveries: counted.deliveries + 2 });
    }
  });
});
