/**
 * Configured banks: the service (add, list, remove, the declarative file), the real `payrail bank`
 * process, sealed keys, the connector list and webview picker, and the test bank switched off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONNECTOR_MODULES } from '../src/connectors/modules.ts';
import { TEST_CONNECTOR_UUID } from '../src/connectors/test-connector.ts';
import { addBank, applyBanksFile, bankSource, listBanks, removeBank } from '../src/services/banks.ts';
import { ConnectorRegistry } from '../src/connectors/registry.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { keyringFromKeys } from '../src/services/secret-box.ts';
import { makePki, type TestPki } from './support/certs.ts';
import { bearer, describeEachDb, guideBody, REDIRECT_URI } from './support/helpers.ts';
import { BIN } from './support/processes.ts';

const KEK = 'ab'.repeat(32);
const keyring = keyringFromKeys([Buffer.from(KEK, 'hex')]);
let pki: TestPki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.cleanup());

/** The PEM body of a key, without its armour: what must never be found in clear. */
const keyBody = (pem: string) =>
  pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .slice(0, 3)
    .join('');

describeEachDb(
  'configured banks',
  (ctx) => {
    const deps = () => ({ db: ctx().store.db, keyring, clock: ctx().clock, modules: CONNECTOR_MODULES });

    it('adds, lists and removes banks; keys are sealed, never shown; bad input names the field', async () => {
      const added = await addBank(deps(), {
        name: 'Sparkasse Demo',
        standard: 'berlin-group',
        base_url: 'https://api.bank.example/psd2/',
        country: 'de',
        bic: 'BYLADEM1001',
        client_cert: pki.client.cert,
        client_key: pki.client.key,
        ca: pki.ca.cert,
        signing_key: pki.signing.key,
        signing_cert: pki.signing.cert,
      });
      expect(added).toMatchObject({
        name: 'Sparkasse Demo',
        standard: 'berlin-group',
        base_url: 'https://api.bank.example/psd2',
        country: 'DE',
        has_client_key: true,
        has_signing_key: true,
      });
      expect(added.id).toBeGreaterThan(1000);
      expect(added.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(added)).not.toContain(keyBody(pki.client.key));
      const row = await ctx().store.db.selectFrom('banks').selectAll().where('uuid', '=', added.uuid).executeTakeFirstOrThrow();
      const stored = JSON.stringify(row);
      for (const key of [pki.client.key, pki.signing.key]) expect(stored).not.toContain(keyBody(key));
      expect(row.client_key_sealed).toMatch(/^kek1\./);
      expect((await listBanks(ctx().store.db)).map((b) => b.name)).toContain('Sparkasse Demo');

      await expect(addBank(deps(), { name: 'Sparkasse Demo', standard: 'berlin-group', base_url: 'https://x.example' })).rejects.toMatchObject({
        code: 'invalidValue',
        field: 'name',
      });
      await expect(addBank(deps(), { name: 'B', standard: 'berlin-group', base_url: 'https://x.example/psd2/v1' })).rejects.toMatchObject({
        field: 'base_url',
      });
      await expect(addBank(deps(), { name: 'B', standard: 'no-such-standard', base_url: 'https://x.example' })).rejects.toMatchObject({ field: 'standard' });
      await expect(
        addBank(deps(), { name: 'B', standard: 'berlin-group', base_url: 'https://x.example', client_cert: pki.client.cert, client_key: pki.signing.key }),
      ).rejects.toMatchObject({ field: 'client_key' });
      await expect(addBank(deps(), { name: 'B', standard: 'berlin-group', base_url: 'https://x.example', profile: { bulk: 'yes' } })).rejects.toMatchObject({
        code: 'invalidValue',
        field: 'profile',
        message: expect.stringContaining('berlin-group option bulk:'),
      });
      // Every standard's wrong option is the same 400, naming the option (kit/profile-error.ts: checkedProfile).
      for (const standard of ['stet', 'obie'])
        await expect(addBank(deps(), { name: 'B', standard, base_url: 'https://x.example', profile: { colour: 'blue' } })).rejects.toMatchObject({
          code: 'invalidValue',
          field: 'profile',
          message: expect.stringContaining(`${standard} option colour:`),
        });
      await expect(addBank(deps(), { name: 'B', standard: 'berlin-group', base_url: 'https://x.example', sca_approach: 'embedded' })).rejects.toMatchObject({
        field: 'sca_approach',
      });

      const removed = await removeBank(deps(), String(added.id));
      expect(removed.removed_at).not.toBeNull();
      expect((await listBanks(ctx().store.db)).map((b) => b.name)).not.toContain('Sparkasse Demo');
      await expect(removeBank(deps(), 'Sparkasse Demo')).rejects.toMatchObject({ code: 'notFound' });
    });

    it('a bank is a connector: in GET /2.0/connectors with payment_settings from the standard and its profile, and in the webview picker by name', async () => {
      const bank = await addBank(deps(), {
        name: 'Volksbank Beispiel',
        standard: 'berlin-group',
        base_url: 'https://vb.example/psd2',
        country: 'FR',
        profile: { bulk: true, execution_date_types: ['first_open_day', 'instant'] },
      });
      ctx().app.payrail.connectors.invalidate();
      const list = (await ctx().app.inject({ method: 'GET', url: '/2.0/connectors' })).json();
      const listed = list.connectors.find((c: { uuid: string }) => c.uuid === bank.uuid);
      expect(listed).toMatchObject({ id: bank.id, name: 'Volksbank Beispiel', products: ['pay'] });
      expect(listed.payment_settings).toMatchObject({
        execution_date_types: ['first_open_day', 'instant'],
        beneficiary_types: ['iban'],
        currencies: ['EUR'],
        providing_payer_account: 'mandatory',
        maximum_number_of_instructions: 100,
      });
      expect((await ctx().app.inject({ method: 'GET', url: `/2.0/connectors/${bank.id}` })).json()).toMatchObject({ uuid: bank.uuid });
      expect(list.connectors.some((c: { uuid: string }) => c.uuid === TEST_CONNECTOR_UUID)).toBe(true);

      const id = await ctx().createPayment(guideBody());
      const code = await ctx().scopedToken(id);
      const entry = await ctx().app.inject({
        method: 'GET',
        url: `/2.0/auth/webview/en/payment?client_id=${ctx().client.client_id}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code=${code}&payment_id=${id}`,
      });
      const flow = await ctx().app.inject({
        method: 'GET',
        url: entry.headers.location as string,
        headers: { cookie: String(entry.headers['set-cookie']).split(';')[0]! },
      });
      expect(flow.body).toContain(`value="${bank.uuid}">Volksbank Beispiel</button>`);
      // A payment can name the bank at creation, by uuid or id.
      const named = await ctx().app.inject({
        method: 'POST',
        url: '/2.0/payments',
        headers: bearer(await ctx().token('payments:admin')),
        payload: guideBody('first_open_day', { connector_uuid: bank.uuid }),
      });
      expect(named.json()).toMatchObject({ connector_uuid: bank.uuid, id_connector: bank.id });
      await removeBank(deps(), bank.uuid);
      ctx().app.payrail.connectors.invalidate();
      expect((await ctx().app.inject({ method: 'GET', url: '/2.0/connectors' })).json().connectors.some((c: { uuid: string }) => c.uuid === bank.uuid)).toBe(
        false,
      );
    });

    it('applies a declarative banks file idempotently by name (YAML, keys by path)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'payrail-banks-'));
      try {
        const file = join(dir, 'banks.yaml');
        writeFileSync(
          file,
          `banks:\n  - name: File Bank\n    standard: berlin-group\n    base_url: https://file.example/psd2\n    client_cert: ${pki.client.certPath}\n    client_key: ${pki.client.keyPath}\n    profile:\n      poll_initial_ms: 1500\n`,
        );
        expect(await applyBanksFile(deps(), file)).toEqual({ added: ['File Bank'], updated: [], unchanged: [] });
        const first = (await listBanks(ctx().store.db)).find((b) => b.name === 'File Bank')!;
        expect(await applyBanksFile(deps(), file)).toEqual({ added: [], updated: [], unchanged: ['File Bank'] });
        writeFileSync(file, readFileSync(file, 'utf8').replace('1500', '2500'));
        expect(await applyBanksFile(deps(), file)).toEqual({ added: [], updated: ['File Bank'], unchanged: [] });
        const second = (await listBanks(ctx().store.db)).find((b) => b.name === 'File Bank')!;
        expect([second.uuid, second.id, second.profile.poll_initial_ms]).toEqual([first.uuid, first.id, 2500]);
        writeFileSync(file, 'banks:\n  - name: X\n    standard: berlin-group\n    base_url: https://x.example\n    secret: 1\n');
        await expect(applyBanksFile(deps(), file)).rejects.toThrow(/banks\[0\]\.secret is not a known key/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
  { keyring },
);

describeEachDb(
  'the test bank switched off',
  (ctx) => {
    it('is absent from the connectors and cannot be chosen', async () => {
      const list = (await ctx().app.inject({ method: 'GET', url: '/2.0/connectors' })).json();
      expect(list.connectors.some((c: { uuid: string }) => c.uuid === TEST_CONNECTOR_UUID)).toBe(false);
      const created = await ctx().app.inject({
        method: 'POST',
        url: '/2.0/payments',
        headers: bearer(await ctx().token('payments:admin')),
        payload: guideBody('first_open_day', { connector_uuid: TEST_CONNECTOR_UUID }),
      });
      expect(created.json()).toMatchObject({ code: 'invalidValue', field: 'connector_uuid' });
      const id = await ctx().createPayment();
      const validated = await ctx().app.inject({
        method: 'POST',
        url: `/2.0/payments/${id}`,
        headers: bearer(await ctx().scopedToken(id)),
        payload: { connector_uuid: TEST_CONNECTOR_UUID, webview_url: 'https://merchant.example/w' },
      });
      expect(validated.json()).toMatchObject({ code: 'invalidValue', field: 'connector_uuid' });
    });
  },
  { testBank: false },
);

describe('payrail bank (real process)', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, PAYRAIL_KEY_ENCRYPTION_KEY: KEK, ...env }, timeout: 60_000 });
  // PostgreSQL: a schema of its own (search_path in the URL), dropped afterwards, so nothing lands in public.
  const schema = `payrail_cli_${Math.random().toString(36).slice(2, 10)}`;
  const pgUrl = inject('pgUrl');
  const schemaUrl = pgUrl ? `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}` : null;
  beforeAll(async () => {
    if (!pgUrl) return;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
  });
  afterAll(async () => {
    if (!pgUrl) return;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`drop schema ${schema} cascade`);
    await client.end();
  });
  const stores = [
    { name: 'sqlite', args: (dir: string) => ['--data-dir', dir] },
    ...(schemaUrl ? [{ name: 'postgres', args: (dir: string) => ['--database-url', schemaUrl, '--data-dir', dir] }] : []),
  ];

  for (const store of stores) {
    it(`adds, lists and removes a bank with certificates, printing no key [${store.name}]`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'payrail-cli-'));
      const name = `CLI Bank ${Math.random().toString(36).slice(2, 8)}`;
      try {
        const add = run([
          'bank',
          'add',
          '--standard',
          'berlin-group',
          '--name',
          name,
          '--base-url',
          'http://127.0.0.1:4010',
          '--country',
          'DE',
          '--client-cert',
          pki.client.certPath,
          '--client-key',
          pki.client.keyPath,
          '--signing-key',
          pki.signing.keyPath,
          '--signing-cert',
          pki.signing.certPath,
          '--sca-approach',
          'redirect',
          '--json',
          ...store.args(dir),
        ]);
        expect(add.status, add.stderr).toBe(0);
        const bank = JSON.parse(add.stdout);
        expect(bank).toMatchObject({ name, standard: 'berlin-group', has_client_key: true, has_signing_key: true });
        expect(bank.uuid).toMatch(/^[0-9a-f-]{36}$/);
        expect(Number.isInteger(bank.id)).toBe(true);
        for (const key of [pki.client.key, pki.signing.key]) expect(add.stdout + add.stderr).not.toContain(keyBody(key));
        if (store.name === 'sqlite') {
          const file = readFileSync(join(dir, 'payrail.sqlite')).toString('latin1');
          expect(file).toContain(name);
          for (const key of [pki.client.key, pki.signing.key]) expect(file).not.toContain(keyBody(key));
        }
        const list = run(['bank', 'list', '--json', ...store.args(dir)]);
        expect(JSON.parse(list.stdout).banks.map((b: { uuid: string }) => b.uuid)).toContain(bank.uuid);
        const dup = run(['bank', 'add', '--standard', 'berlin-group', '--name', name, '--base-url', 'http://127.0.0.1:4010', ...store.args(dir)]);
        expect(dup.status).not.toBe(0);
        expect(dup.stderr).toMatch(/exists already/);
        const missing = run(['bank', 'add', '--name', 'x', ...store.args(dir)]);
        expect([missing.status, missing.stderr]).toEqual([2, expect.stringMatching(/--standard is required/)]);
        if (store.name === 'postgres') {
          const client = new pg.Client({ connectionString: pgUrl! });
          await client.connect();
          const rows = (await client.query(`select * from ${schema}.banks where uuid = $1`, [bank.uuid])).rows;
          await client.end();
          expect(rows).toHaveLength(1);
          for (const key of [pki.client.key, pki.signing.key]) expect(JSON.stringify(rows)).not.toContain(keyBody(key));
        }
        const removed = run(['bank', 'remove', bank.uuid, '--json', ...store.args(dir)]);
        expect(removed.status, removed.stderr).toBe(0);
        expect(JSON.parse(run(['bank', 'list', '--json', ...store.args(dir)]).stdout).banks.map((b: { uuid: string }) => b.uuid)).not.toContain(bank.uuid);
        const exchanges = run(['bank', 'exchanges', '--payment', '1', '--json', ...store.args(dir)]);
        expect(JSON.parse(exchanges.stdout)).toEqual({ id_payment: 1, attempts: [], exchanges: [], payment_attempts: [] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describeEachDb('the connector registry finds a bank added by another process', (ctx) => {
  it('a lookup that misses reads the banks again (at most every 250 ms), instead of waiting for the 2 s refresh', async () => {
    const c = ctx();
    const clock = new ManualClock('2026-01-15T10:00:00Z');
    const source = bankSource(c.store.db, c.app.payrail.keyring);
    let reads = 0;
    const counted = {
      banks: () => {
        reads++;
        return source.banks();
      },
    };
    const registry = new ConnectorRegistry({ clock, banks: counted });
    expect(await registry.byUuid(TEST_CONNECTOR_UUID)).toBeDefined();
    expect(reads).toBe(1);
    // Added meanwhile, as `payrail bank add` does from another process.
    const bank = await addBank(
      { db: c.store.db, clock: c.clock, keyring: c.app.payrail.keyring, modules: CONNECTOR_MODULES },
      { name: 'Just Added Bank', standard: 'berlin-group', base_url: 'https://api.just-added.example/psd2', country: 'DE' },
    );
    clock.advance(100);
    expect(await registry.byUuid(bank.uuid)).toBeUndefined(); // read 100 ms ago: not again
    expect(reads).toBe(1);
    clock.advance(200);
    expect((await registry.byUuid(bank.uuid))?.descriptor.name).toBe('Just Added Bank'); // 300 ms: read again, found
    expect((await registry.byId(bank.id))?.descriptor.uuid).toBe(bank.uuid);
    expect(reads).toBe(2);
    // Unknown uuids cannot make it read the banks more than every 250 ms.
    for (let i = 0; i < 20; i++) {
      expect(await registry.byUuid('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      clock.advance(10);
    }
    expect(reads).toBe(2);
    clock.advance(60);
    expect(await registry.byUuid('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(reads).toBe(3);
  });
});
