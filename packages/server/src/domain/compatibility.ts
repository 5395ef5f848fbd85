/**
 * Is a payment compatible with a connector? Reasons use Powens' PaymentConnectorIncompatibility
 * codes (docs/reference/powens-pay-api.md §4.13, §10.2). `incompatible` reasons block validation; `warning`s do not.
 */
import type { PaymentSettings } from './connector-descriptor.ts';
import { parseAmount } from './money.ts';

export interface IncompatibilityReason {
  code: string;
  type: 'incompatible' | 'warning';
  description: string;
  value_connector: unknown;
  value_payment: unknown;
}

export interface PaymentForCompatibility {
  execution_date_type: string;
  currency: string;
  has_payer: boolean;
  instructions: { amount_minor: number; execution_date: string | null; start_date: string | null; frequency: string | null; beneficiary_scheme: string }[];
}

const DAY_MS = 24 * 3600 * 1000;

function daysAhead(date: string, nowMs: number): number {
  const today = Date.UTC(new Date(nowMs).getUTCFullYear(), new Date(nowMs).getUTCMonth(), new Date(nowMs).getUTCDate());
  return Math.round((Date.parse(`${date}T00:00:00Z`) - today) / DAY_MS);
}

/** `settings`: the connector's declared PaymentSettings (the service hands them over; the domain knows no registry). */
export function incompatibilities(payment: PaymentForCompatibility, settings: PaymentSettings, nowMs: number): IncompatibilityReason[] {
  const s = settings;
  const reasons: IncompatibilityReason[] = [];
  const add = (code: string, type: 'incompatible' | 'warning', description: string, value_connector: unknown, value_payment: unknown) =>
    reasons.push({ code, type, description, value_connector, value_payment });
  const type = payment.execution_date_type as (typeof s.execution_date_types)[number];
  const count = payment.instructions.length;

  if (!s.execution_date_types.includes(type)) add('nspDateType', 'incompatible', `the bank does not support ${type} payments`, s.execution_date_types, type);
  if (!s.currencies.includes(payment.currency))
    add('nspCurrency', 'incompatible', `the bank does not support ${payment.currency}`, s.currencies, payment.currency);
  if (count > 1 && s.maximum_number_of_instructions <= 1)
    add('nspBulk', 'incompatible', 'the bank does not support bulk payments', s.maximum_number_of_instructions, count);
  else if (count > s.maximum_number_of_instructions)
    add('maxBulk', 'incompatible', 'too many instructions for this bank', s.maximum_number_of_instructions, count);
  if (count > 1 && !s.bulk_execution_date_types.includes(type))
    add('nspBulk', 'incompatible', `the bank does not support bulk ${type} payments`, s.bulk_execution_date_types, type);
  if (payment.has_payer && s.providing_payer_account === 'not_used')
    add('nspPayer', 'incompatible', 'the bank does not accept a payer account given in advance', s.providing_payer_account, true);
  if (s.transfer_date_types_where_trusted_beneficiary_required.includes(type))
    add('trustBenef', 'warning', 'the payer must trust the beneficiary first', s.transfer_date_types_where_trusted_beneficiary_required, type);

  for (const instruction of payment.instructions) {
    if (!s.beneficiary_types.includes(instruction.beneficiary_scheme as (typeof s.beneficiary_types)[number])) {
      add(
        'nspBenefScheme',
        'incompatible',
        `the bank does not pay ${instruction.beneficiary_scheme} accounts`,
        s.beneficiary_types,
        instruction.beneficiary_scheme,
      );
    }
    if (type === 'periodic' && instruction.frequency && !s.execution_frequencies.includes(instruction.frequency as (typeof s.execution_frequencies)[number])) {
      add('nspFrequency', 'incompatible', `the bank does not support ${instruction.frequency} standing orders`, s.execution_frequencies, instruction.frequency);
    }
    const min = s.minimum_amount?.[type];
    if (min && s.currencies.includes(payment.currency) && instruction.amount_minor < parseAmount(min, payment.currency, 'minimum_amount')) {
      add('minAmount', 'incompatible', 'the amount is below the bank minimum', min, instruction.amount_minor);
    }
    const max = s.maximum_amount?.[type];
    if (max && s.currencies.includes(payment.currency) && instruction.amount_minor > parseAmount(max, payment.currency, 'maximum_amount')) {
      add('maxAmount', 'warning', 'the amount is above the bank known limit (the payer may lift it)', max, instruction.amount_minor);
    }
    const date = instruction.execution_date ?? instruction.start_date;
    if (date) {
      const ahead = daysAhead(date, nowMs);
      if (ahead < s.minimum_date_delta_days) add('minDateDelta', 'incompatible', 'the execution date is too near', s.minimum_date_delta_days, ahead);
      if (s.maximum_date_delta_days !== null && ahead > s.maximum_date_delta_days)
        add('maxDateDelta', 'incompatible', 'the execution date is too far ahead', s.maximum_date_delta_days, ahead);
    }
  }
  // One reason per code is enough to explain it.
  return reasons.filter((r, i) => reasons.findIndex((o) => o.code === r.code) === i);
}

export function isCompatible(reasons: readonly IncompatibilityReason[]): boolean {
  return !reasons.some((r) => r.type === 'incompatible');
}
