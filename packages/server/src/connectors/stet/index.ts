/** The `stet` connector module: STET PSD2 API payment initiation, 1.5 the reference (docs/reference/stet.md). */
import { EXECUTION_FREQUENCIES } from '../../domain/payment-request.ts';
import type { BankProfile, ConnectorModule, PaymentSettings } from '../kit/types.ts';
import { checkedProfile } from '../kit/profile-error.ts';
import { createStetConnector } from './connector.ts';
import { checkOptions, PROFILE_KEYS } from './profile.ts';
import { stetSignatureScheme } from './signature.ts';

/** What the standard allows at most; each bank's profile narrows it. */
export const STET_SETTINGS: PaymentSettings = {
  available_validate_mechanisms: ['webauth'],
  beneficiary_types: ['iban'],
  execution_date_types: ['first_open_day', 'instant', 'deferred', 'periodic'],
  execution_frequencies: EXECUTION_FREQUENCIES.filter((f) => f !== 'four-monthly'),
  maximum_number_of_instructions: 10_000,
  providing_payer_account: 'optional',
  partial_status_tracking: [],
  is_app_to_app_used: { android: false, ios: false },
  bank_provides_payer_account: false,
  bank_provides_payer_label: false,
  transfer_date_types_where_trusted_beneficiary_required: [],
  cancellation_available: true,
  minimum_amount: { first_open_day: '0.01', instant: '0.01', deferred: '0.01', periodic: '0.01' },
  maximum_amount: null,
  minimum_date_delta_days: 1,
  maximum_date_delta_days: 365,
  currencies: ['EUR'],
  bulk_execution_date_types: ['first_open_day', 'instant', 'deferred'],
  bulk_providing_payer_account: 'optional',
  trusted_beneficiaries_required_for_bulk: false,
};

function profileOf(raw: unknown, sca: 'redirect' | 'decoupled') {
  return checkedProfile(() => checkOptions(raw, sca));
}

export const stetModule: ConnectorModule = {
  standard: 'stet',
  profileKeys: PROFILE_KEYS,
  settings: STET_SETTINGS,
  validateConfig(raw, bank): BankProfile {
    return { ...profileOf(raw, bank.sca_approach) };
  },
  signatureScheme(bank) {
    return stetSignatureScheme(profileOf(bank.profile, bank.sca_approach));
  },
  create(bank) {
    return createStetConnector(bank, STET_SETTINGS);
  },
};
