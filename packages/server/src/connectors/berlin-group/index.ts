/** The `berlin-group` connector module: NextGenPSD2 1.3.12 payment initiation (docs/reference/berlin-group.md). */
import type { BankProfile, ConnectorModule, PaymentSettings } from '../kit/index.ts';
import { checkedProfile } from '../kit/profile-error.ts';
import { EXECUTION_FREQUENCIES } from '../../domain/payment-request.ts';
import { createBerlinGroupConnector } from './connector.ts';
import { checkOptions, PROFILE_KEYS } from './profile.ts';

/** What the standard allows at most; each bank's profile narrows it. */
export const BERLIN_GROUP_SETTINGS: PaymentSettings = {
  available_validate_mechanisms: ['webauth'],
  beneficiary_types: ['iban'],
  execution_date_types: ['first_open_day', 'instant', 'deferred', 'periodic'],
  execution_frequencies: [...EXECUTION_FREQUENCIES],
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
  // bulkPaymentInitiation_json requires debtorAccount, with no ASPSP exception.
  bulk_providing_payer_account: 'mandatory',
  trusted_beneficiaries_required_for_bulk: false,
};

export const berlinGroupModule: ConnectorModule = {
  standard: 'berlin-group',
  profileKeys: PROFILE_KEYS,
  settings: BERLIN_GROUP_SETTINGS,
  apiPrefix: '/v1',
  validateConfig(raw, bank): BankProfile {
    return { ...checkedProfile(() => checkOptions(raw, bank.sca_approach)) };
  },
  create(bank) {
    return createBerlinGroupConnector(bank, BERLIN_GROUP_SETTINGS);
  },
};
