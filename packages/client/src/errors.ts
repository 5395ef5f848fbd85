/** An error answered by the API: the Powens error body, typed. */
export class PayrailError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Powens error code, e.g. `invalidValue`, `unauthorized`, `notFound` (open-ended). */
  readonly code: string;
  readonly description: string;
  /** Text from the bank or provider meant for the end user, when there is one. */
  readonly userMessage: string | null;
  /** Quote it to support: the server logs the request under this id. */
  readonly requestId: number | null;
  /** The offending field (Payrail extension), e.g. `instructions[0].amount`. */
  readonly field: string | null;

  constructor(status: number, body: Record<string, unknown> | null) {
    const code = typeof body?.code === 'string' ? body.code : `http${status}`;
    const description = typeof body?.description === 'string' ? body.description : `HTTP ${status}`;
    super(`${code}: ${description}`);
    this.name = 'PayrailError';
    this.status = status;
    this.code = code;
    this.description = description;
    this.userMessage = typeof body?.message === 'string' ? body.message : null;
    this.requestId = typeof body?.request_id === 'number' ? body.request_id : null;
    this.field = typeof body?.field === 'string' ? body.field : null;
  }
}

/** The server could not be reached (after the retries). */
export class PayrailNetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PayrailNetworkError';
  }
}
