/**
 * The logs: pino options (redaction, a request serialiser without query or headers), one access
 * line per request (AccessLog) and request loggers made only when a request writes a line of its
 * own (LazyChildLogger). These are Fastify constructor options, so app.ts passes them to Fastify().
 */
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Never logged, wherever they appear in a log line: credentials, tokens, secrets, account numbers
 * and identities (and what a database error may quote of a row). Checked by test/request-logs.test.ts.
 */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  ...[
    'client_secret',
    'secret',
    'secret_key',
    'token',
    'password',
    'iban',
    'identification',
    'payer',
    'payer_identity',
    'beneficiary',
    'beneficiary_identity',
    'operator_identity',
    'body',
    'detail',
    'where',
    'parameters',
    'query',
  ].flatMap((key) => [key, `*.${key}`]),
];

/** Logs carry the path, never the query string (it can hold IBANs) nor headers (tokens). */
const serializers = {
  req(request: { method: string; url: string; id: string }) {
    return { method: request.method, path: pathOf(request.url), id: request.id };
  },
};

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * One access line per request, when it completes, instead of Fastify's two ("incoming request" is
 * logged at debug only). The line carries the request id, method, path (never the query), status and
 * time: nothing the redaction list covers, so it is written by a child logger without redaction
 * (redacting every path of every line cost about a tenth of a GET's CPU). Every other line, including
 * "request errored", keeps the full redaction.
 */
export class AccessLog extends LogController {
  #plain = new WeakMap<object, FastifyBaseLogger>();
  override incomingRequest(request: FastifyRequest): void {
    if ((request.log as unknown as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.('debug'))
      request.log.debug({ req: request }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    const server = request.server.log;
    let plain = this.#plain.get(server);
    if (!plain) {
      plain = server.child({}, { redact: [] } as never);
      this.#plain.set(server, plain);
    }
    plain.info(
      { reqId: request.id, method: request.method, path: pathOf(request.url), statusCode: reply.statusCode, responseTime: reply.elapsedTime },
      'request completed',
    );
  }
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger (`request.log`, bound to its reqId), made into a pino child only when the
 * request writes a line of its own: most requests write none besides the access line, and a pino
 * child costs its bindings' serialisation and redaction (about 2% of a GET's CPU). Levels are
 * checked on the parent first, so a debug call at level info creates nothing.
 */
class LazyChildLogger {
  #parent: FastifyBaseLogger;
  #bindings: Record<string, unknown>;
  #options: object;
  #child: FastifyBaseLogger | null = null;
  constructor(parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: object) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }
  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }
  #write(method: LogMethod, args: unknown[]): void {
    const enabled = (this.#parent as unknown as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.(method) ?? true;
    if (enabled) (this.#real()[method] as (...a: unknown[]) => void)(...args);
  }
  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  isLevelEnabled(level: string): boolean {
    const logger = (this.#child ?? this.#parent) as unknown as { isLevelEnabled?(l: string): boolean };
    return logger.isLevelEnabled?.(level) ?? true;
  }
  child(bindings: Record<string, unknown>, options?: object): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}
}

/** Fastify's `logger` option: false (no logs), or pino's options with Payrail's serialiser and redaction. */
export function loggerOptions(logger: boolean | Record<string, unknown> | undefined) {
  return logger === false || logger === undefined
    ? false
    : { ...(logger === true ? {} : logger), serializers, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } };
}

/** Fastify's `childLoggerFactory`: a LazyChildLogger unless the request sets its own level. */
export function childLoggerFactory(logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: object): FastifyBaseLogger {
  return (options as { level?: string }).level === undefined
    ? (new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger)
    : logger.child(bindings, options);
}
