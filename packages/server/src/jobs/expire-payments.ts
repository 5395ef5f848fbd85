/**
 * Expiry (docs/reference/powens-pay-api.md §5.1, §6.2): a payment with no final state `payment.manual_expire_time_days` days
 * after its relevant date (its execution date when it has one, else its creation) becomes expired.
 */
import { expectedExecutionDate } from '../domain/calendar.ts';
import { utcDate } from '../domain/dates.ts';
import { getConfig } from '../services/config.ts';
import { type ChangeEnvironment, changePayment } from '../services/payment-changes.ts';
import type { JobEnvironment } from './environment.ts';

const DAY_MS = 24 * 3600 * 1000;

/** `env.actions`: the services' environment (its notifier wakes the webhook delivery for each expiry). */
export async function expireDuePayments(env: JobEnvironment & { actions: ChangeEnvironment }, limit = 500): Promise<number> {
  const now = env.clock.now();
  const domains = await env.db.selectFrom('domains').select('id').execute();
  let expired = 0;
  for (const { id: domainId } of domains) {
    const days = Number((await getConfig(env.db, domainId))['payment.manual_expire_time_days']);
    const cutoff = now - days * DAY_MS;
    const candidates = await env.db
      .selectFrom('payments')
      .selectAll()
      .where('domain_id', '=', domainId)
      .where('state', 'in', ['created', 'validating', 'pending'])
      .where('register_date', '<=', cutoff)
      .orderBy('register_date')
      .limit(limit)
      .execute();
    const firsts = candidates.length
      ? await env.db
          .selectFrom('payment_instructions')
          .select(['payment_id', 'execution_date', 'start_date'])
          .where(
            'payment_id',
            'in',
            candidates.map((p) => p.id),
          )
          .where('position', '=', 0)
          .execute()
      : [];
    const firstOf = new Map(firsts.map((i) => [i.payment_id, i]));
    for (const payment of candidates) {
      const first = firstOf.get(payment.id);
      const relevant = expectedExecutionDate(
        payment.execution_date_type,
        utcDate(payment.register_date),
        payment.currency,
        first?.execution_date ?? null,
        first?.start_date ?? null,
      );
      if (Date.parse(`${relevant}T00:00:00Z`) > cutoff) continue;
      try {
        await changePayment(env.actions, payment, {
          state: 'expired',
          patch: {
            action: null,
            validate_uri: null,
            fields: null,
            error_code: payment.state === 'created' ? 'noAnswerFromCustomer' : null,
            error_description: `No final status after ${days} days.`,
          },
          detail: { by: 'expiry', days },
          source: 'background',
        });
        expired++;
      } catch (error) {
        env.log?.('warn', 'expiry skipped a payment that changed meanwhile', { payment: payment.id, error: (error as Error).message });
      }
    }
  }
  return expired;
}
