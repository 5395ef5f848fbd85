/**
 * Issue 20 item 9 in Chromium: each consent flow of the connector kit, paid through the hosted
 * webview against its sandbox bank (connectors/sandbox): redirect, decoupled, embedded (credentials
 * → a choice of SCA method → a one-time code), OAuth2 code with PKCE at the simulated authorization
 * server, and the OpenID Connect hybrid flow whose answer comes back in the URL fragment. Refusals
 * end `rejected` with the Powens code; a webhook follows each final state; the payer's password and
 * code reach no log line, no database row and no exchange.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { SANDBOX_CODES, SANDBOX_PASSWORD } from '../../src/connectors/sandbox/banks.ts';
import { databases, leakedCode } from '../support/helpers.ts';
import { merchantCreatesPayment, readPayment, startStack, type Stack } from './harness.ts';

const PHONE = { viewport: { width: 375, height: 740 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const USER_ID = 'payer-7781';

for (const database of databases()) {
  describe(`consent flows of the sandbox banks in Chromium [${database.dialect}]`, () => {
    let stack: Stack;
    const logs: string[] = [];

    beforeAll(async () => {
      const stream = new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      });
      stack = await startStack(database, { logger: { level: 'trace', stream } });
    });
    afterAll(async () => {
      await stack?.stop();
    });

    async function pay(bank: string, steps: (page: Page) => Promise<void>, label = 'Order 0042') {
      const { id, adminToken, url } = await merchantCreatesPayment(stack, { label });
      const context = await stack.browser.newContext(PHONE);
      const page = await context.newPage();
      await page.goto(url);
      await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
      await page.getByRole('button', { name: bank }).click();
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await steps(page);
      await page.waitForURL(`${stack.merchant}/return?**`);
      const back = Object.fromEntries(new URL(page.url()).searchParams);
      const payment = await readPayment(stack, id, adminToken);
      await context.close();
      return { id, back, payment };
    }

    it('redirect: approved at the bank page → done; refused → rejected CancelledByUser', async () => {
      const ok = await pay('Consent flow bank (redirect)', async (page) => {
        await page.getByRole('button', { name: 'Approve the transfer' }).click();
      });
      expect(ok.back).toMatchObject({ id_payment: String(ok.id), payment_state: 'done' });
      expect(ok.payment.state).toBe('done');
      const no = await pay('Consent flow bank (redirect)', async (page) => {
        await page.getByRole('button', { name: 'Refuse' }).click();
      });
      expect(no.back).toMatchObject({ payment_state: 'rejected', error_code: 'CancelledByUser' });
    });

    it('decoupled: the page waits for the app, then lands done; a refusal in the app → rejected', async () => {
      const ok = await pay('Consent flow bank (decoupled)', async (page) => {
        await page.getByRole('heading', { name: /Approve the payment in your banking app/ }).waitFor();
        stack.clock.advance(11_000);
        await page.getByRole('button', { name: /check now/ }).click();
      });
      expect(ok.payment.state).toBe('done');
      const no = await pay(
        'Consent flow bank (decoupled)',
        async (page) => {
          await page.getByRole('button', { name: /check now/ }).waitFor();
          stack.clock.advance(11_000);
          await page.getByRole('button', { name: /check now/ }).click();
        },
        'refuse - order 43',
      );
      expect(no.back).toMatchObject({ payment_state: 'rejected', error_code: 'CancelledByUser' });
    });

    /** A value encrypted for the installation's key (GET /2.0/publickey), as a page may post it. */
    async function jwe(value: string): Promise<string> {
      const key = (await (await fetch(`${stack.base}/2.0/publickey`)).json()) as JWK;
      return new CompactEncrypt(new TextEncoder().encode(value))
        .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: key.kid! })
        .encrypt(await importJWK(key, 'RSA-OAEP-256'));
    }

    async function embeddedSteps(page: Page, answers: { password: string; method: 'sms' | 'app'; code: string }) {
      await page.getByLabel(/Sandbox user id/).fill(USER_ID);
      await page.getByLabel(/Sandbox password/).fill(answers.password);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      if (answers.password !== SANDBOX_PASSWORD) return;
      await page.getByLabel(/How do you want to confirm/).selectOption(answers.method);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      const code = page.getByLabel(/One-time code/);
      expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
      await code.fill(answers.code);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
    }

    it('embedded: user id and password, then a choice among two SCA methods, then the code → done', async () => {
      for (const method of ['sms', 'app'] as const) {
        const ok = await pay('Consent flow bank (embedded)', (page) =>
          embeddedSteps(page, { password: SANDBOX_PASSWORD, method, code: SANDBOX_CODES[method]! }),
        );
        expect(ok.back).toMatchObject({ payment_state: 'done' });
        expect(ok.payment.state).toBe('done');
      }
    });

    it('embedded: the password and the code may be posted JWE-encrypted; a JWE that does not decrypt asks again', async () => {
      const ok = await pay('Consent flow bank (embedded)', async (page) => {
        await page.getByLabel(/Sandbox user id/).fill(USER_ID);
        // Tampered: the step comes back with a message, nothing sent to the connector.
        const tampered = `${(await jwe(SANDBOX_PASSWORD)).slice(0, -4)}AAAA`;
        await page.getByLabel(/Sandbox password/).fill(tampered);
        await page.getByRole('button', { name: 'Continue', exact: true }).click();
        await page.getByRole('alert').waitFor();
        expect(page.url()).toContain('error=input');
        await page.getByLabel(/Sandbox user id/).fill(USER_ID);
        await page.getByLabel(/Sandbox password/).fill(await jwe(SANDBOX_PASSWORD));
        await page.getByRole('button', { name: 'Continue', exact: true }).click();
        await page.getByLabel(/How do you want to confirm/).selectOption('sms');
        await page.getByRole('button', { name: 'Continue', exact: true }).click();
        await page.getByLabel(/One-time code/).fill(await jwe(SANDBOX_CODES.sms!));
        await page.getByRole('button', { name: 'Continue', exact: true }).click();
      });
      expect(ok.payment.state).toBe('done');
    });

    it('embedded: a wrong password, or the code of the other method, is refused with authenticationFailed', async () => {
      const password = await pay('Consent flow bank (embedded)', (page) => embeddedSteps(page, { password: 'wrong-password-1', method: 'sms', code: '' }));
      expect(password.back).toMatchObject({ payment_state: 'rejected', error_code: 'authenticationFailed' });
      const code = await pay('Consent flow bank (embedded)', (page) =>
        embeddedSteps(page, { password: SANDBOX_PASSWORD, method: 'sms', code: SANDBOX_CODES.app! }),
      );
      expect(code.back).toMatchObject({ payment_state: 'rejected', error_code: 'authenticationFailed' });
    });

    it('OAuth2 with PKCE: the authorization server checks state and the verifier; the token is kept sealed', async () => {
      const ok = await pay('Consent flow bank (OAuth2 + PKCE)', async (page) => {
        await page.getByRole('heading', { name: /authorize a payment/ }).waitFor();
        const authorize = new URL(page.url());
        expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
        expect(authorize.searchParams.get('state')).toMatch(/^\d+\./);
        await page.getByRole('button', { name: 'Approve' }).click();
      });
      expect(ok.payment.state).toBe('done');
      // The payer's token is sealed on the payment's attempt; its connector data holds no secret.
      const attempt = await stack.store.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', ok.id).executeTakeFirstOrThrow();
      expect(attempt.consent_sealed).toMatch(/^kek1\./);
      expect(attempt.bank_payment_id).toBe(`SBX-${ok.id}`);
      expect(Object.keys(JSON.parse(attempt.connector_data ?? '{}'))).toEqual(['approved_at']);
      const exchanges = await stack.store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', ok.id).execute();
      expect(exchanges.map((e) => [e.method, e.path, e.status])).toEqual([['POST', '/2.0/testbank/oauth/token', 200]]);
      expect(exchanges[0]!.request_body).toContain('"code_verifier":"[redacted]"');
      expect(exchanges[0]!.response_body).toContain('"access_token":"[redacted]"');

      const no = await pay('Consent flow bank (OAuth2 + PKCE)', async (page) => {
        await page.getByRole('button', { name: 'Refuse' }).click();
      });
      expect(no.back).toMatchObject({ payment_state: 'rejected', error_code: 'CancelledByUser' });
    });

    it('OpenID hybrid: the answer in the fragment is forwarded by the return page, the id_token verified, the code exchanged', async () => {
      const ok = await pay('Consent flow bank (OpenID hybrid)', async (page) => {
        await page.getByRole('heading', { name: /authorize a payment/ }).waitFor();
        const authorize = new URL(page.url());
        expect(authorize.searchParams.get('response_type')).toBe('code id_token');
        expect(authorize.searchParams.get('request')?.split('.')).toHaveLength(3);
        await page.getByRole('button', { name: 'Approve' }).click();
      });
      expect(ok.payment.state).toBe('done');
      const exchanges = await stack.store.db.selectFrom('bank_exchanges').selectAll().where('payment_id', '=', ok.id).orderBy('id').execute();
      expect(exchanges.map((e) => [e.method, e.path, e.status])).toEqual([
        ['GET', '/2.0/testbank/oauth/jwks', 200],
        ['POST', '/2.0/testbank/oauth/token', 200],
      ]);
      expect(exchanges[1]!.request_body).toContain('"client_assertion":"[redacted]"');

      const no = await pay('Consent flow bank (OpenID hybrid)', async (page) => {
        await page.getByRole('button', { name: 'Refuse' }).click();
      });
      expect(no.back).toMatchObject({ payment_state: 'rejected', error_code: 'CancelledByUser' });
    });

    it('a forged return (another state) changes nothing: the genuine approval still pays', async () => {
      const { id, adminToken, url } = await merchantCreatesPayment(stack);
      const context = await stack.browser.newContext(PHONE);
      const page = await context.newPage();
      await page.goto(url);
      await page.getByRole('button', { name: 'Consent flow bank (OAuth2 + PKCE)' }).click();
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByRole('heading', { name: /authorize a payment/ }).waitFor();
      for (const query of [`state=${id}.forged-state&code=anything`, `state=${id}.forged-state&error=access_denied`]) {
        const forged = await fetch(`${stack.base}/2.0/consent/return?${query}`, { redirect: 'manual' });
        expect(forged.status).toBeLessThan(500);
        expect(await readPayment(stack, id, adminToken)).toMatchObject({ state: 'validating', action: 'redirect' });
      }
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${stack.merchant}/return?**`);
      expect((await readPayment(stack, id, adminToken)).state).toBe('done');
      await context.close();
    });

    it("the payer's password and codes appear in no log line, no row and no exchange", async () => {
      const passwords = [SANDBOX_PASSWORD, 'wrong-password-1'];
      const codes = [SANDBOX_CODES.sms!, SANDBOX_CODES.app!].map(leakedCode);
      const text = logs.join('\n');
      for (const secret of passwords) expect(text).not.toContain(secret);
      for (const code of codes) expect(text).not.toMatch(code);
      for (const table of ['payments', 'payment_events', 'bank_exchanges', 'bank_calls', 'payment_attempts', 'webhook_deliveries'] as const) {
        const rows = await stack.store.db.selectFrom(table).selectAll().execute();
        const dump = JSON.stringify(rows);
        for (const secret of passwords) expect(dump, `${table}`).not.toContain(secret);
        for (const code of codes) expect(dump, `${table}`).not.toMatch(code);
      }
      expect(text).toContain('/2.0/auth/webview/en/flow'); // the flow was logged, without what was typed
    });
  });
}
