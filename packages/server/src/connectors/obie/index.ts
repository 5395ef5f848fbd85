/** The `obie` connector module: UK Open Banking Read/Write API payment initiation, v4.0 and v3.1.11 (spec/obie/). */
import { EXECUTION_FREQUENCIES } from '../../domain/payment-request.ts';
import type { BankProfile, ConnectorModule, PaymentSettings } from '../kit/index.ts';
import { checkedProfile } from '../kit/profile-error.ts';
import { createObieConnector } from './connector.ts';
import { checkOptions, PROFILE_KEYS } from './profile.ts';

/** What the standard allows at most; each bank's profile narrows it. */
export const OBIE_SETTINGS: PaymentSettings = {
  available_validate_mechanisms: ['webauth'],
  beneficiary_types: ['sort_code_account_number', 'iban'],
  execution_date_types: ['first_open_day', 'instant', 'deferred', 'periodic'],
  execution_frequencies: [...EXECUTION_FREQUENCIES],
  maximum_number_of_instructions: 1,
  providing_payer_account: 'optional',
  partial_status_tracking: [],
  is_app_to_app_used: { android: false, ios: false },
  bank_provides_payer_account: false,
  bank_provides_payer_label: false,
  transfer_date_types_where_trusted_beneficiary_required: [],
  // The payment initiation API has no cancellation of an initiated payment (no DELETE in either file).
  cancellation_available: false,
  minimum_amount: { first_open_day: '0.01', instant: '0.01', deferred: '0.01', periodic: '0.01' },
  maximum_amount: null,
  minimum_date_delta_days: 1,
  maximum_date_delta_days: 365,
  currencies: ['GBP'],
  bulk_execution_date_types: [],
  bulk_providing_payer_account: 'optional',
  trusted_beneficiaries_required_for_bulk: false,
};

export const obieModule: ConnectorModule = {
  standard: 'obie',
  profileKeys: PROFILE_KEYS,
  settings: OBIE_SETTINGS,
  // The key is named by `signing_kid` in the bank's directory; no certificate travels with a signature.
  signingCertificate: 'optional',
  validateConfig(raw): BankProfile {
    return { ...checkedProfile(() => checkOptions(raw)) };
  },
  create(bank) {
    return createObieConnector(bank, OBIE_SETTINGS);
  },
};
