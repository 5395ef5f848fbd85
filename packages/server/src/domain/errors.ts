/**
 * The one catalogue of error codes Payrail answers with, and their HTTP statuses.
 * docs/errors.md documents the same table; test/errors-doc.test.ts fails when they disagree.
 */
export const ERROR_CATALOGUE = {
  missingParameter: { status: 400, description: 'A required parameter is missing.' },
  invalidValue: { status: 400, description: 'A parameter has an invalid value.' },
  notSupported: { status: 400, description: 'The operation is not supported for this resource.' },
  unauthorized: {
    status: 401,
    description: "You don't have the required authorization parameter to access this endpoint.",
  },
  forbidden: { status: 403, description: 'The token does not grant access to this resource.' },
  notFound: { status: 404, description: 'The resource does not exist.' },
  methodNotAllowed: { status: 405, description: 'This method is not allowed on this endpoint.' },
  idempotencyKeyInUse: {
    status: 409,
    description: 'A request with this Idempotency-Key is still being processed.',
  },
  invalidState: { status: 409, description: "The payment's state does not allow this operation." },
  payloadTooLarge: { status: 413, description: 'The request body is too large.' },
  unsupportedMediaType: { status: 415, description: 'The request body has an unsupported content type.' },
  idempotencyKeyReused: {
    status: 422,
    description: 'This Idempotency-Key was already used with a different request body.',
  },
  tooManyRequests: { status: 429, description: 'Too many requests: retry after the number of seconds in the Retry-After header.' },
  bug: { status: 500, description: 'Internal error.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** A failure the client caused or must know about; rendered as the Powens error body. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly userMessage: string | null;

  constructor(code: ErrorCode, description?: string, options: { field?: string; userMessage?: string } = {}) {
    const text = description ?? ERROR_CATALOGUE[code].description;
    super(options.field && !text.startsWith(options.field) ? `${options.field}: ${text}` : text);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.field = options.field;
    this.userMessage = options.userMessage ?? null;
  }
}

/** The field is absent (or null where a value is required). */
export function missing(field: string): ApiError {
  return new ApiError('missingParameter', `${field} is required`, { field });
}

/** The field is present but its value breaks a rule; `reason` says which. */
export function invalid(field: string, reason: string): ApiError {
  return new ApiError('invalidValue', `${field}: ${reason}`, { field });
}
