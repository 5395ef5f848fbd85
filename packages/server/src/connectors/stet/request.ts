/**
 * Payment → STET `PaymentRequestResource` (docs/reference/stet.md §2): one `creditTransferTransaction`
 * per instruction, the execution date per instruction (1.5) or at payment level (1.4 shape), a
 * standing order's `standingOrderCharacteristics`, and `supplementaryData` with the accepted
 * approach and the report URLs back to Payrail. Pure: the same payment, profile and time always
 * give the same body.
 */
import { formatMinorUnits, parseAmount } from '../../domain/money.ts';
import type { ConnectorPayment } from '../kit/types.ts';
import { sepaText } from '../kit/sepa-text.ts';
import type { StetOptions } from './profile.ts';

/** Powens frequency → STET `frequency` (EventFrequency7Code); four-monthly has none. */
export const FREQUENCY_TABLE: Readonly<Record<string, string | null>> = {
  daily: 'DAIL',
  weekly: 'WEEK',
  'two-weekly': 'TOWK',
  monthly: 'MNTH',
  'two-monthly': 'TOMN',
  quarterly: 'QUTR',
  'four-monthly': null,
  semiannually: 'SEMI',
  yearly: 'YEAR',
};

export const ID_MAX = 36;
export const NAME_MAX = 140;
export const REMITTANCE_MAX = 140;

export type PaymentRequest = { ok: true; body: Record<string, unknown> } | { ok: false; error_code: string; description: string };

export interface RequestContext {
  now: number;
  /** Where the bank reports the end of the payer's consent (our return URLs). */
  reportUrls: { ok: string; nok: string };
}

const refuse = (error_code: string, description: string): PaymentRequest => ({ ok: false, error_code, description });

/** A STET identifier: the file's pattern `[a-zA-Z0-9 /\-?:().,']{1,36}`. */
export function stetId(value: string): string {
  return sepaText(value, ID_MAX).replace(/\+/g, ' ').trim() || 'NOTPROVIDED';
}

/** A calendar date as STET's date-time (midnight UTC of that date). */
const dateTime = (date: string) => `${date}T00:00:00.000Z`;

/** The payment's id for the bank: unique per initiation (a new attempt is a new payment request). */
export function paymentInformationId(payment: Pick<ConnectorPayment, 'id'>, now: number): string {
  return stetId(`PAYRAIL-${payment.id}-${now.toString(36).toUpperCase()}`);
}

function amount(minor: number, currency: string, profile: StetOptions): number | string {
  const text = formatMinorUnits(minor, currency);
  // A JSON number is written from the exact decimal string (no arithmetic on floats).
  return profile.amount_type === 'string' ? text : Number(text);
}

export function buildPaymentRequest(payment: ConnectorPayment, profile: StetOptions, ctx: RequestContext): PaymentRequest {
  const { instructions } = payment;
  const type = payment.execution_date_type;
  if (instructions.length === 0) return refuse('invalidValue', 'the payment has no instruction');
  if (payment.currency !== 'EUR' || instructions.some((i) => i.currency !== 'EUR'))
    return refuse('invalidCurrency', 'this bank takes SEPA credit transfers in EUR only');
  if (instructions.some((i) => i.beneficiary.scheme_name !== 'iban')) return refuse('invalidBeneficiary', 'this bank pays IBAN accounts only');
  if (payment.payer && payment.payer.scheme_name !== 'iban') return refuse('invalidEmitter', 'this bank debits IBAN accounts only');
  if (!profile.execution_date_types.includes(type)) return refuse('invalidValue', `this bank offers no ${type} payments`);
  const max = profile.bulk ? profile.max_instructions : 1;
  if (instructions.length > max) return refuse('invalidValue', `this bank takes at most ${max} instruction(s) per payment`);
  const minimum = parseAmount(profile.minimum_amount, 'EUR', 'minimum_amount');
  if (instructions.some((i) => i.amount_minor < minimum)) return refuse('invalidAmount', `this bank takes payments of at least ${profile.minimum_amount} EUR`);
  const created = new Date(ctx.now).toISOString();
  const today = created.slice(0, 10);

  let standingOrder: Record<string, unknown> | null = null;
  if (type === 'periodic') {
    const only = instructions[0]!;
    if (instructions.length !== 1) return refuse('invalidValue', 'a standing order has exactly one instruction');
    if (!only.start_date || !only.frequency) return refuse('invalidDate', 'a standing order needs a start date and a frequency');
    const frequency = FREQUENCY_TABLE[only.frequency];
    if (!frequency) return refuse('invalidDate', `this bank has no ${only.frequency} standing orders`);
    standingOrder = {
      startDate: dateTime(only.start_date),
      ...(only.end_date ? { endDate: dateTime(only.end_date) } : {}),
      executionRule: 'FWNG',
      frequency,
    };
  }
  const dateOf = (i: ConnectorPayment['instructions'][number]) =>
    type === 'periodic' ? dateTime(i.start_date!) : type === 'deferred' && i.execution_date ? dateTime(i.execution_date) : dateTime(today);
  if (type === 'deferred' && instructions.some((i) => !i.execution_date)) return refuse('invalidDate', 'a deferred payment needs an execution date');

  const transactions = instructions.map((i, index) => ({
    paymentId: { instructionId: stetId(`${payment.id}-${index + 1}`), endToEndId: stetId(i.reference_id) },
    ...(profile.execution_date_level === 'instruction' ? { requestedExecutionDate: dateOf(i) } : {}),
    instructedAmount: { amount: amount(i.amount_minor, i.currency, profile), currency: i.currency },
    beneficiary: {
      ...(i.beneficiary.bic ? { creditorAgent: { bicFi: i.beneficiary.bic } } : {}),
      creditor: { name: sepaText(i.beneficiary.label ?? '', NAME_MAX) || 'NOTPROVIDED' },
      creditorAccount: { iban: i.beneficiary.identification },
    },
    remittanceInformation: { unstructured: [sepaText(i.label, REMITTANCE_MAX) || 'NOTPROVIDED'] },
    ...(standingOrder ? { standingOrderCharacteristics: standingOrder } : {}),
  }));
  const approach = profile.approach;
  const body: Record<string, unknown> = {
    paymentInformationId: paymentInformationId(payment, ctx.now),
    creationDateTime: created,
    numberOfTransactions: instructions.length,
    initiatingParty: { name: sepaText(profile.initiating_party, NAME_MAX) },
    paymentTypeInformation: { serviceLevel: 'SEPA', ...(type === 'instant' ? { localInstrument: 'INST' } : {}), categoryPurpose: 'DVPM' },
    ...(type === 'instant' ? { acceptInstantPaymentDowngrade: false } : {}),
    ...(payment.payer ? { debtorAccount: { iban: payment.payer.identification } } : {}),
    ...(profile.execution_date_level === 'payment' ? { requestedExecutionDate: dateOf(instructions[0]!) } : {}),
    chargeBearer: 'SLEV',
    creditTransferTransaction: transactions,
    supplementaryData: {
      acceptedAuthenticationApproach: [approach],
      successfulReportUrl: ctx.reportUrls.ok,
      unsuccessfulReportUrl: ctx.reportUrls.nok,
    },
  };
  return { ok: true, body };
}
