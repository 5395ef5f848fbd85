/**
 * A configured bank's connector descriptor: the standard's settings intersected with what the
 * bank's profile allows. Connector numeric ids of banks are `BANK_CONNECTOR_ID_BASE + banks.id`,
 * so they never collide with the built-in test bank (40).
 */
import type { BankProfile, ConfiguredBank, ConnectorDescriptor, PaymentField, PaymentSettings } from './types.ts';

export const BANK_CONNECTOR_ID_BASE = 1000;

export function bankConnectorId(bankId: number): number {
  return BANK_CONNECTOR_ID_BASE + bankId;
}

function subset<T>(allowed: readonly T[], wanted: readonly T[] | undefined): T[] {
  return wanted ? allowed.filter((v) => wanted.includes(v)) : [...allowed];
}

/** What the standard allows (`settings`) narrowed by the bank's profile; never wider than the standard. */
export function bankPaymentSettings(settings: PaymentSettings, profile: BankProfile): PaymentSettings {
  let types = subset(settings.execution_date_types, profile.execution_date_types);
  if (profile.deferred === false) types = types.filter((t) => t !== 'deferred');
  const bulk = profile.bulk ?? settings.maximum_number_of_instructions > 1;
  const order = { not_used: 0, optional: 1, mandatory: 2 } as const;
  const payerAccount =
    profile.providing_payer_account && order[profile.providing_payer_account] >= order[settings.providing_payer_account]
      ? profile.providing_payer_account
      : settings.providing_payer_account;
  return {
    ...settings,
    execution_date_types: types,
    currencies: subset(settings.currencies, profile.currencies),
    maximum_number_of_instructions: bulk ? settings.maximum_number_of_instructions : 1,
    bulk_execution_date_types: bulk ? settings.bulk_execution_date_types.filter((t) => types.includes(t)) : [],
    providing_payer_account: payerAccount,
    cancellation_available: settings.cancellation_available && profile.cancellation !== false,
  };
}

export function bankDescriptor(bank: ConfiguredBank, settings: PaymentSettings, fields: PaymentField[] = []): ConnectorDescriptor {
  return {
    id: bankConnectorId(bank.id),
    uuid: bank.uuid,
    name: bank.name,
    slug:
      bank.name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 64) || `bank-${bank.id}`,
    hidden: false,
    beta: false,
    color: '0b6bcb',
    countries: bank.country ? [bank.country] : [],
    products: ['pay'],
    capabilities: ['transfer', 'onetimepayment'],
    payment_settings: bankPaymentSettings(settings, bank.profile),
    payment_fields: fields,
  };
}
