/**
 * The core's one outbound HTTP client for banks (ARCHITECTURE.md, "The bank boundary"). Per bank: an undici Agent holding
 * the mTLS client certificate and CA, the signer, and a deadline. Per call: a call record written
 * BEFORE the request (its id is the `X-Request-ID`), the deadline (`AbortSignal.timeout`), and the
 * exchange's facts with redacted bodies, handed to the core with the call's outcome. Network failures are answers (`kind: 'unknown'`), never throws.
 */
import { createPrivateKey, type KeyObject, randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Clock } from '../../domain/clock.ts';
import { type BankOAuth, checkOAuthProfile, createBankOAuth, readTokenAnswer, type TokenFetch } from './client-token.ts';
import { redactBody, redactForm } from './redact.ts';
import { createBankSigner, type BankSigner, type SignatureScheme } from './signing.ts';
import type { BankHttp, BankRequest, BankResponse, ConfiguredBank } from './types.ts';

export const DEFAULT_BANK_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** The opened key material of one bank; lives only in memory, inside its transport. */
export interface BankMaterial {
  clientCert?: string | null;
  clientKey?: string | null;
  ca?: string | null;
  signingKey?: string | null;
  signingCert?: string | null;
  /** The bank's OAuth client secret (`client_secret_basic`/`client_secret_post`). */
  oauthClientSecret?: string | null;
}

/** Everything needed to reach one bank; built once per bank and reused by every call. */
export interface BankTransport {
  bank: ConfiguredBank;
  /** undici is loaded when a bank is first set up, not at start-up (docs/performance.md). */
  dispatcher: Promise<Dispatcher>;
  signer: BankSigner | null;
  /** The bank's OAuth client (profile `oauth`): client authentication and the pre-step's token. */
  oauth?: BankOAuth | null;
  /** The bank's signing key, opened, for connectors that sign JOSE objects (BankHttp.signingKey). */
  signingKey: KeyObject | null;
  timeoutMs: number;
  /** Payrail's own sandbox endpoints (no `banks` row): attempts are recorded without a bank id. */
  selfHosted?: boolean;
  close(): Promise<void>;
}

/** `scheme`: how this bank's standard signs (`ConnectorModule.signatureScheme`); Berlin Group's when absent. */
export function createBankTransport(bank: ConfiguredBank, material: BankMaterial, scheme?: SignatureScheme): BankTransport {
  const connect: Record<string, unknown> = {};
  if (material.clientCert && material.clientKey) Object.assign(connect, { cert: material.clientCert, key: material.clientKey });
  if (material.ca) connect.ca = material.ca;
  const dispatcher = import('undici').then(({ Agent }) => new Agent({ connect, keepAliveTimeout: 10_000, connections: 32 }));
  dispatcher.catch(() => undefined); // a failure is reported by the call that awaits it
  const wantsSigning = bank.profile.signing ?? Boolean(material.signingKey);
  const signer = wantsSigning && material.signingKey && material.signingCert ? createBankSigner(material.signingKey, material.signingCert, scheme) : null;
  const oauth = bank.profile.oauth
    ? createBankOAuth(checkOAuthProfile(bank.profile.oauth), {
        clientSecret: material.oauthClientSecret,
        signingKey: material.signingKey,
        signingCert: material.signingCert,
      })
    : null;
  return {
    bank,
    dispatcher,
    signer,
    oauth,
    signingKey: material.signingKey ? createPrivateKey(material.signingKey) : null,
    timeoutMs: typeof bank.profile.timeout_ms === 'number' && bank.profile.timeout_ms > 0 ? bank.profile.timeout_ms : DEFAULT_BANK_TIMEOUT_MS,
    close: async () => (await dispatcher).close(),
  };
}

export type CallOutcome = 'ok' | 'refused' | 'unknown';

/** What the exchange log keeps of one finished call (bodies redacted). */
export interface ExchangeFacts {
  method: string;
  path: string;
  status: number | null;
  duration_ms: number;
  finished_at: number;
  request_body: string | null;
  response_body: string | null;
  error: string | null;
}

/**
 * One finished call, as the core records it: its outcome and its exchange facts are written
 * together, in the transaction of the state change it led to (`settleCalls`), so a call costs one
 * commit before it leaves and none of its own after it.
 */
export interface CallRecord {
  callId: string;
  paymentId: number;
  bankId: number | null;
  operation: string;
  outcome: CallOutcome;
  httpStatus: number | null;
  error: string | null;
  exchange: ExchangeFacts;
}

/** Where calls are recorded before they leave (services/attempts.ts implements it on the store). */
export interface AttemptRecorder {
  /** Must resolve before the request leaves: a call without its record is never sent. `attempt_id`: the attempt (initiation) it belongs to. */
  begin(row: { id: string; payment_id: number; attempt_id: number | null; bank_id: number | null; operation: string; started_at: number }): Promise<void>;
}

/** ok: 1xx-3xx; refused: a clear 4xx; unknown: 5xx or no answer (the bank may have acted). */
export function classifyStatus(status: number): CallOutcome {
  if (status >= 500) return 'unknown';
  if (status >= 400) return 'refused';
  return 'ok';
}

function failureReason(error: unknown): 'timeout' | 'reset' | 'network' {
  const e = error as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') return 'reset';
  return 'network';
}

function joinUrl(base: string, path: string): string {
  if (!path.startsWith('/') || path.startsWith('//') || /^[a-z][a-z0-9+.-]*:/i.test(path))
    throw new Error(`bank request path must be relative to the bank's base URL and start with "/": ${path}`);
  return `${base.replace(/\/+$/, '')}${path}`;
}

function absoluteUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`bank request URL must be http(s): ${url}`);
  return parsed.toString();
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readBody(body: Dispatcher.ResponseData['body'], contentType: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) throw Object.assign(new Error('response body too large'), { code: 'BODY_TOO_LARGE' });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return null;
  if (/json/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export interface BankHttpScope {
  transport: BankTransport;
  recorder: AttemptRecorder;
  clock: Clock;
  paymentId: number;
  /** The payment's attempt at the bank (services/attempts.ts) the calls belong to. */
  attemptId?: number | null;
}

/** A BankHttp bound to one payment; `calls` lists what it sent, for the core to record outcomes. */
export function createBankHttp(scope: BankHttpScope): BankHttp & { calls: CallRecord[] } {
  const calls: CallRecord[] = [];
  const { transport, recorder, clock, paymentId } = scope;
  const attempt = scope.attemptId ?? null;
  const bankId = transport.selfHosted ? null : transport.bank.id;
  const oauth = transport.oauth ?? null;

  /** The pre-step's token (cached, or fetched now through this client: the token call is one of this payment's calls). */
  async function clientToken(tokens: NonNullable<BankOAuth['tokens']>, tokenUrl: string): Promise<TokenFetch & { requestId?: string }> {
    let requestId: string | undefined;
    const fetched = await tokens.get(
      clock.now(),
      async () => {
        const scope = oauth!.profile.scope;
        const response = await once({
          operation: 'client-token',
          method: 'POST',
          path: '/',
          url: tokenUrl,
          form: { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
          clientAuth: true,
        });
        requestId = response.requestId;
        if (response.kind === 'unknown') return { ok: false, unknown: true, reason: `token endpoint: ${response.reason}` };
        return readTokenAnswer(response.status, response.body, clock.now());
      },
      () => clock.now(),
    );
    return { ...fetched, ...(requestId ? { requestId } : {}) };
  }

  return {
    calls,
    signingKey: transport.signingKey,
    /**
     * One call; for a bank with an OAuth pre-step (profile `oauth.token_url`), with its client
     * token. A 401 forgets the token; a GET (safe to repeat) is then sent once more with a fresh
     * one, anything else (an initiation above all) is answered with the 401 as the bank gave it.
     */
    async send(req: BankRequest): Promise<BankResponse> {
      const tokens = oauth?.tokens;
      const tokenUrl = oauth?.profile.token_url;
      const own = Object.keys(req.headers ?? {}).some((h) => h.toLowerCase() === 'authorization');
      if (!tokens || !tokenUrl || req.url || own) return once(req);
      for (let round = 0; ; round += 1) {
        const token = await clientToken(tokens, tokenUrl);
        if (!token.ok) {
          const requestId = token.requestId ?? randomUUID();
          // Nothing was sent to the API: a lost token answer is unknown, a refused one is the bank's 401 to us.
          if (token.unknown) return { kind: 'unknown', reason: 'network', requestId };
          return {
            kind: 'response',
            status: 401,
            headers: {},
            body: { tppMessages: [{ category: 'ERROR', code: 'TOKEN_INVALID', text: token.reason }] },
            requestId,
          };
        }
        const result = await once({ ...req, headers: { ...(req.headers ?? {}), Authorization: `Bearer ${token.token.value}` } });
        if (result.kind !== 'response' || result.status !== 401) return result;
        tokens.invalidate(token.token.value);
        if (round > 0 || req.method !== 'GET') return result;
      }
    },
  };

  async function once(req: BankRequest): Promise<BankResponse> {
    const url = req.url ? absoluteUrl(req.url) : joinUrl(transport.bank.base_url, req.path);
    let form = req.form;
    let authHeaders: Record<string, string> = {};
    if (req.clientAuth) {
      if (!oauth) throw new Error(`bank ${transport.bank.name} has no oauth client configured (profile oauth)`);
      const auth = await oauth.authenticate(url, clock.now());
      form = { ...(form ?? {}), ...auth.form };
      authHeaders = auth.headers;
    }
    const callId = randomUUID();
    const payload = form ?? req.body;
    const bodyText = form
      ? new URLSearchParams(form).toString()
      : req.body === undefined
        ? ''
        : typeof req.body === 'string'
          ? req.body
          : JSON.stringify(req.body);
    let headers: Record<string, string> = { Accept: 'application/json', ...(req.headers ?? {}), ...authHeaders, 'X-Request-ID': callId };
    if (form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    else if (req.body !== undefined) headers['Content-Type'] ??= 'application/json';
    if (transport.signer) headers = await transport.signer.sign({ method: req.method, url, headers, body: bodyText });
    const [{ request }, dispatcher] = await Promise.all([import('undici'), transport.dispatcher]);
    // The record first: if it cannot be written, nothing is sent.
    const startedAt = clock.now();
    await recorder.begin({ id: callId, payment_id: paymentId, attempt_id: attempt, bank_id: bankId, operation: req.operation, started_at: startedAt });
    const t0 = performance.now();
    let result: BankResponse;
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await request(url, {
        method: req.method,
        headers,
        body: payload === undefined ? undefined : bodyText,
        dispatcher,
        signal: AbortSignal.timeout(req.timeoutMs ?? transport.timeoutMs),
      });
      const responseHeaders = flatHeaders(response.headers);
      const body = await readBody(response.body, responseHeaders['content-type'] ?? '');
      status = response.statusCode;
      result = { kind: 'response', status, headers: responseHeaders, body, requestId: callId };
    } catch (failure) {
      const reason = failureReason(failure);
      error = `${reason}: ${(failure as Error).message}`.slice(0, 500);
      result = { kind: 'unknown', reason, requestId: callId };
    }
    const duration = Math.round(performance.now() - t0);
    calls.push({
      callId,
      paymentId,
      bankId,
      operation: req.operation,
      outcome: status === null ? 'unknown' : classifyStatus(status),
      httpStatus: status,
      error,
      exchange: {
        method: req.method,
        path: req.url ? new URL(req.url).pathname : req.path,
        status,
        duration_ms: duration,
        finished_at: clock.now(),
        request_body: redactBody(form ? redactForm(form) : req.body),
        response_body: result.kind === 'response' ? redactBody(result.body) : null,
        error,
      },
    });
    return result;
  }
}
