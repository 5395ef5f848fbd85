/** One mapping from any failure to the Powens error body `{code, description, message, request_id}`. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ERROR_CATALOGUE, type ErrorCode } from '../domain/errors.ts';

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/instructions/0/beneficiary` → `instructions[0].beneficiary` */
export function jsonPointerToField(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function fromValidation(errors: AjvError[], context: string | undefined): ApiError {
  // Prefer the most specific error: a missing property, else the deepest path.
  const sorted = [...errors].sort(
    (a, b) => (b.keyword === 'required' ? 1 : 0) - (a.keyword === 'required' ? 1 : 0) || b.instancePath.length - a.instancePath.length,
  );
  const error = sorted[0]!;
  let field = jsonPointerToField(error.instancePath);
  if (context === 'headers') field = field.toLowerCase();
  if (error.keyword === 'required') {
    const name = String(error.params.missingProperty);
    field = field ? `${field}.${name}` : name;
    return new ApiError('missingParameter', `${field} is required`, { field });
  }
  const subject = field || (context === 'body' ? 'body' : (context ?? 'request'));
  let reason = error.message ?? 'is invalid';
  if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues)) reason = `must be one of ${error.params.allowedValues.join(', ')}`;
  // A union of literals (an enum, maybe nullable) fails with one `const` error per literal: list them.
  const literals = errors.filter((e) => e.keyword === 'const' && e.instancePath === error.instancePath).map((e) => e.params.allowedValue);
  if (literals.length) reason = `must be one of ${literals.join(', ')}`;
  else if (error.keyword === 'anyOf' || error.keyword === 'const') reason = 'has the wrong type or value';
  if (error.keyword === 'pattern' && subject === 'id') return new ApiError('invalidValue', 'id: must be a payment id (a whole number)', { field: 'id' });
  return new ApiError('invalidValue', `${subject}: ${reason}`, { field: subject });
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalidValue',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'notFound',
  405: 'methodNotAllowed',
  413: 'payloadTooLarge',
  415: 'unsupportedMediaType',
};

/**
 * A failure to reach the database, not a defect: a lost connection (terminated, restarted, failed
 * over), a connection or statement timeout. Its transaction rolled back, so the request may be retried.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // 08: connection exceptions; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now; 57014: statement timeout.
  if (
    /^08/.test(code) ||
    ['57P01', '57P02', '57P03', '57014', '25P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
  )
    return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable|Connection is closed/i.test(
    message,
  );
}

export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (isDatabaseUnavailable(error)) return new ApiError('serviceUnavailable', 'the database is unavailable; retry later');
  const e = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (e && Array.isArray(e.validation) && e.validation.length) return fromValidation(e.validation, e.validationContext);
  if (e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new ApiError('missingParameter', 'body is required: send a JSON object', { field: 'body' });
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError('unsupportedMediaType', 'send the body as application/json');
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('payloadTooLarge');
  if (e?.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new ApiError('invalidValue', 'Content-Length does not match the body');
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return new ApiError(STATUS_CODES[status] ?? 'invalidValue', e.message?.slice(0, 200));
  return null;
}

export function errorBody(error: ApiError, requestId: string) {
  return {
    code: error.code,
    description: error.message,
    message: error.userMessage,
    request_id: Number(requestId),
    ...(error.field ? { field: error.field } : {}),
  };
}

/** Extra members some endpoints add to the body, e.g. OAuth 2.0's on `/auth/token`. */
export type ErrorExtension = (error: ApiError) => Record<string, unknown>;

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown, extend?: ErrorExtension) {
  let apiError = toApiError(error);
  if (!apiError) {
    request.log.error({ err: error }, 'unhandled error');
    apiError = new ApiError('bug', ERROR_CATALOGUE.bug.description);
  } else if (apiError.code === 'serviceUnavailable') {
    request.log.warn({ error: (error as Error).message }, 'database unavailable');
    reply.header('retry-after', '1');
  } else if (apiError.status >= 500) {
    request.log.error({ err: error }, 'server error');
  }
  return reply
    .code(apiError.status)
    .type('application/json')
    .send({ ...errorBody(apiError, request.id), ...extend?.(apiError) });
}
