/**
 * Attempts at the bank (services/attempts.ts): migration 0020_attempts carries a payment row of the
 * older schema over to its attempt 1 and its bank calls, on both databases; consent is sealed.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { currentAttempt, listAttempts, listCalls, listExchanges, openConsent, sealConsent } from '../src/services/attempts.ts';
import { keyringFromKeys } from '../src/services/secret-box.ts';
import { migrate } from '../src/store/db.ts';
import { databases } from './support/helpers.ts';
import { openIsolatedStore } from './support/stores.ts';

for (const { dialect, url } of databases()) {
  describe(`payment attempts [${dialect}]`, () => {
    it('migration 0020 moves the bank facts and sync schedule of existing payments to their attempt 1 and links their calls', async () => {
      const { store, drop } = await openIsolatedStore(dialect, url, { migrateUpTo: '0019_hooks' });
      try {
        const run = (text: string) => sql.raw(text).execute(store.db);
        await run(`insert into domains (id, name, created_at) values (1, 'default', 0)`);
        await run(`insert into clients (id, domain_id, client_id, secret_hash, name, redirect_uris, created_at) values (1, 1, 'c', 'h', 'n', '[]', 0)`);
        await run(`insert into banks (id, uuid, name, standard, base_url, sca_approach, profile, created_at)
                   values (3, 'b0b0b0b0-0000-4000-8000-000000000003', 'Bank', 'berlin-group', 'https://bank.example', 'redirect', '{}', 0)`);
        const payment = (id: number, extra: string) =>
          run(`insert into payments (id, domain_id, client_ref, state, state_detail, connector_uuid, id_connector, bank_payment_id, client_redirect_uri,
                 execution_date_type, currency, total_minor, instruction_count, country, register_date, updated_at, connector_data, bank_status,
                 next_sync_at, sync_locked_until, sync_failures, sync_error)
               values (${id}, 1, 1, ${extra})`);
        // Initiated at a configured bank, pending, its sync failing.
        await payment(
          1,
          `'pending', null, 'b0b0b0b0-0000-4000-8000-000000000003', 1003, 'BANK-1', 'https://m.example/r', 'first_open_day', 'EUR', 100, 1, 'DE',
           1000, 2000, '{"payment_id":"BANK-1"}', 'ACSP', 9000, 8500, 2, 'bank API timed out'`,
        );
        // Never initiated.
        await payment(
          2,
          `'created', null, null, null, null, 'https://m.example/r', 'first_open_day', 'EUR', 100, 1, 'DE', 1000, 1000, null, null, null, null, 0, null`,
        );
        await run(`insert into payment_attempts (id, payment_id, bank_id, operation, started_at, finished_at, outcome, http_status, bank_reference, raw_status, error)
                   values ('req-1', 1, 3, 'initiate', 1500, 1510, 'ok', 201, 'BANK-1', 'RCVD', null),
                          ('req-2', 1, 3, 'status', 1600, 1610, 'ok', 200, null, 'ACSP', null)`);
        await run(`insert into bank_exchanges (payment_id, attempt_id, bank_id, method, path, status, duration_ms, request_id, request_body, response_body, error, created_at)
                   values (1, 'req-1', 3, 'POST', '/v1/payments/sepa-credit-transfers', 201, 10, 'req-1', '{}', '{}', null, 1510),
                          (1, 'req-2', 3, 'GET', '/v1/payments/sepa-credit-transfers/BANK-1/status', 200, 10, 'req-2', null, '{}', null, 1610)`);

        expect(await migrate(store)).toContain('0020_attempts');

        const first = await store.db.selectFrom('payments').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
        expect(first).not.toHaveProperty('connector_data');
        expect(first).not.toHaveProperty('next_sync_at');
        expect(first.bank_payment_id).toBe('BANK-1');
        const attempt = await currentAttempt(store.db, first);
        expect(attempt).toMatchObject({
          payment_id: 1,
          number: 1,
          connector_uuid: 'b0b0b0b0-0000-4000-8000-000000000003',
          bank_id: 3,
          bank_payment_id: 'BANK-1',
          connector_data: '{"payment_id":"BANK-1"}',
          bank_status: 'ACSP',
          outcome: 'ok',
          next_sync_at: 9000,
          sync_locked_until: 8500,
          sync_failures: 2,
          sync_error: 'bank API timed out',
          created_at: 1500,
          superseded_at: null,
        });
        expect((await listCalls(store.db, 1)).map((c) => [c.id, c.operation, Number(c.attempt_id)])).toEqual([
          ['req-1', 'initiate', Number(attempt!.id)],
          ['req-2', 'status', Number(attempt!.id)],
        ]);
        expect((await listExchanges(store.db, 1)).map((e) => [e.attempt_id, e.operation, e.outcome, e.attempt])).toEqual([
          ['req-1', 'initiate', 'ok', 1],
          ['req-2', 'status', 'ok', 1],
        ]);
        const second = await store.db.selectFrom('payments').selectAll().where('id', '=', 2).executeTakeFirstOrThrow();
        expect(second.current_attempt_id).toBeNull();
        expect(await listAttempts(store.db, 2)).toEqual([]);

        // Consent data is sealed at rest and opens with the keyring only.
        const keyring = keyringFromKeys([randomBytes(32)]);
        await sealConsent(store.db, keyring, Number(attempt!.id), { access_token: 'payer-token-123' });
        const sealed = (await currentAttempt(store.db, first))!;
        expect(sealed.consent_sealed).not.toContain('payer-token-123');
        expect(openConsent(keyring, sealed)).toEqual({ access_token: 'payer-token-123' });
      } finally {
        await drop();
      }
    });
  });
}
