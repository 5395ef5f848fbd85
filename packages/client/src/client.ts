/** The Pay API client: service tokens, payments, scoped tokens, webview URLs, connectors, config, webhooks. */
import { PayrailError, PayrailNetworkError } from './errors.ts';
import type {
  Connector,
  ConnectorList,
  DeliveriesQuery,
  DeliveryList,
  DomainConfig,
  Incompatibilities,
  ListConnectorsQuery,
  ListPaymentsQuery,
  Payment,
  PaymentActionRequest,
  PaymentInitRequest,
  PaymentList,
  Scope,
  ScopedToken,
  ServiceToken,
  WebhookEndpoint,
  WebhookList,
} from './types.ts';

export interface PayrailClientOptions {
  /** The API's base URL, with or without `/2.0`: `http://127.0.0.1:3000`, `https://example.biapi.pro/2.0`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Scopes of the service token; default `payments:admin`. */
  scope?: Scope | Scope[];
  /**
   * Retries after a network error, a 5xx, a 429 (waiting its Retry-After) or a 409 `idempotencyKeyInUse`
   * (the same request still running); never after another 4xx such as a state conflict. Default 3.
   */
  maxRetries?: number;
  /** First retry delay in ms, doubled each time (±50% jitter); default 250. */
  retryBaseMs?: number;
  /** Per-request timeout in ms; default 30 000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined | null>;

interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** `service` (default): the cached service token; a string: that token (e.g. payment-scoped); `none`. */
  auth?: 'service' | 'none' | { token: string };
  idempotencyKey?: string;
}

/** Renew the service token this long before its 30 minutes run out. */
const RETRY_AFTER_MAX_MS = 60_000;

/**
 * Safe to send again: the server failed (5xx), asked to slow down (429), or is still running the same
 * idempotent request (409 idempotencyKeyInUse). A 409 about the payment's state would fail again.
 */
export function isRetryable(status: number, body: unknown): boolean {
  if (status >= 500 || status === 429) return true;
  return status === 409 && typeof body === 'object' && body !== null && (body as { code?: unknown }).code === 'idempotencyKeyInUse';
}

/** Retry-After as delay-seconds or an HTTP date, capped at a minute; null when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now: number): number | null {
  if (!value) return null;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), RETRY_AFTER_MAX_MS) : null;
}

const RENEW_BEFORE_MS = 60_000;

export class PayrailClient {
  readonly apiBase: string;
  readonly #options: Required<Omit<PayrailClientOptions, 'fetch' | 'scope'>> & { scope: string; fetch: typeof fetch };
  #token: { value: string; expiresAt: number } | null = null;
  #pendingToken: Promise<string> | null = null;

  constructor(options: PayrailClientOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    this.apiBase = base.endsWith('/2.0') ? base : `${base}/2.0`;
    this.#options = {
      baseUrl: base,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      scope: Array.isArray(options.scope) ? options.scope.join(' ') : (options.scope ?? 'payments:admin'),
      maxRetries: options.maxRetries ?? 3,
      retryBaseMs: options.retryBaseMs ?? 250,
      timeoutMs: options.timeoutMs ?? 30_000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
  }

  /** A service token, fetched once and renewed before it expires. */
  async token(): Promise<string> {
    if (this.#token && Date.now() < this.#token.expiresAt - RENEW_BEFORE_MS) return this.#token.value;
    this.#pendingToken ??= (async () => {
      try {
        const response = await this.request<ServiceToken & { access_token?: string }>('POST', '/auth/token', {
          auth: 'none',
          body: { grant_type: 'client_credentials', client_id: this.#options.clientId, client_secret: this.#options.clientSecret, scope: this.#options.scope },
        });
        const value = response.token ?? response.access_token!;
        this.#token = { value, expiresAt: Date.now() + (response.expires_in ?? 1800) * 1000 };
        return value;
      } finally {
        this.#pendingToken = null;
      }
    })();
    return this.#pendingToken;
  }

  /** Any API call; retries what is safe to retry (see `maxRetries`) with the same Idempotency-Key. */
  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(`${this.apiBase}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    const idempotencyKey = method === 'POST' ? (options.idempotencyKey ?? globalThis.crypto.randomUUID()) : undefined;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      const auth = options.auth ?? 'service';
      if (auth === 'service') headers.authorization = `Bearer ${await this.token()}`;
      else if (auth !== 'none') headers.authorization = `Bearer ${auth.token}`;
      let response: Response;
      try {
        response = await this.#options.fetch(url, {
          method,
          headers,
          signal: AbortSignal.timeout(this.#options.timeoutMs),
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        });
      } catch (error) {
        if (attempt < this.#options.maxRetries) {
          await this.#backoff(attempt);
          continue;
        }
        throw new PayrailNetworkError(`${method} ${url.pathname}: ${(error as Error).message}`, { cause: error });
      }
      const text = await response.text();
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      if (response.ok) return body as T;
      // An expired cached service token: get a new one once.
      if (response.status === 401 && auth === 'service' && !refreshed) {
        refreshed = true;
        this.#token = null;
        attempt--;
        continue;
      }
      if (isRetryable(response.status, body) && attempt < this.#options.maxRetries) {
        await this.#backoff(attempt, response.headers.get('retry-after'));
        continue;
      }
      throw new PayrailError(response.status, body && typeof body === 'object' ? (body as Record<string, unknown>) : null);
    }
  }

  async #backoff(attempt: number, retryAfter?: string | null) {
    const delay = retryAfterMs(retryAfter, Date.now()) ?? Math.min(this.#options.retryBaseMs * 2 ** attempt, 10_000) * (0.5 + Math.random());
    await new Promise((resolve) => setTimeout(resolve, delay));
  }

  // Payments

  createPayment(body: PaymentInitRequest, options: { idempotencyKey?: string; showSensitive?: boolean } = {}): Promise<Payment> {
    return this.request('POST', '/payments', {
      body,
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      query: { show_sensitive: options.showSensitive },
    });
  }

  getPayment(id: number, options: { showSensitive?: boolean; token?: string } = {}): Promise<Payment> {
    return this.request('GET', `/payments/${id}`, {
      query: { show_sensitive: options.showSensitive },
      ...(options.token ? { auth: { token: options.token } } : {}),
    });
  }

  listPayments(query: ListPaymentsQuery = {}): Promise<PaymentList> {
    return this.request('GET', '/payments', { query: query as Query });
  }

  createScopedToken(paymentId: number, scope: Scope | Scope[] = ['payments:validate']): Promise<ScopedToken> {
    return this.request('POST', `/payments/${paymentId}/scopedtoken`, { body: { scope } });
  }

  /** `POST /payments/{id}`: validate, resume, fields, psu_validate, confirm or cancel (the body decides). */
  updatePayment(id: number, body: PaymentActionRequest, options: { token?: string } = {}): Promise<Payment> {
    return this.request('POST', `/payments/${id}`, { body, ...(options.token ? { auth: { token: options.token } } : {}) });
  }

  cancelPayment(id: number, body: { client_redirect_uri?: string; client_state?: string } = {}): Promise<Payment> {
    return this.updatePayment(id, { cancel: true, ...body });
  }

  confirmPayment(id: number, confirm: boolean): Promise<Payment> {
    return this.updatePayment(id, { confirm });
  }

  getIncompatibilities(id: number, options: { all?: boolean } = {}): Promise<Incompatibilities> {
    return this.request('GET', `/payments/${id}/incompatibilities`, { query: { all: options.all } });
  }

  /**
   * The hosted webview URL for a payment (docs/reference/powens-pay-api.md §7.1): hand `code` = a payment-scoped token. The payer
   * comes back to the payment's client_redirect_uri (or to `redirectUri` if they cancel).
   */
  webviewUrl(options: { paymentId: number; code: string; redirectUri?: string; state?: string; lang?: string; domain?: string }): string {
    const query = new URLSearchParams({
      ...(options.domain ? { domain: options.domain } : {}),
      client_id: this.#options.clientId,
      // Without redirect_uri the webview's error exits use the payment's client_redirect_uri.
      ...(options.redirectUri ? { redirect_uri: options.redirectUri } : {}),
      code: options.code,
      payment_id: String(options.paymentId),
      ...(options.state !== undefined ? { state: options.state } : {}),
    });
    return `${this.apiBase}/auth/webview/${options.lang ?? 'en'}/payment?${query}`;
  }

  // Connectors (no authentication needed)

  listConnectors(query: ListConnectorsQuery = {}): Promise<ConnectorList> {
    return this.request('GET', '/connectors', { query: query as Query, auth: 'none' });
  }

  getConnector(uuid: string, options: { expand?: string[] } = {}): Promise<Connector> {
    return this.request('GET', `/connectors/${encodeURIComponent(uuid)}`, { query: { expand: options.expand?.join(',') }, auth: 'none' });
  }

  // Administration

  getConfig(): Promise<DomainConfig> {
    return this.request('GET', '/config');
  }

  setConfig(values: Partial<Record<keyof DomainConfig, string>>): Promise<DomainConfig> {
    return this.request('POST', '/config', { body: values });
  }

  createWebhook(url: string, event = 'PAYMENT_STATE_UPDATED'): Promise<WebhookEndpoint> {
    return this.request('POST', '/webhooks', { body: { url, event } });
  }

  listWebhooks(): Promise<WebhookList> {
    return this.request('GET', '/webhooks');
  }

  deleteWebhook(id: number): Promise<{ success: 'ok' }> {
    return this.request('DELETE', `/webhooks/${id}`);
  }

  listDeliveries(query: DeliveriesQuery = {}): Promise<DeliveryList> {
    return this.request('GET', '/webhooks/deliveries', { query: query as Query });
  }

  replayDelivery(id: number): Promise<{ id: number }> {
    return this.request('POST', `/webhooks/deliveries/${id}/replay`);
  }
}
