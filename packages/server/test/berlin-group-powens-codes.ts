/** Powens PaymentErrorCode values (powens-pay-api.md §5.4), for checking connector tables. */
export const POWENS_ERROR_CODES = [
  'invalidEmitter', 'insufficientFunds', 'invalidAmount', 'invalidCurrency', 'invalidDate', 'invalidBeneficiary', 'invalidLabel',
  'invalidReferenceId', 'regulatoryReason', 'authenticationFailed', 'noAnswerFromCustomer', 'noSpecifiedReason', 'CancelledByUser',
  'CancelledByClient', 'confirmationRefused', 'bankMessage', 'invalidValue', 'websiteUnavailable', 'bug',
] as const;
