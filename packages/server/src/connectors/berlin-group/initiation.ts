/**
 * Payment → NextGenPSD2 initiation request (docs/reference/berlin-group.md §1, §2): which service and product,
 * and the JSON body. Pure: the same payment and profile always give the same request.
 */
import { formatMinorUnits } from '../../domain/money.ts';
import type { BerlinGroupProfile } from './profile.ts';
import { sepaText } from '../kit/sepa-text.ts';

export type PaymentService = 'payments' | 'bulk-payments' | 'periodic-payments';
export type PaymentProduct = 'sepa-credit-transfers' | 'instant-sepa-credit-transfers';
/** A product as called: the JSON one, or its pain.001 XML twin (profile `pain001`, pain.ts). */
export type CalledProduct = PaymentProduct | `pain.001-${PaymentProduct}`;

export interface InitiationAccount {
  scheme_name: string;
  identification: string;
  label?: string | null;
  bic?: string | null;
  postal_address?: { country: string; street_name?: string; building_number?: string; post_code?: string; town_name?: string } | null;
}

export interface InitiationInstruction {
  amount_minor: number;
  currency: string;
  label: string;
  reference_id: string;
  execution_date: string | null;
  beneficiary: InitiationAccount;
  start_date?: string | null;
  end_date?: string | null;
  frequency?: string | null;
}

export interface InitiationPayment {
  execution_date_type: string;
  currency: string;
  instructions: InitiationInstruction[];
  payer: InitiationAccount | null;
}

export type InitiationRequest =
  | { ok: true; service: PaymentService; product: PaymentProduct; body: Record<string, unknown> }
  | { ok: false; error_code: string; description: string };

export const CREDITOR_NAME_MAX = 70;
export const REMITTANCE_MAX = 140;
export const END_TO_END_MAX = 35;

/** Powens frequency → `frequencyCode` (four-monthly has no code: MonthlyVariable where the bank allows it). */
export const FREQUENCY_TABLE: Readonly<Record<string, string | null>> = {
  daily: 'Daily',
  weekly: 'Weekly',
  'two-weekly': 'EveryTwoWeeks',
  monthly: 'Monthly',
  'two-monthly': 'EveryTwoMonths',
  quarterly: 'Quarterly',
  'four-monthly': null,
  semiannually: 'SemiAnnual',
  yearly: 'Annual',
};

function refuse(error_code: string, description: string): InitiationRequest {
  return { ok: false, error_code, description };
}

/** Minor units → the standard's amount string (`-?[0-9]{1,14}(\.[0-9]{1,3})?`), exact. */
export function amountString(minor: number, currency: string): string {
  return formatMinorUnits(minor, currency);
}

/**
 * `creditorAddress` (Berlin Group `address`): the beneficiary's postal address when the merchant gave
 * one; with the profile's `creditor_address`, at least the country of the creditor's IBAN.
 */
function creditorAddress(i: InitiationInstruction, always: boolean): Record<string, unknown> {
  const a = i.beneficiary.postal_address;
  if (a) {
    return {
      creditorAddress: {
        ...(a.street_name ? { streetName: sepaText(a.street_name, 70) } : {}),
        ...(a.building_number ? { buildingNumber: sepaText(a.building_number, 16) } : {}),
        ...(a.town_name ? { townName: sepaText(a.town_name, 35) } : {}),
        ...(a.post_code ? { postCode: sepaText(a.post_code, 16) } : {}),
        country: a.country,
      },
    };
  }
  return always ? { creditorAddress: { country: i.beneficiary.identification.slice(0, 2).toUpperCase() } } : {};
}

function element(i: InitiationInstruction, profile: BerlinGroupProfile): Record<string, unknown> {
  const name = sepaText(i.beneficiary.label ?? '', CREDITOR_NAME_MAX);
  return {
    endToEndIdentification: i.reference_id.slice(0, END_TO_END_MAX),
    instructedAmount: { currency: i.currency, amount: amountString(i.amount_minor, i.currency) },
    creditorAccount: { iban: i.beneficiary.identification },
    ...(i.beneficiary.bic ? { creditorAgent: i.beneficiary.bic } : {}),
    creditorName: name || '-',
    ...creditorAddress(i, profile.creditor_address),
    remittanceInformationUnstructured: sepaText(i.label, REMITTANCE_MAX),
  };
}

/** The four months of a four-monthly order, starting with the start date's month. */
function everyFourMonths(startDate: string): string[] {
  const first = Number(startDate.slice(5, 7));
  return [0, 4, 8].map((k) => String(((first - 1 + k) % 12) + 1));
}

function periodic(i: InitiationInstruction, profile: BerlinGroupProfile): Record<string, unknown> | string {
  if (!i.start_date || !i.frequency) return 'a periodic payment needs a start date and a frequency';
  const code = FREQUENCY_TABLE[i.frequency];
  if (code === undefined) return `frequency ${i.frequency} is unknown`;
  const frequency = code ?? (profile.monthly_variable ? 'MonthlyVariable' : null);
  if (!frequency) return `this bank has no ${i.frequency} standing orders`;
  return {
    startDate: i.start_date,
    ...(i.end_date ? { endDate: i.end_date } : {}),
    frequency,
    ...(frequency === 'MonthlyVariable' ? { monthsOfExecution: everyFourMonths(i.start_date) } : {}),
  };
}

export function buildInitiation(payment: InitiationPayment, profile: BerlinGroupProfile): InitiationRequest {
  const { instructions } = payment;
  const type = payment.execution_date_type;
  if (instructions.length === 0) return refuse('invalidValue', 'the payment has no instruction');
  if (payment.currency !== 'EUR' || instructions.some((i) => i.currency !== 'EUR'))
    return refuse('invalidCurrency', 'this bank takes SEPA credit transfers in EUR only');
  if (instructions.some((i) => i.beneficiary.scheme_name !== 'iban')) return refuse('invalidBeneficiary', 'this bank pays IBAN accounts only');
  if (payment.payer && payment.payer.scheme_name !== 'iban') return refuse('invalidEmitter', 'this bank debits IBAN accounts only');
  if (!payment.payer && profile.providing_payer_account === 'mandatory') return refuse('invalidEmitter', "this bank needs the payer's IBAN");
  const debtor = payment.payer ? { debtorAccount: { iban: payment.payer.identification } } : {};

  const product: PaymentProduct = type === 'instant' ? 'instant-sepa-credit-transfers' : 'sepa-credit-transfers';
  if (type !== 'deferred' && !(profile.execution_date_types as string[]).includes(type)) return refuse('invalidValue', `this bank offers no ${type} payments`);
  if (type === 'deferred' && !profile.deferred) return refuse('invalidDate', 'this bank takes no future-dated payments');
  const date = type === 'deferred' ? instructions[0]!.execution_date : null;
  if (type === 'deferred' && !date) return refuse('invalidDate', 'a deferred payment needs an execution date');
  const requested = date ? { requestedExecutionDate: date } : {};

  if (type === 'periodic') {
    if (instructions.length !== 1) return refuse('invalidValue', 'a standing order has exactly one instruction');
    const schedule = periodic(instructions[0]!, profile);
    if (typeof schedule === 'string') return refuse('invalidDate', schedule);
    return { ok: true, service: 'periodic-payments', product, body: { ...element(instructions[0]!, profile), ...debtor, ...schedule } };
  }
  if (instructions.length > 1) {
    const max = profile.bulk ? profile.max_instructions : 1;
    if (instructions.length > max) return refuse('invalidValue', `this bank takes at most ${max} instruction(s) per payment`);
    return { ok: true, service: 'bulk-payments', product, body: { ...debtor, ...requested, payments: instructions.map((i) => element(i, profile)) } };
  }
  return { ok: true, service: 'payments', product, body: { ...element(instructions[0]!, profile), ...debtor, ...requested } };
}
