/**
 * The payer's and the client's actions on a payment (the validation protocol, docs/reference/powens-pay-api.md §3.2, §4.2–4.7),
 * one file each under services/actions/: validate, resume (decoupled), fields, psu-validate,
 * bank-return, confirm, cancel. Each follows the bank boundary's three steps (docs/banks.md, "The boundary"): CHECK
 * (pure, payment-checks.ts) → ATTEMPT (the connector's bank calls, each recorded on the payment's
 * attempt before it leaves: services/attempts.ts) → APPLY (the reducer decides, the writer writes:
 * actions/apply.ts). This file is their index.
 */
export { applyAttempt, applyOutcome } from './actions/apply.ts';
export { bankReturn } from './actions/bank-return.ts';
export { cancelByPayer, cancelPaymentByClient } from './actions/cancel.ts';
export { confirmPayment } from './actions/confirm.ts';
export { type ActionEnvironment, type ActionTarget, atBank, connectorContext, connectorOf, connectorPayment, loadTarget, takeTurn } from './actions/context.ts';
export { submitFields } from './actions/fields.ts';
export { psuValidate } from './actions/psu-validate.ts';
export { resumePayment } from './actions/resume.ts';
export { type ValidateBody, validatePayment } from './actions/validate.ts';
export { compatibilityOf } from './payment-checks.ts';
export type { Operation } from './payment-reducer.ts';
