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
  serviceUnavailable: { status: 503, description: 'The service is temporarily unavailable; retry later.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * Codes Powens documents (docs/reference/powens-pay-api.md §14.1, its ServiceErrorCode enum and the codes observed in
 * practice). Every other code of the catalogue is a Payrail addition, listed in docs/errors.md.
 */
export const POWENS_ERROR_CODES: readonly string[] = [
  'missingParameter',
  'invalidValue',
  'methodNotAllowed',
  'connectionLocked',
  'bug',
  'unauthorized',
  'notSupported',
  'noAccount',
  'wrongpass',
  'websiteUnavailable',
  'tooManySync',
  'bankMessage',
  'actionNeeded',
  'config',
  'keymanager',
  'dataError',
];

/** A failure the client caused or must know about; rendered as the Powens error body. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  /** The error body's `message`: one sentence a client may show its user, naming the field. */
  readonly userMessage: string;

  constructor(code: ErrorCode, description?: string, options: { field?: string; userMessage?: string } = {}) {
    // The description is the text given, never prefixed (clients compare documented texts).
    const text = description ?? ERROR_CATALOGUE[code].description;
    super(text);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.field = options.field;
    this.userMessage = options.userMessage ?? humanMessage(code, text, options.field);
  }
}

/**
 * Core errors of a payment change, told apart inside the core (status sync retries a conflict soon,
 * and reports anything else as a failure); both are Powens' invalidState on the wire, rendered by
 * http/errors.ts like every ApiError.
 */
/** The payment changed between read and write (its version moved): read it again and retry. */
export class VersionConflict extends ApiError {
  readonly paymentId: number;
  constructor(paymentId: number) {
    super('invalidState', 'the payment changed meanwhile; read it again and retry');
    this.name = 'VersionConflict';
    this.paymentId = paymentId;
  }
}

/** The state machine forbids the change (a final state, or a step that does not exist). */
export class ForbiddenStateChange extends ApiError {
  readonly from: string;
  readonly to: string;
  constructor(from: string, to: string, description: string) {
    super('invalidState', description);
    this.name = 'ForbiddenStateChange';
    this.from = from;
    this.to = to;
  }
}

const VERB = /^(is|are|must|has|have|does|do|cannot|can|should|was|were|only|needs?)\b/;

/**
 * A sentence for people from the technical description: `instructions[0].amount: must be > 0` →
 * `The field "instructions[0].amount" must be > 0.`
 */
export function humanMessage(code: ErrorCode, description: string, field: string | undefined): string {
  const sentence = (text: string) => {
    // One line a client can show as it is: control characters the input carried become spaces.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    const trimmed = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
    const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
    return /[.!?]$/.test(capital) ? capital : `${capital}.`;
  };
  if (field && code === 'missingParameter') return `The field "${field}" is required.`;
  if (!field || /^[A-Z]/.test(description)) return sentence(description);
  const prefixed = description.startsWith(`${field}: `) || description.startsWith(`${field} `);
  const reason = prefixed
    ? description
        .slice(field.length + 1)
        .replace(/^: ?/, '')
        .trimStart()
    : description;
  if (!prefixed && code !== 'invalidValue') return sentence(description);
  if (VERB.test(reason)) return sentence(`The field "${field}" ${reason}`);
  return sentence(`The field "${field}" is invalid: ${reason}`);
}

/** The field is absent (or null where a value is required). */
export function missing(field: string): ApiError {
  return new ApiError('missingParameter', `${field} is required`, { field });
}

/** The field is present but its value breaks a rule; `reason` says which. */
export function invalid(field: string, reason: string): ApiError {
  return new ApiError('invalidValue', `${field}: ${reason}`, { field });
}
