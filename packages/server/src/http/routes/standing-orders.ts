/**
 * Standing orders: `GET /2.0/payments/{id}/occurrences` (Payrail extension: Powens shows a standing
 * order only as a `pending` payment) and, when `payrail serve --sandbox-clock` enables it, the
 * sandbox clock `GET`/`POST /2.0/sandbox/clock` (admin), which moves time forward and executes
 * what became due at once.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AdjustableClock } from '../../domain/clock.ts';
import { formatDateTime } from '../../domain/dates.ts';
import { invalid } from '../../domain/errors.ts';
import { getPayment } from '../../services/payments.ts';
import { executeDueOccurrences, listOccurrences } from '../../services/standing-orders.ts';
import { principalOf } from '../access.ts';
import { errorResponses } from '../schemas.ts';
import { ADMIN_ONLY } from './admin.ts';
import { ACCESS } from './payments.ts';

const security = [{ bearer: [] }];

const OccurrenceList = Type.Object({
  occurrences: Type.Array(
    Type.Object({
      sequence: Type.Integer({ description: '1 for the occurrence on start_date.' }),
      due_date: Type.String({ description: 'The date the schedule names (YYYY-MM-DD).' }),
      execution_date: Type.String({ description: 'The business day it executes on: due_date, or the next business day of the currency.' }),
      state: Type.Union([Type.Literal('done'), Type.Literal('scheduled')]),
      executed_at: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  total: Type.Integer(),
});

const ClockView = Type.Object({
  now: Type.String({ description: 'The sandbox time, ISO 8601.' }),
  offset_seconds: Type.Integer({ description: 'How far the clock was moved forward in total.' }),
  occurrences_executed: Type.Optional(Type.Integer({ description: 'Standing-order occurrences executed by this move.' })),
});

export const standingOrderRoutes: FastifyPluginAsyncTypebox<{ sandboxClock: AdjustableClock | null }> = async (app, options) => {
  const { store } = app.payrail;

  app.get(
    '/payments/:id/occurrences',
    {
      config: { access: ACCESS.getPayment },
      schema: {
        tags: ['payments'],
        summary: "A standing order's occurrences",
        description:
          'Payrail extension. For a periodic payment: the occurrences executed, then the next ones scheduled while the order is active. Empty for other payments.',
        security,
        params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) }),
        response: { 200: OccurrenceList, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const record = await getPayment(store.db, principal.domainId, Number(request.params.id));
      const first = record.instructions[0]!;
      const occurrences = (await listOccurrences(store.db, record.payment, first)).map((o) => ({
        ...o,
        executed_at: o.executed_at === null ? null : formatDateTime(o.executed_at),
      }));
      return { occurrences, total: occurrences.length };
    },
  );

  const clock = options.sandboxClock;
  if (!clock) return;
  // How far this process's clock was moved through this endpoint (the real time flows on beside it).
  let advancedMs = 0;
  const view = () => ({ now: new Date(clock.now()).toISOString(), offset_seconds: Math.round(advancedMs / 1000) });

  app.get(
    '/sandbox/clock',
    {
      config: { access: ADMIN_ONLY },
      schema: { tags: ['admin'], summary: 'Read the sandbox clock', security, response: { 200: ClockView, ...errorResponses(401, 403) } },
    },
    async () => view(),
  );

  app.post(
    '/sandbox/clock',
    {
      config: { access: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Move the sandbox clock forward',
        description:
          'Only with `payrail serve --sandbox-clock`. Moves time forward by advance_days and/or advance_seconds (never back), then executes every standing-order occurrence that became due; webhooks follow.',
        security,
        body: Type.Object({
          advance_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3660 })),
          advance_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 316_224_000 })),
        }),
        response: { 200: ClockView, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { advance_days: days = 0, advance_seconds: seconds = 0 } = request.body;
      if (days === 0 && seconds === 0) throw invalid('advance_days', 'give advance_days or advance_seconds (> 0)');
      clock.advance((days * 86_400 + seconds) * 1000);
      advancedMs += (days * 86_400 + seconds) * 1000;
      const executed = await executeDueOccurrences(app.payrail.actions(request), 1000);
      return { ...view(), occurrences_executed: executed };
    },
  );
};
