/** A configured Berlin Group bank as merchants and the webview see it: GET /2.0/connectors, payment_settings from the standard and the bank's profile. */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { CONNECTOR_MODULES } from '../src/connectors/modules.ts';
import { addBank } from '../src/services/banks.ts';
import { keyringFromKeys } from '../src/services/secret-box.ts';
import { describeEachDb, type TestContext } from './support/helpers.ts';

describeEachDb('a Berlin Group bank in GET /2.0/connectors', (ctx) => {
  const add = (t: TestContext, name: string, sca: 'redirect' | 'decoupled', profile: Record<string, unknown>) =>
    addBank(
      { db: t.store.db, clock: t.clock, keyring: keyringFromKeys([randomBytes(32)]), modules: CONNECTOR_MODULES },
      {
        name,
        standard: 'berlin-group',
        base_url: 'https://api.bank.example/psd2',
        country: 'DE',
        sca_approach: sca,
        profile,
      },
    );
  const get = async (uuid: string) => {
    ctx().app.payrail.connectors.invalidate();
    const response = await ctx().app.inject({ url: `/2.0/connectors/${uuid}?expand=payment_fields` });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  it("defaults: redirect, SEPA in EUR to IBANs, the payer's IBAN mandatory, no bulk, no deferred, cancellation offered", async () => {
    const bank = await add(ctx(), 'Sparkasse Test', 'redirect', {});
    const c = await get(bank.uuid);
    expect(c).toMatchObject({ uuid: bank.uuid, name: 'Sparkasse Test', payment_fields: [] });
    expect(c.payment_settings).toMatchObject({
      available_validate_mechanisms: ['webauth'],
      beneficiary_types: ['iban'],
      currencies: ['EUR'],
      providing_payer_account: 'mandatory',
      execution_date_types: ['first_open_day', 'instant'],
      maximum_number_of_instructions: 1,
      bulk_execution_date_types: [],
      cancellation_available: true,
      partial_status_tracking: [],
    });
    expect(c.payment_settings.execution_frequencies).not.toContain('four-monthly');
  });

  it('a profile widens it within the standard: bulk, deferred, periodic, four-monthly, optional payer account, untracked ACSP', async () => {
    const bank = await add(ctx(), 'Volksbank Test', 'redirect', {
      bulk: true,
      max_instructions: 50,
      deferred: true,
      execution_date_types: ['first_open_day', 'periodic'],
      monthly_variable: true,
      providing_payer_account: 'optional',
      partial_status_tracking: ['first_open_day'],
      cancellation: false,
    });
    const s = (await get(bank.uuid)).payment_settings;
    expect(s).toMatchObject({
      execution_date_types: ['first_open_day', 'deferred', 'periodic'],
      maximum_number_of_instructions: 50,
      bulk_execution_date_types: ['first_open_day', 'deferred'],
      providing_payer_account: 'optional',
      partial_status_tracking: ['first_open_day'],
      cancellation_available: false,
    });
    expect(s.execution_frequencies).toContain('four-monthly');
  });

  it('a decoupled bank asks the payer for the PSU-ID', async () => {
    const bank = await add(ctx(), 'Decoupled Test', 'decoupled', {});
    expect((await get(bank.uuid)).payment_fields).toEqual([expect.objectContaining({ name: 'psu_id', type: 'text', required: true })]);
  });

  it('a wrong profile option is refused with the option named', async () => {
    await expect(add(ctx(), 'Typo Bank', 'redirect', { bulk_payments: true })).rejects.toThrow(/bulk_payments/);
    await expect(add(ctx(), 'Decoupled Typo', 'decoupled', { psu_id_required: false })).rejects.toThrow(/psu_id_required/);
  });
});
