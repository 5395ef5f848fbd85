/**
 * The simulator's own checks of an initiation body: what a bank refuses and Prism does not check
 * (docs/reference/berlin-group.md §13: IBAN check digits, comma or over-precise amounts, whether the body fits
 * the path, dates). The first problem found is answered as one `tppMessages` entry naming the field.
 */
import { isValidBIC, isValidIBAN } from 'ibantools';
import { currencyExponent, isCurrency } from '../../../domain/money.ts';

export const PAYMENT_SERVICES = ['payments', 'bulk-payments', 'periodic-payments'] as const;
export type PaymentService = (typeof PAYMENT_SERVICES)[number];
export const PAYMENT_PRODUCTS = [
  'sepa-credit-transfers',
  'instant-sepa-credit-transfers',
  'target-2-payments',
  'cross-border-credit-transfers',
  'pain.001-sepa-credit-transfers',
  'pain.001-instant-sepa-credit-transfers',
] as const;
export type PaymentProduct = (typeof PAYMENT_PRODUCTS)[number];

export const FREQUENCIES = ['Daily', 'Weekly', 'EveryTwoWeeks', 'Monthly', 'EveryTwoMonths', 'Quarterly', 'SemiAnnual', 'Annual', 'MonthlyVariable'] as const;

export interface TppMessage {
  category: 'ERROR' | 'WARNING';
  code: string;
  path?: string;
  text?: string;
}

/** A refusal: the HTTP status and the one message that explains it. */
export class Refusal extends Error {
  readonly status: number;
  readonly tppMessage: TppMessage;
  constructor(status: number, code: string, text: string, path?: string) {
    super(text);
    this.status = status;
    this.tppMessage = { category: 'ERROR', code, ...(path ? { path } : {}), text };
  }
}

const AMOUNT = /^[0-9]{1,14}(\.[0-9]{1,3})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_BULK = 1000;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const format = (path: string, text: string) => new Refusal(400, 'FORMAT_ERROR', text, path);

export interface ValidationOptions {
  /** Today's date (`YYYY-MM-DD`, UTC) by the simulator's clock. */
  today: string;
  requireDebtorAccount: boolean;
  /** Refuse a transfer without `creditorAddress` (at least its country), as some banks do for SEPA. */
  requireCreditorAddress?: boolean;
}

/** Throws a `Refusal` for the first problem of an initiation body sent to `service/product`. */
export function validateInitiation(service: PaymentService, product: PaymentProduct, body: unknown, options: ValidationOptions): void {
  if (!isObject(body)) throw format('', 'The body must be a JSON object.');
  if (body.debtorAccount !== undefined || options.requireDebtorAccount) account(body.debtorAccount, 'debtorAccount');
  if (service === 'bulk-payments') {
    validateBulk(product, body, options);
    return;
  }
  transfer(product, body, '', options);
  if (service === 'periodic-payments') {
    validatePeriodic(body, options);
    return;
  }
  executionDate(product, body.requestedExecutionDate, options);
}

function validateBulk(product: PaymentProduct, body: Json, options: ValidationOptions): void {
  const payments = body.payments;
  if (!Array.isArray(payments) || payments.length === 0) throw format('payments', 'payments must be a non-empty array.');
  if (payments.length > MAX_BULK) throw new Refusal(400, 'PARAMETER_NOT_SUPPORTED', `At most ${MAX_BULK} payments in a bulk.`, 'payments');
  payments.forEach((element, i) => {
    if (!isObject(element)) throw format(`payments[${i}]`, 'Each payment must be an object.');
    transfer(product, element, `payments[${i}].`, options);
  });
  if (body.batchBookingPreferred !== undefined && typeof body.batchBookingPreferred !== 'boolean')
    throw format('batchBookingPreferred', 'batchBookingPreferred must be a boolean.');
  executionDate(product, body.requestedExecutionDate, options);
}

/** The fields of one credit transfer, in a single payment, a periodic one or a bulk element. */
function transfer(product: PaymentProduct, body: Json, prefix: string, options: ValidationOptions): void {
  amount(product, body.instructedAmount, `${prefix}instructedAmount`);
  account(body.creditorAccount, `${prefix}creditorAccount`);
  text(body.creditorName, `${prefix}creditorName`, 70, true);
  text(body.remittanceInformationUnstructured, `${prefix}remittanceInformationUnstructured`, 140, false);
  text(body.endToEndIdentification, `${prefix}endToEndIdentification`, 35, false);
  if (body.creditorAgent !== undefined && (typeof body.creditorAgent !== 'string' || !isValidBIC(body.creditorAgent))) {
    throw format(`${prefix}creditorAgent`, 'creditorAgent is not a valid BIC.');
  }
  if (body.creditorAddress === undefined && options.requireCreditorAddress)
    throw format(`${prefix}creditorAddress`, 'This bank needs creditorAddress (at least the country) for a SEPA transfer.');
  if (body.creditorAddress !== undefined) {
    const address = body.creditorAddress;
    if (!isObject(address) || typeof address.country !== 'string' || !/^[A-Z]{2}$/.test(address.country)) {
      throw format(`${prefix}creditorAddress.country`, 'creditorAddress needs a two-letter country code.');
    }
  }
}

function account(value: unknown, path: string): void {
  if (!isObject(value)) throw format(path, `${path} is required.`);
  if (typeof value.iban !== 'string') throw format(`${path}.iban`, `${path} must name an account by iban.`);
  if (!isValidIBAN(value.iban)) throw format(`${path}.iban`, `${path}.iban is not a valid IBAN.`);
  if (value.currency !== undefined && (typeof value.currency !== 'string' || !isCurrency(value.currency))) {
    throw format(`${path}.currency`, `${path}.currency is not an ISO 4217 currency.`);
  }
}

function amount(product: PaymentProduct, value: unknown, path: string): void {
  if (!isObject(value)) throw format(path, `${path} is required.`);
  const { currency, amount } = value;
  if (typeof currency !== 'string' || !isCurrency(currency)) throw format(`${path}.currency`, 'currency is not an ISO 4217 currency.');
  if (typeof amount !== 'string' || !AMOUNT.test(amount)) throw format(`${path}.amount`, 'amount must be a decimal string with a dot, e.g. "50.90".');
  const decimals = amount.split('.')[1]?.length ?? 0;
  if (decimals > currencyExponent(currency)) throw format(`${path}.amount`, `${currency} has ${currencyExponent(currency)} decimals.`);
  if (!/[1-9]/.test(amount)) throw format(`${path}.amount`, 'amount must be greater than zero.');
  if (product !== 'cross-border-credit-transfers' && currency !== 'EUR') {
    throw new Refusal(400, 'PARAMETER_NOT_SUPPORTED', `${product} is for EUR only.`, `${path}.currency`);
  }
}

function text(value: unknown, path: string, max: number, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value.trim() === '') throw format(path, `${path} is required.`);
  if (value.length > max) throw format(path, `${path} is longer than ${max} characters.`);
}

function isDate(value: unknown): value is string {
  if (typeof value !== 'string' || !DATE.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
}

function executionDate(product: PaymentProduct, value: unknown, options: ValidationOptions): void {
  if (value === undefined) return;
  if (!isDate(value)) throw format('requestedExecutionDate', 'requestedExecutionDate must be a date (YYYY-MM-DD).');
  if (value < options.today) throw new Refusal(400, 'EXECUTION_DATE_INVALID', 'requestedExecutionDate is in the past.', 'requestedExecutionDate');
  if (product === 'instant-sepa-credit-transfers' && value > options.today) {
    throw new Refusal(400, 'EXECUTION_DATE_INVALID', 'An instant payment cannot be dated in the future.', 'requestedExecutionDate');
  }
}

function validatePeriodic(body: Json, options: ValidationOptions): void {
  if (!isDate(body.startDate)) throw format('startDate', 'startDate must be a date (YYYY-MM-DD).');
  if (body.startDate < options.today) throw new Refusal(400, 'EXECUTION_DATE_INVALID', 'startDate is in the past.', 'startDate');
  if (!FREQUENCIES.includes(body.frequency as (typeof FREQUENCIES)[number])) throw format('frequency', `frequency must be one of ${FREQUENCIES.join(', ')}.`);
  if (body.endDate !== undefined) {
    if (!isDate(body.endDate)) throw format('endDate', 'endDate must be a date (YYYY-MM-DD).');
    if (body.endDate < body.startDate) throw new Refusal(400, 'PERIOD_INVALID', 'endDate is before startDate.', 'endDate');
  }
  if (body.executionRule !== undefined && body.executionRule !== 'following' && body.executionRule !== 'preceding') {
    throw format('executionRule', 'executionRule must be following or preceding.');
  }
  if (body.dayOfExecution !== undefined && !(typeof body.dayOfExecution === 'string' && /^([1-9]|[12][0-9]|3[01])$/.test(body.dayOfExecution))) {
    throw format('dayOfExecution', 'dayOfExecution must be "1" to "31".');
  }
  const months = body.monthsOfExecution;
  if (months !== undefined) {
    if (body.frequency !== 'MonthlyVariable')
      throw new Refusal(400, 'PARAMETER_NOT_CONSISTENT', 'monthsOfExecution goes with frequency MonthlyVariable only.', 'monthsOfExecution');
    if (!Array.isArray(months) || months.length === 0 || months.length > 11 || months.some((m) => typeof m !== 'string' || !/^([1-9]|1[0-2])$/.test(m))) {
      throw format('monthsOfExecution', 'monthsOfExecution must list months "1" to "12".');
    }
  }
}
