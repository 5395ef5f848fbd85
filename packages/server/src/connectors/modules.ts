/**
 * The connector modules Payrail ships, one per standard. The built-in test bank is not a module
 * with banks of its own: it is switched on or off (`--test-bank`).
 *
 * `berlin-group` is a STUB until the Berlin Group connector lands (src/connectors/berlin-group/):
 * it validates a bank's profile and declares what the standard allows, so banks can be added and
 * listed, but its connector refuses every payment without calling the bank.
 */
import { BankConfigError, type BankProfile, type Connector, type ConnectorModule, type PaymentSettings } from './kit/types.ts';
import { bankDescriptor } from './kit/descriptor.ts';

const BERLIN_GROUP_SETTINGS: PaymentSettings = {
  available_validate_mechanisms: ['webauth'],
  beneficiary_types: ['iban'],
  execution_date_types: ['first_open_day', 'instant', 'deferred', 'periodic'],
  execution_frequencies: ['weekly', 'two-weekly', 'monthly', 'two-monthly', 'quarterly', 'semiannually', 'yearly'],
  maximum_number_of_instructions: 100,
  providing_payer_account: 'mandatory',
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
  bulk_execution_date_types: ['first_open_day', 'deferred'],
  bulk_providing_payer_account: 'mandatory',
  trusted_beneficiaries_required_for_bulk: false,
};

const PROFILE_KEYS: Record<string, string> = {
  bulk: 'boolean: bulk payments (bulk-payments) allowed (default false)',
  explicit_authorisation: 'boolean: ask for an explicit startAuthorisation (TPP-Explicit-Authorisation-Preferred) (default false)',
  providing_payer_account: 'mandatory | optional: whether the payer IBAN (debtorAccount) must be known before initiation (default mandatory)',
  poll_initial_ms: 'integer: first status check after the payer returns, ms (default 2000)',
  poll_max_ms: 'integer: longest wait between status checks, ms (default 60000)',
  signing: 'boolean: send Digest/Signature/TPP-Signature-Certificate (default: on when a signing key is given)',
  timeout_ms: 'integer: deadline of one bank call, ms (default 10000)',
  deferred: 'boolean: deferred payments via requestedExecutionDate (default false)',
  cancellation: 'boolean: cancellation with DELETE offered (default true)',
  execution_date_types: 'list: subset of first_open_day, instant, deferred, periodic',
};

/** Checks the keys every standard shares; the rest is the module's. */
export function checkCommonProfile(raw: unknown, keys: Record<string, string>): BankProfile {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BankConfigError('the profile must be an object');
  const profile = { ...(raw as Record<string, unknown>) };
  for (const [key, value] of Object.entries(profile)) {
    if (!(key in keys)) throw new BankConfigError(`${key} is not a profile key (${Object.keys(keys).join(', ')})`);
    const kind = keys[key]!.split(':')[0]!;
    if (kind === 'boolean' && typeof value !== 'boolean') throw new BankConfigError(`${key} must be true or false`);
    if (kind === 'integer' && !(Number.isSafeInteger(value) && (value as number) > 0)) throw new BankConfigError(`${key} must be a positive integer`);
    if (kind === 'list' && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) throw new BankConfigError(`${key} must be a list of strings`);
  }
  if (profile.providing_payer_account !== undefined && !['mandatory', 'optional', 'not_used'].includes(profile.providing_payer_account as string)) {
    throw new BankConfigError('providing_payer_account must be mandatory, optional or not_used');
  }
  return profile as BankProfile;
}

function stubConnector(connector: Pick<Connector, 'descriptor' | 'bank'>): Connector {
  const refuse = async () => ({ kind: 'refused' as const, error_code: 'notSupported', error_description: 'The Berlin Group connector is not installed in this build.', data: {} });
  return { ...connector, start: refuse, bankReturn: refuse, resume: refuse, submitFields: refuse, psuValidate: refuse, cancel: refuse, status: async () => null, pollIntervalMs: () => 60_000 };
}

export const berlinGroupStubModule: ConnectorModule = {
  standard: 'berlin-group',
  profileKeys: PROFILE_KEYS,
  settings: BERLIN_GROUP_SETTINGS,
  validateConfig(raw) {
    const profile = checkCommonProfile(raw, PROFILE_KEYS);
    return { providing_payer_account: 'mandatory', bulk: false, deferred: false, ...profile };
  },
  create(bank) {
    return stubConnector({ bank, descriptor: bankDescriptor(bank, BERLIN_GROUP_SETTINGS) });
  },
};

export const CONNECTOR_MODULES: readonly ConnectorModule[] = [berlinGroupStubModule];
