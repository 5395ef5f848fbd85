/** Test harness: the same tests on every database (SQLite and PostgreSQL), over in-process HTTP. */
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { type BankTransport, type CallRecord, createBankHttp } from '../../src/connectors/kit/http.ts';
import type { ConnectorContext, ConnectorPayment } from '../../src/connectors/kit/types.ts';
import { type AppOptions, buildApp, type PayrailApp } from '../../src/http/app.ts';
import { attemptRecorder, settleCalls } from '../../src/services/attempts.ts';
import { createClient, type CreatedClient } from '../../src/services/clients.ts';
import { consentVault } from '../../src/services/consent-vault.ts';
import { connectorPayment } from '../../src/services/payment-actions.ts';
import { getPayment } from '../../src/services/payments.ts';
import type { Dialect, Store } from '../../src/store/db.ts';
import { openIsolatedStore } from './stores.ts';

export const REDIRECT_URI = 'https://merchant.example/payment/return';
export const VALID_IBAN = 'FR7630006000011234567890189';
export const VALID_SIREN = '732829320';

/**
 * A one-time code as it would leak (a whole token: quoted, after `=`, alone), not as digits inside a
 * timestamp, a duration's decimals, an id or a UUID, where a 6-digit code turns up by chance now
 * and then (CI once found 735104 in a log line's numbers).
 */
export function leakedCode(code: string): RegExp {
  return new RegExp(`(?<![0-9a-fA-F.])${code}(?![0-9a-fA-F])`);
}

export function databases(): { dialect: Dialect; url: string | null }[] {
  const pgUrl = inject('pgUrl');
  return [{ dialect: 'sqlite', url: null }, ...(pgUrl ? [{ dialect: 'postgres' as const, url: pgUrl }] : [])];
}

export interface TestContext {
  app: PayrailApp;
  store: Store;
  clock: ManualClock;
  client: CreatedClient;
  dialect: Dialect;
  /** A service token with these scopes for the main client. */
  token(scope: string | string[], client?: CreatedClient): Promise<string>;
  /** Creates a payment with the main client's admin token and returns its id. */
  createPayment(body?: Record<string, unknown>): Promise<number>;
  scopedToken(paymentId: number, scope?: string | string[]): Promise<string>;
  newClient(redirectUris?: string[], domain?: string): Promise<CreatedClient>;
}

/** Opens an isolated store: a fresh in-memory SQLite, or a fresh schema in the PostgreSQL test database. */
export function openTestStore(dialect: Dialect, url: string | null): Promise<{ store: Store; drop: () => Promise<void> }> {
  return openIsolatedStore(dialect, url);
}

export function guideBody(type: 'first_open_day' | 'instant' | 'deferred' = 'first_open_day', overrides: Record<string, unknown> = {}) {
  const instruction: Record<string, unknown> = {
    label: 'Test',
    amount: 50.9,
    currency: 'EUR',
    execution_date_type: type,
    beneficiary: { scheme_name: 'iban', identification: VALID_IBAN, label: 'ACME Corp.' },
    beneficiary_identity: { kind: 'corporate', org_name: 'ACME Corp.', org_legal_status: 'SARL', scheme_name: 'siren', identification: VALID_SIREN },
  };
  if (type === 'deferred') instruction.execution_date = '2026-02-02';
  return {
    client_redirect_uri: REDIRECT_URI,
    client_state: 'order-0042',
    instructions: [instruction],
    payer_identity: {
      kind: 'individual',
      first_name: 'Germaine',
      last_name: 'Michu',
      birth_date: '1963-01-01',
      birth_city: 'Paris',
      birth_country: 'FR',
      nationality: 'French',
    },
    ...overrides,
  };
}

/** Tests mint many tokens from one address on a clock that stands still: abuse limits are tested on their own (security.test.ts). */
const GENEROUS_LIMITS = { tokenFailuresPerClient: Infinity, tokenFailuresPerAddress: Infinity, tokenMintsPerClient: Infinity, webviewPerAddress: Infinity };

/** Runs `fn` once per database, each with its own app, store, clock and client. */
export function describeEachDb(name: string, fn: (ctx: () => TestContext) => void, appOptions: Omit<AppOptions, 'store' | 'clock'> = {}): void {
  for (const { dialect, url } of databases()) {
    describe(`${name} [${dialect}]`, () => {
      let context: TestContext | undefined;
      let drop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        const opened = await openTestStore(dialect, url);
        drop = opened.drop;
        const store = opened.store;
        const clock = new ManualClock('2026-01-15T10:00:00Z');
        // Webhook receivers in tests listen on loopback: allowed here, as in development.
        const app = await buildApp({ store, clock, allowPrivateWebhooks: true, rateLimits: GENEROUS_LIMITS, ...appOptions });
        await app.ready();
        const client = await createClient(store.db, { name: 'Test shop', redirectUris: [REDIRECT_URI, 'https://shop.example/return'], now: clock.now() });
        const token = async (scope: string | string[], who: CreatedClient = client) => {
          const response = await app.inject({
            method: 'POST',
            url: '/2.0/auth/token',
            payload: { grant_type: 'client_credentials', client_id: who.client_id, client_secret: who.client_secret, scope },
          });
          if (response.statusCode !== 200) throw new Error(`token: ${response.body}`);
          return response.json().token as string;
        };
        // The admin token is cached, and minted again once tests have moved the clock past 20 minutes.
        let cached: { token: string; at: number } | null = null;
        const admin = async () => {
          if (!cached || clock.now() - cached.at > 20 * 60 * 1000) cached = { token: await token('payments:admin'), at: clock.now() };
          return cached.token;
        };
        context = {
          app,
          store,
          clock,
          client,
          dialect,
          token,
          async createPayment(body = guideBody()) {
            const response = await app.inject({ method: 'POST', url: '/2.0/payments', headers: { authorization: `Bearer ${await admin()}` }, payload: body });
            if (response.statusCode !== 200) throw new Error(`create: ${response.body}`);
            return response.json().id as number;
          },
          async scopedToken(paymentId, scope = ['payments:validate']) {
            const response = await app.inject({
              method: 'POST',
              url: `/2.0/payments/${paymentId}/scopedtoken`,
              headers: { authorization: `Bearer ${await admin()}` },
              payload: { scope },
            });
            if (response.statusCode !== 200) throw new Error(`scopedtoken: ${response.body}`);
            return response.json().token as string;
          },
          newClient: (redirectUris = [REDIRECT_URI], domain) =>
            createClient(store.db, { name: 'Other', redirectUris, now: clock.now(), ...(domain ? { domain } : {}) }),
        };
      });
      afterAll(async () => {
        await context?.app.close();
        await drop?.();
      });
      fn(() => context!);
    });
  }
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

/** Every error answer has the Powens body. */
export function expectErrorBody(body: Record<string, unknown>): void {
  if (typeof body.code !== 'string' || typeof body.description !== 'string' || !('message' in body) || typeof body.request_id !== 'number') {
    throw new Error(`not a Powens error body: ${JSON.stringify(body)}`);
  }
  // message: a human sentence, naming the field when one is at fault (issue 10, item 11).
  if (typeof body.message !== 'string' || !/^[A-Z"].*[.!?]$/.test(body.message)) throw new Error(`message is not a sentence: ${JSON.stringify(body)}`);
  if (typeof body.field === 'string' && ['missingParameter', 'invalidValue'].includes(body.code) && !body.message.includes(body.field))
    throw new Error(`message does not name the field: ${JSON.stringify(body)}`);
  if (body.description.startsWith(`${body.code}:`)) throw new Error(`description prefixed by the code: ${JSON.stringify(body)}`);
}

/** A payment's row with its current attempt's bank facts and sync schedule (what was one row before attempts). */
export async function paymentWithAttempt(db: Kysely<Database>, id: number) {
  return db
    .selectFrom('payments as p')
    .leftJoin('payment_attempts as a', 'a.id', 'p.current_attempt_id')
    .selectAll('p')
    .select(['a.connector_data', 'a.bank_status', 'a.next_sync_at', 'a.sync_locked_until', 'a.sync_failures', 'a.sync_error', 'a.number as attempt'])
    .where('p.id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Changes the sync schedule of these payments' current attempts (tests that leave other payments out of status sync). */
export async function setPaymentSync(
  db: Kysely<Database>,
  ids: { in?: number[]; notIn?: number[] },
  patch: { next_sync_at?: number | null; sync_locked_until?: number | null; sync_failures?: number },
): Promise<void> {
  let q = db.selectFrom('payments').select('current_attempt_id');
  if (ids.in) q = q.where('id', 'in', ids.in.length ? ids.in : [-1]);
  if (ids.notIn?.length) q = q.where('id', 'not in', ids.notIn);
  await db.updateTable('payment_attempts').set(patch).where('id', 'in', q).execute();
}

/** Gives a payment a current attempt at the bank with these facts (tests that set a payment's state by hand). */
export async function giveAttempt(
  db: Kysely<Database>,
  paymentId: number,
  facts: { connector_uuid: string; next_sync_at?: number | null; created_at?: number },
): Promise<number> {
  const row = await db
    .insertInto('payment_attempts')
    .values({
      payment_id: paymentId,
      number: 1,
      connector_uuid: facts.connector_uuid,
      bank_id: null,
      bank_payment_id: null,
      connector_data: null,
      consent_sealed: null,
      bank_status: null,
      outcome: 'ok',
      next_sync_at: facts.next_sync_at ?? null,
      sync_locked_until: null,
      sync_error: null,
      created_at: facts.created_at ?? 0,
      superseded_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.updateTable('payments').set({ current_attempt_id: row.id }).where('id', '=', paymentId).execute();
  return Number(row.id);
}

/** What status sync (jobs/sync-payments.ts) needs, from a test's app: to drive it by hand. */
export function syncEnvironment(c: TestContext) {
  return {
    db: c.store.db,
    dialect: c.dialect,
    clock: c.clock,
    actions: {
      db: c.store.db,
      clock: c.clock,
      secret: c.app.payrail.secret,
      baseUrl: 'http://localhost:80',
      testStepMs: 1000,
      connectors: c.app.payrail.connectors,
      notifier: c.app.payrail.notifier,
    },
  };
}

/**
 * Connector tests' contexts, as the core builds them for one operation on one payment: the test's
 * clock, a bank HTTP client recording into the test's store, these return URLs, and a vault sealed
 * under `secret` (none without one). `settle` records the calls of every client made so far as
 * the core does after an operation (settleCalls), before a test reads them.
 */
export function connectorContexts(
  ctx: () => TestContext,
  options: { baseUrl: string; returnUrls: ConnectorContext['returnUrls']; secret?: string },
): {
  context(p: ConnectorPayment, transport: BankTransport): ConnectorContext;
  vault: ConnectorContext['vault'];
  settle(): Promise<void>;
} {
  const clients: { calls: CallRecord[] }[] = [];
  const vault = options.secret === undefined ? undefined : consentVault(options.secret);
  return {
    vault,
    context(p, transport) {
      const c = ctx();
      const http = createBankHttp({ transport, recorder: attemptRecorder(c.store.db), clock: c.clock, paymentId: p.id });
      clients.push(http);
      return {
        now: c.clock.now(),
        clock: c.clock,
        baseUrl: options.baseUrl,
        testStepMs: 1000,
        sign: (v) => `sig-${v}`,
        returnUrls: options.returnUrls,
        http,
        ...(vault ? { vault } : {}),
      };
    },
    async settle() {
      for (const http of clients.splice(0)) await settleCalls(ctx().store.db, http.calls, null);
    },
  };
}

/** A stored payment as a connector is handed it (with the payer's address), from its id. */
export async function storedConnectorPayment(c: TestContext, id: number): Promise<ConnectorPayment> {
  const domain = await c.store.db.selectFrom('payments').select('domain_id').where('id', '=', id).executeTakeFirstOrThrow();
  return { ...connectorPayment(await getPayment(c.store.db, domain.domain_id, id)), psu_ip_address: '198.51.100.23' };
}

/**
 * A payment's bank calls in the order they were made: by `started_at`, and calls made at the same
 * instant of the injected clock by their first exchange row, whose ids follow call order (without
 * it PostgreSQL returns such ties in any order).
 */
export function bankCallsInOrder(db: Kysely<Database>, paymentId: number) {
  return db
    .selectFrom('bank_calls')
    .selectAll('bank_calls')
    .select((eb) =>
      eb
        .selectFrom('bank_exchanges')
        .select((x) => x.fn.min('bank_exchanges.id').as('first'))
        .whereRef('bank_exchanges.call_id', '=', 'bank_calls.id')
        .as('first_exchange'),
    )
    .where('payment_id', '=', paymentId)
    .orderBy('started_at')
    .orderBy('first_exchange')
    .execute();
}
