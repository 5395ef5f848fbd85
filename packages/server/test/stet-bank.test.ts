/**
 * A STET bank as an operator configures one: `addBank` (what `payrail bank add --standard stet`
 * calls) and the declarative file, on every database: profile keys checked and named, a base URL
 * that ends in `/v1` accepted (STET's API root) where Berlin Group refuses it, keys sealed and
 * never shown, list and remove.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONNECTOR_MODULES } from '../src/connectors/modules.ts';
import { addBank, applyBanksFile, listBanks, removeBank } from '../src/services/banks.ts';
import { keyringFromKeys } from '../src/services/secret-box.ts';
import { makePki, type TestPki } from './support/certs.ts';
import { describeEachDb } from './support/helpers.ts';

const keyring = keyringFromKeys([Buffer.from('cd'.repeat(32), 'hex')]);
let pki: TestPki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.cleanup());

const PROFILE = { client_id: 'PSDFR-ACPR-12345', token_url: 'https://api.banque.example/oauth/token', key_id: 'https://pisp.example/qseal.pem' };

describeEachDb(
  'STET banks',
  (ctx) => {
    const deps = () => ({ db: ctx().store.db, keyring, clock: ctx().clock, modules: CONNECTOR_MODULES });

    it('adds a STET bank (API root with /v1), shows no key material, names a wrong or missing profile key, removes it', async () => {
      const added = await addBank(deps(), {
        name: 'Banque Exemple',
        standard: 'stet',
        base_url: 'https://api.banque.example/stet/psd2/v1',
        country: 'FR',
        signing_key: pki.signing.key,
        signing_cert: pki.signing.cert,
        profile: PROFILE,
      });
      expect(added).toMatchObject({ name: 'Banque Exemple', standard: 'stet', base_url: 'https://api.banque.example/stet/psd2/v1', has_signing_key: true });
      expect(added.profile).toMatchObject({ ...PROFILE, version: '1.5', approach: 'REDIRECT', redirect_flow: 'oauth2' });
      expect(JSON.stringify(await listBanks(ctx().store.db))).not.toContain('PRIVATE KEY');
      await expect(
        addBank(deps(), { name: 'No client', standard: 'stet', base_url: 'https://x.example', profile: { token_url: PROFILE.token_url } }),
      ).rejects.toThrow(/profile: stet option client_id/);
      await expect(addBank(deps(), { name: 'Typo', standard: 'stet', base_url: 'https://x.example', profile: { ...PROFILE, keyid: 'x' } })).rejects.toThrow(
        /stet option keyid/,
      );
      // Berlin Group appends /v1 itself and refuses a base URL that ends with it; STET's API root may.
      await expect(addBank(deps(), { name: 'BG', standard: 'berlin-group', base_url: 'https://bg.example/v1' })).rejects.toThrow(/drop the trailing \/v1/);
      expect((await removeBank({ db: ctx().store.db, clock: ctx().clock }, 'Banque Exemple')).name).toBe('Banque Exemple');
      expect((await listBanks(ctx().store.db)).map((b) => b.name)).not.toContain('Banque Exemple');
    });

    it('the declarative file adds a STET bank with its profile and key files, and leaves it alone when unchanged', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'payrail-stet-banks-'));
      try {
        const file = join(dir, 'banks.yaml');
        writeFileSync(
          file,
          [
            'banks:',
            '  - name: Banque du fichier',
            '    standard: stet',
            '    base_url: https://api.fichier.example/psd2',
            '    country: FR',
            `    signing_key: ${pki.signing.keyPath}`,
            `    signing_cert: ${pki.signing.certPath}`,
            '    profile:',
            `      client_id: ${PROFILE.client_id}`,
            `      token_url: ${PROFILE.token_url}`,
            `      key_id: ${PROFILE.key_id}`,
            '      version: "1.4.2"',
            '',
          ].join('\n'),
        );
        expect(await applyBanksFile(deps(), file)).toEqual({ added: ['Banque du fichier'], updated: [], unchanged: [] });
        expect(await applyBanksFile(deps(), file)).toEqual({ added: [], updated: [], unchanged: ['Banque du fichier'] });
        const bank = (await listBanks(ctx().store.db)).find((b) => b.name === 'Banque du fichier')!;
        expect(bank.profile).toMatchObject({ version: '1.4.2', redirect_flow: 'redirect', amount_type: 'string', execution_date_level: 'payment' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
  { keyring },
);
