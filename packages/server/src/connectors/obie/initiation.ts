/**
 * Payment → UK Open Banking consent and payment bodies (`Data.Initiation` and `Risk`), for the
 * three resources Payrail initiates and both versions. Pure: the same payment, profile and
 * instruction id always give the same bodies, so the payment (`POST /domestic-payments`) carries
 * exactly its consent's Initiation and Risk, as the standard requires (else U008 ConsentMismatch).
 */
import { formatMinorUnits } from '../../domain/money.ts';
import type { ConnectorAccount, ConnectorPayment } from '../kit/types.ts';
import type { ObieOptions } from './profile.ts';
import { isV4, type ResourceKind } from './versions.ts';

export const INSTRUCTION_ID_MAX = 35;
export const END_TO_END_MAX = 35;
/** A UK reference: 18 characters reach the payee on Faster Payments; the file allows 35. */
export const REFERENCE_MAX = 18;
export const UNSTRUCTURED_MAX = 140;
export const NAME_MAX = 140;

/**
 * Powens frequency → OBIE's frequency grammar (`IntrvlMnthDay:MM:DD`, `IntrvlWkDay:WW:D`,
 * `EvryDay`), read from the start date: the v3 `Frequency` and the v4 `MandateRelatedInformation.Frequency.Type`
 * (whose `oneOf` allows the same grammar).
 */
export const FREQUENCY_TABLE: Readonly<Record<string, string>> = {
  daily: 'EvryDay',
  weekly: 'IntrvlWkDay:01:<weekday>',
  'two-weekly': 'IntrvlWkDay:02:<weekday>',
  monthly: 'IntrvlMnthDay:01:<day>',
  'two-monthly': 'IntrvlMnthDay:02:<day>',
  quarterly: 'IntrvlMnthDay:03:<day>',
  'four-monthly': 'IntrvlMnthDay:04:<day>',
  semiannually: 'IntrvlMnthDay:06:<day>',
  yearly: 'IntrvlMnthDay:12:<day>',
};

export function frequencyCode(frequency: string, startDate: string): string | null {
  const pattern = FREQUENCY_TABLE[frequency];
  if (!pattern) return null;
  const date = new Date(`${startDate}T00:00:00Z`);
  const weekday = ((date.getUTCDay() + 6) % 7) + 1; // 1 = Monday … 7 = Sunday
  return pattern.replace('<weekday>', `0${weekday}`).replace('<day>', startDate.slice(8, 10));
}

/** OBIE text fields take printable text: control characters out, trimmed to the limit. */
function clean(value: string, max: number): string {
  const text = value
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return [...text].slice(0, max).join('');
}

function account(a: ConnectorAccount, name: string | null): Record<string, unknown> {
  const scheme = a.scheme_name === 'iban' ? 'UK.OBIE.IBAN' : 'UK.OBIE.SortCodeAccountNumber';
  return { SchemeName: scheme, Identification: a.identification, ...(name ? { Name: name } : {}) };
}

const dateTime = (date: string) => `${date}T00:00:00+00:00`;

export type Bodies =
  | { ok: true; kind: ResourceKind; initiation: Record<string, unknown>; risk: Record<string, unknown>; permission: boolean }
  | { ok: false; error_code: string; description: string };

function refuse(error_code: string, description: string): Bodies {
  return { ok: false, error_code, description };
}

/** The resource kind of a payment: `deferred` → scheduled, `periodic` → standing order, else a single immediate payment. */
export function resourceKind(payment: Pick<ConnectorPayment, 'execution_date_type'>): ResourceKind {
  if (payment.execution_date_type === 'deferred') return 'scheduled';
  if (payment.execution_date_type === 'periodic') return 'standing-order';
  return 'domestic';
}

/** Initiation and Risk of a payment (`instructionId`: ours, unique, kept for the attempt). */
export function buildBodies(payment: ConnectorPayment, options: ObieOptions, instructionId: string): Bodies {
  const kind = resourceKind(payment);
  if (!options.execution_date_types.includes(payment.execution_date_type))
    return refuse('invalidValue', `this bank offers no ${payment.execution_date_type} payments`);
  if (payment.instructions.length !== 1) return refuse('invalidValue', 'UK Open Banking takes one instruction per payment');
  const i = payment.instructions[0]!;
  if (i.currency !== 'GBP' || payment.currency !== 'GBP') return refuse('invalidCurrency', 'domestic UK payments are in GBP');
  const v4 = isV4(options.api_version);
  const name = clean(i.beneficiary.label ?? '', NAME_MAX) || '-';
  const amount = { Amount: formatMinorUnits(i.amount_minor, i.currency), Currency: i.currency };
  const reference = clean(i.reference_id, REFERENCE_MAX) || instructionId.slice(0, REFERENCE_MAX);
  const label = clean(i.label, UNSTRUCTURED_MAX);
  const debtor = payment.payer ? { DebtorAccount: account(payment.payer, payment.payer.label ? clean(payment.payer.label, NAME_MAX) : null) } : {};
  const creditor = { CreditorAccount: account(i.beneficiary, name) };
  const remittance = v4
    ? { RemittanceInformation: { Unstructured: [label || reference] } }
    : { RemittanceInformation: { ...(label ? { Unstructured: label } : {}), Reference: reference } };
  const risk = {
    PaymentContextCode: options.payment_context_code,
    ...(options.merchant_category_code ? { MerchantCategoryCode: options.merchant_category_code } : {}),
  };
  const ids = { InstructionIdentification: instructionId, EndToEndIdentification: clean(i.reference_id, END_TO_END_MAX) || instructionId };
  if (kind === 'domestic')
    return {
      ok: true,
      kind,
      initiation: { ...ids, LocalInstrument: options.local_instrument, InstructedAmount: amount, ...debtor, ...creditor, ...remittance },
      risk,
      permission: false,
    };
  if (kind === 'scheduled') {
    if (!i.execution_date) return refuse('invalidDate', 'a deferred payment needs an execution date');
    const initiation = {
      ...ids,
      LocalInstrument: options.local_instrument,
      RequestedExecutionDateTime: dateTime(i.execution_date),
      InstructedAmount: amount,
      ...debtor,
      ...creditor,
      ...remittance,
    };
    return { ok: true, kind, initiation, risk, permission: true };
  }
  if (!i.start_date || !i.frequency) return refuse('invalidDate', 'a standing order needs a start date and a frequency');
  const frequency = frequencyCode(i.frequency, i.start_date);
  if (!frequency) return refuse('invalidDate', `frequency ${i.frequency} is unknown`);
  const final = i.end_date ? { FinalPaymentDateTime: dateTime(i.end_date) } : {};
  const initiation = v4
    ? {
        ...remittance,
        FirstPaymentAmount: amount,
        RecurringPaymentAmount: amount,
        ...debtor,
        ...creditor,
        MandateRelatedInformation: { Frequency: { Type: frequency }, FirstPaymentDateTime: dateTime(i.start_date), ...final },
      }
    : {
        Frequency: frequency,
        Reference: reference,
        FirstPaymentDateTime: dateTime(i.start_date),
        ...final,
        FirstPaymentAmount: amount,
        RecurringPaymentAmount: amount,
        ...debtor,
        ...creditor,
      };
  return { ok: true, kind, initiation, risk, permission: true };
}

/** The consent request's body. */
export function consentBody(bodies: Extract<Bodies, { ok: true }>): Record<string, unknown> {
  return { Data: { ...(bodies.permission ? { Permission: 'Create' } : {}), Initiation: bodies.initiation }, Risk: bodies.risk };
}

/** The payment request's body: the consent's Initiation and Risk, unchanged. */
export function paymentBody(bodies: Extract<Bodies, { ok: true }>, consentId: string): Record<string, unknown> {
  return { Data: { ConsentId: consentId, Initiation: bodies.initiation }, Risk: bodies.risk };
}
