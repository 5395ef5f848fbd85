/**
 * Configuration: one schema with defaults; command-line flags > environment > defaults.
 * Validated once, frozen. No other module reads process.env.
 */
import ipaddr from 'ipaddr.js';
import { parseKek } from '../services/secret-box.ts';

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  logLevel: string;
  jobs: boolean;
  publicUrl: string | null;
  testConnectorStepSeconds: number;
  jobLeaseSeconds: number;
  /** Key-encryption keys for secrets at rest, current first; empty: a generated key in the data folder. */
  keyEncryptionKeys: string[];
  /** The built-in test bank ("Connecteur de test") is offered; off for production installations. */
  testBank: boolean;
  /** Declarative banks file (YAML or JSON) applied at start, idempotent by bank name. */
  banksFile: string | null;
  /** PostgreSQL: waits for a connection at most this long; the start fails after it. */
  databaseConnectTimeoutSeconds: number;
  /** PostgreSQL: statement_timeout (and, doubled, idle_in_transaction_session_timeout). */
  databaseStatementTimeoutSeconds: number;
  /** PostgreSQL: the client gives up on a statement the server has not answered within this (the connection is destroyed). */
  databaseQueryTimeoutSeconds: number;
  /** PostgreSQL: connections this process keeps open at most. */
  databasePoolSize: number;
  /** PostgreSQL: `transaction` when a transaction-mode pooler (PgBouncer) is in front: statements unnamed, no session settings, no LISTEN through it. */
  databasePooler: 'none' | 'transaction';
  /** PostgreSQL: the URL of the LISTEN connection (straight to the server); null: the database URL, or polling behind a pooler. */
  databaseListenUrl: string | null;
  /** `token`: /metrics needs `Authorization: Bearer <metricsToken>`; `open`: no token; `off`: 404. */
  metrics: 'token' | 'open' | 'off';
  metricsToken: string | null;
  /** /ready fails when more jobs than this are due. */
  readyMaxBacklog: number;
  /** SIGTERM: how long in-flight requests and jobs may take to finish before the process exits anyway. */
  shutdownTimeoutSeconds: number;
  /** Finished webhook deliveries and their attempts are kept this many days. */
  retentionDays: number;
  /** How often the purge job runs. */
  purgeIntervalMinutes: number;
  /** Webhook sends in flight at once, in all, and per endpoint. */
  webhookConcurrency: number;
  webhookEndpointConcurrency: number;
  /** Validations take turns for their work before and after the bank call, each waiting at most this many ms for its turn; 0: no turns (services/turns.ts). */
  validationTurnMs: number;
  /** Create the demo client if none was ever created (always on the embedded database's first start); development only. */
  demo: boolean;
  /** production: a public URL and a key-encryption key are required; development: Host checked against allowedHosts. */
  mode: 'production' | 'development';
  /** Host header values trusted to build links when no public URL is set (development). */
  allowedHosts: string[];
  /** Proxy addresses or CIDRs whose X-Forwarded-* headers are believed; empty: none. */
  trustProxy: string[];
  /** Webhook URLs on loopback or private networks are accepted (development default). */
  allowPrivateWebhooks: boolean;
  /** SMTP server for webhook failure alerts (smtp:// or smtps://); null: alerts are only recorded. */
  smtpUrl: string | null;
}

export interface OptionSpec {
  flag: string;
  env: string;
  description: string;
  default?: string;
}

export const SERVER_OPTIONS = {
  port: { flag: 'port', env: 'PAYRAIL_PORT', description: 'TCP port to listen on', default: '3000' },
  host: { flag: 'host', env: 'PAYRAIL_HOST', description: 'address to listen on', default: '127.0.0.1' },
  dataDir: { flag: 'data-dir', env: 'PAYRAIL_DATA_DIR', description: 'folder of the embedded SQLite database', default: '.payrail' },
  databaseUrl: { flag: 'database-url', env: 'PAYRAIL_DATABASE_URL', description: 'PostgreSQL URL (postgres://…); the embedded database when absent' },
  logLevel: { flag: 'log-level', env: 'PAYRAIL_LOG_LEVEL', description: 'fatal, error, warn, info, debug or trace', default: 'info' },
  publicUrl: {
    flag: 'public-url',
    env: 'PAYRAIL_PUBLIC_URL',
    description: 'URL payers reach Payrail at (for bank and webview links); the request host when absent',
  },
  testConnectorStepSeconds: {
    flag: 'test-connector-step-seconds',
    env: 'PAYRAIL_TEST_CONNECTOR_STEP_SECONDS',
    description: 'length of a test connector scenario step for first-open-day payments (instant: 1/60 of it)',
    default: '900',
  },
  jobLeaseSeconds: {
    flag: 'job-lease-seconds',
    env: 'PAYRAIL_JOB_LEASE_SECONDS',
    description:
      'how long a claimed job stays reserved before another process may retake it, and how long a process may go unrenewed before its claims on payments end (at least 11)',
    default: '30',
  },
  keyEncryptionKeys: {
    flag: 'key-encryption-key',
    env: 'PAYRAIL_KEY_ENCRYPTION_KEY',
    description:
      'key-encryption key for secrets at rest (64 hex digits); comma-separated for rotation, the first seals; a generated key in the data folder when absent',
  },
  testBank: {
    flag: 'test-bank',
    env: 'PAYRAIL_TEST_BANK',
    description: 'on or off: offer the built-in test bank ("Connecteur de test"); off for production installations',
    default: 'on',
  },
  banksFile: {
    flag: 'banks-file',
    env: 'PAYRAIL_BANKS_FILE',
    description: 'YAML or JSON file of banks applied at start (added or updated by name; see docs/banks.md)',
  },
  databaseConnectTimeoutSeconds: {
    flag: 'database-connect-timeout-seconds',
    env: 'PAYRAIL_DATABASE_CONNECT_TIMEOUT_SECONDS',
    description: 'PostgreSQL: how long to wait for a connection; a start fails after it',
    default: '5',
  },
  databaseStatementTimeoutSeconds: {
    flag: 'database-statement-timeout-seconds',
    env: 'PAYRAIL_DATABASE_STATEMENT_TIMEOUT_SECONDS',
    description: 'PostgreSQL: statement_timeout; a session idle in a transaction is ended after twice this',
    default: '30',
  },
  databaseQueryTimeoutSeconds: {
    flag: 'database-query-timeout-seconds',
    env: 'PAYRAIL_DATABASE_QUERY_TIMEOUT_SECONDS',
    description:
      'PostgreSQL: how long to wait for the answer to one statement before giving up on it (503) and destroying its connection; migrations wait up to the statement timeout',
    default: '5',
  },
  databasePoolSize: {
    flag: 'database-pool-size',
    env: 'PAYRAIL_DATABASE_POOL_SIZE',
    description: 'PostgreSQL: connections this process keeps open at most (plus one for LISTEN)',
    default: '10',
  },
  databasePooler: {
    flag: 'database-pooler',
    env: 'PAYRAIL_DATABASE_POOLER',
    description:
      'none, or transaction when --database-url goes through a transaction-mode pooler (PgBouncer): statements unnamed, no session settings, LISTEN only on --database-listen-url',
    default: 'none',
  },
  databaseListenUrl: {
    flag: 'database-listen-url',
    env: 'PAYRAIL_DATABASE_LISTEN_URL',
    description: 'PostgreSQL URL straight to the server for LISTEN (behind a pooler); the database URL when absent, or polling behind a pooler',
  },
  metrics: { flag: 'metrics', env: 'PAYRAIL_METRICS', description: '/metrics access: token (needs --metrics-token), open (no token) or off', default: 'token' },
  metricsToken: { flag: 'metrics-token', env: 'PAYRAIL_METRICS_TOKEN', description: 'bearer token Prometheus sends to /metrics (at least 16 characters)' },
  readyMaxBacklog: {
    flag: 'ready-max-backlog',
    env: 'PAYRAIL_READY_MAX_BACKLOG',
    description: '/ready fails when more jobs than this are due',
    default: '10000',
  },
  shutdownTimeoutSeconds: {
    flag: 'shutdown-timeout-seconds',
    env: 'PAYRAIL_SHUTDOWN_TIMEOUT_SECONDS',
    description: 'on SIGTERM, how long in-flight requests and jobs may take before the process exits anyway',
    default: '25',
  },
  retentionDays: {
    flag: 'retention-days',
    env: 'PAYRAIL_RETENTION_DAYS',
    description: 'days finished webhook deliveries and their attempts are kept',
    default: '30',
  },
  purgeIntervalMinutes: {
    flag: 'purge-interval-minutes',
    env: 'PAYRAIL_PURGE_INTERVAL_MINUTES',
    description: 'how often expired tokens, idempotency keys and old deliveries are purged',
    default: '60',
  },
  webhookConcurrency: {
    flag: 'webhook-concurrency',
    env: 'PAYRAIL_WEBHOOK_CONCURRENCY',
    description: 'webhook sends in flight at once per process',
    default: '16',
  },
  webhookEndpointConcurrency: {
    flag: 'webhook-endpoint-concurrency',
    env: 'PAYRAIL_WEBHOOK_ENDPOINT_CONCURRENCY',
    description: 'webhook sends in flight at once to one endpoint, per process',
    default: '2',
  },
  validationTurnMs: {
    flag: 'validation-turn-ms',
    env: 'PAYRAIL_VALIDATION_TURN_MS',
    description:
      'validations do their work before and after the bank call one at a time, in arrival order, each waiting at most this many ms for its turn (0: no turns)',
    default: '5',
  },
  demo: { flag: 'demo', env: 'PAYRAIL_DEMO', description: 'create a demo client (printed once) if none was ever created; development only; 1 or true' },
  mode: {
    flag: 'mode',
    env: 'PAYRAIL_MODE',
    description: 'production (needs --public-url and --key-encryption-key) or development',
    default: 'development',
  },
  allowedHosts: {
    flag: 'allowed-hosts',
    env: 'PAYRAIL_ALLOWED_HOSTS',
    description: 'comma-separated Host names accepted when no --public-url is set (any port)',
    default: 'localhost,127.0.0.1,[::1]',
  },
  trustProxy: {
    flag: 'trust-proxy',
    env: 'PAYRAIL_TRUST_PROXY',
    description: 'comma-separated proxy addresses or CIDRs whose X-Forwarded-For/-Host/-Proto are trusted',
  },
  allowPrivateWebhooks: {
    flag: 'allow-private-webhooks',
    env: 'PAYRAIL_ALLOW_PRIVATE_WEBHOOKS',
    description: 'accept webhook URLs on loopback/private addresses: 1 or 0 (default 1 in development, 0 in production)',
  },
  smtpUrl: {
    flag: 'smtp-url',
    env: 'PAYRAIL_SMTP_URL',
    description: 'SMTP server for webhook failure alerts, e.g. smtps://user:pass@mail.example:465 (unset: alerts are only recorded)',
  },
} as const satisfies Record<string, OptionSpec>;

export const MODES = ['production', 'development'] as const;

/** A whole number option within [min, max]. */
function wholeNumber(spec: OptionSpec, flags: Record<string, unknown>, env: Record<string, string | undefined>, min: number, max: number): number {
  const text = pick(spec, flags, env)!;
  const value = Number(text);
  if (!/^\d{1,9}$/.test(text) || value < min || value > max)
    throw new ConfigError(`--${spec.flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

export class ConfigError extends Error {}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function isAddressOrCidr(text: string): boolean {
  try {
    if (text.includes('/')) ipaddr.parseCIDR(text);
    else ipaddr.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * What `serve` and `worker` need in production, with how to set it: links must never take their origin
 * from a request's Host header, and secrets at rest must be sealed under a key the operator holds.
 */
export function checkProductionConfig(config: ServerConfig): void {
  if (config.mode !== 'production') return;
  const missing: string[] = [];
  if (!config.publicUrl) {
    missing.push('--public-url (or PAYRAIL_PUBLIC_URL): the https URL payers reach Payrail at, e.g. --public-url https://pay.example.com');
  }
  if (config.keyEncryptionKeys.length === 0) {
    missing.push('--key-encryption-key (or PAYRAIL_KEY_ENCRYPTION_KEY): 64 hex digits kept outside the database; generate one with `openssl rand -hex 32`');
  }
  if (config.demo) {
    throw new ConfigError(
      'production mode (--mode production / PAYRAIL_MODE=production) creates no demo client: drop --demo (or PAYRAIL_DEMO) and create clients with `payrail client create --name NAME --redirect-uri URL`',
    );
  }
  if (missing.length) {
    throw new ConfigError(
      `production mode (--mode production / PAYRAIL_MODE=production) refuses to start without:\n  ${missing.join('\n  ')}\n(for local development use --mode development)`,
    );
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function pick(spec: OptionSpec, flags: Record<string, unknown>, env: Record<string, string | undefined>): string | undefined {
  const flag = flags[spec.flag];
  if (typeof flag === 'string') return flag;
  const fromEnv = env[spec.env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return spec.default;
}

export function loadServerConfig(flags: Record<string, unknown>, env: Record<string, string | undefined>): Readonly<ServerConfig> {
  const portText = pick(SERVER_OPTIONS.port, flags, env)!;
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number (0-65535), got "${portText}"`);
  const host = pick(SERVER_OPTIONS.host, flags, env)!;
  if (!host.trim()) throw new ConfigError('--host must not be empty');
  const databaseUrl = pick(SERVER_OPTIONS.databaseUrl, flags, env) ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('--database-url must be a PostgreSQL URL (postgres://user@host:5432/db)');
  }
  const databasePooler = pick(SERVER_OPTIONS.databasePooler, flags, env)!;
  if (databasePooler !== 'none' && databasePooler !== 'transaction')
    throw new ConfigError(`--database-pooler must be none or transaction, got "${databasePooler}"`);
  const databaseListenUrl = pick(SERVER_OPTIONS.databaseListenUrl, flags, env) ?? null;
  if (databaseListenUrl !== null && !/^postgres(ql)?:\/\//.test(databaseListenUrl)) {
    throw new ConfigError('--database-listen-url must be a PostgreSQL URL (postgres://user@host:5432/db)');
  }
  const logLevel = pick(SERVER_OPTIONS.logLevel, flags, env)!;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const publicUrl = pick(SERVER_OPTIONS.publicUrl, flags, env) ?? null;
  if (publicUrl !== null) {
    let url: URL | null = null;
    try {
      url = new URL(publicUrl);
    } catch {
      url = null;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash)
      throw new ConfigError('--public-url must be an http(s) URL without query string');
  }
  const stepText = pick(SERVER_OPTIONS.testConnectorStepSeconds, flags, env)!;
  const testConnectorStepSeconds = Number(stepText);
  if (!/^\d+(\.\d+)?$/.test(stepText) || testConnectorStepSeconds <= 0 || testConnectorStepSeconds > 86400) {
    throw new ConfigError(`--test-connector-step-seconds must be a number of seconds between 0 and 86400, got "${stepText}"`);
  }
  const leaseText = pick(SERVER_OPTIONS.jobLeaseSeconds, flags, env)!;
  const jobLeaseSeconds = Number(leaseText);
  if (!/^\d{1,5}$/.test(leaseText) || jobLeaseSeconds < 11)
    throw new ConfigError(`--job-lease-seconds must be a whole number of seconds, at least 11 (one webhook send takes up to 10), got "${leaseText}"`);
  const keyEncryptionKeys = (pick(SERVER_OPTIONS.keyEncryptionKeys, flags, env) ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  for (const key of keyEncryptionKeys) {
    try {
      parseKek(key);
    } catch (error) {
      throw new ConfigError(`--key-encryption-key: ${(error as Error).message}`);
    }
  }
  const metrics = pick(SERVER_OPTIONS.metrics, flags, env)!;
  if (metrics !== 'token' && metrics !== 'open' && metrics !== 'off') throw new ConfigError(`--metrics must be token, open or off, got "${metrics}"`);
  const metricsToken = pick(SERVER_OPTIONS.metricsToken, flags, env) ?? null;
  if (metricsToken !== null && !/^[\x21-\x7e]{16,256}$/.test(metricsToken))
    throw new ConfigError('--metrics-token must be 16 to 256 visible ASCII characters (e.g. openssl rand -hex 24)');
  const demoFlag = flags.demo === true ? 'true' : (env[SERVER_OPTIONS.demo.env] ?? '');
  if (!['', '0', '1', 'true', 'false'].includes(demoFlag)) throw new ConfigError(`${SERVER_OPTIONS.demo.env} must be 1, true, 0 or false`);
  const ops = {
    databaseConnectTimeoutSeconds: wholeNumber(SERVER_OPTIONS.databaseConnectTimeoutSeconds, flags, env, 1, 600),
    databaseStatementTimeoutSeconds: wholeNumber(SERVER_OPTIONS.databaseStatementTimeoutSeconds, flags, env, 1, 3600),
    databaseQueryTimeoutSeconds: wholeNumber(SERVER_OPTIONS.databaseQueryTimeoutSeconds, flags, env, 1, 3600),
    databasePoolSize: wholeNumber(SERVER_OPTIONS.databasePoolSize, flags, env, 1, 1000),
    metrics: metrics as ServerConfig['metrics'],
    metricsToken,
    readyMaxBacklog: wholeNumber(SERVER_OPTIONS.readyMaxBacklog, flags, env, 1, 100_000_000),
    shutdownTimeoutSeconds: wholeNumber(SERVER_OPTIONS.shutdownTimeoutSeconds, flags, env, 1, 3600),
    retentionDays: wholeNumber(SERVER_OPTIONS.retentionDays, flags, env, 1, 36_500),
    purgeIntervalMinutes: wholeNumber(SERVER_OPTIONS.purgeIntervalMinutes, flags, env, 1, 10_080),
    webhookConcurrency: wholeNumber(SERVER_OPTIONS.webhookConcurrency, flags, env, 1, 1000),
    webhookEndpointConcurrency: wholeNumber(SERVER_OPTIONS.webhookEndpointConcurrency, flags, env, 1, 1000),
    validationTurnMs: wholeNumber(SERVER_OPTIONS.validationTurnMs, flags, env, 0, 1000),
    demo: demoFlag === '1' || demoFlag === 'true',
  };
  const mode = pick(SERVER_OPTIONS.mode, flags, env)!;
  if (!(MODES as readonly string[]).includes(mode)) throw new ConfigError(`--mode must be production or development, got "${mode}"`);
  const allowedHosts = splitList(pick(SERVER_OPTIONS.allowedHosts, flags, env)!).map((h) => h.toLowerCase());
  const trustProxy = splitList(pick(SERVER_OPTIONS.trustProxy, flags, env) ?? '');
  for (const entry of trustProxy)
    if (!isAddressOrCidr(entry)) throw new ConfigError(`--trust-proxy: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8)`);
  const privateFlag = flags[SERVER_OPTIONS.allowPrivateWebhooks.flag];
  const privateText = privateFlag === true ? '1' : (pick(SERVER_OPTIONS.allowPrivateWebhooks, flags, env) ?? (mode === 'development' ? '1' : '0'));
  if (!['0', '1', 'true', 'false'].includes(privateText)) throw new ConfigError('--allow-private-webhooks must be 1 or 0');
  const testBankText = pick(SERVER_OPTIONS.testBank, flags, env)!.toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(testBankText)) throw new ConfigError(`--test-bank must be on or off, got "${testBankText}"`);
  const testBank = ['on', 'true', '1'].includes(testBankText);
  const banksFile = pick(SERVER_OPTIONS.banksFile, flags, env) ?? null;
  const smtpUrl = pick(SERVER_OPTIONS.smtpUrl, flags, env) || null;
  if (smtpUrl && !/^smtps?:\/\/[^/\s]+/.test(smtpUrl)) throw new ConfigError('--smtp-url must be an smtp:// or smtps:// URL');
  return Object.freeze({
    ...ops,
    mode: mode as ServerConfig['mode'],
    allowedHosts,
    trustProxy,
    allowPrivateWebhooks: privateText === '1' || privateText === 'true',
    jobLeaseSeconds,
    keyEncryptionKeys,
    testBank,
    banksFile,
    smtpUrl,
    port,
    host,
    dataDir: pick(SERVER_OPTIONS.dataDir, flags, env)!,
    databaseUrl,
    databasePooler,
    databaseListenUrl,
    logLevel,
    jobs: true,
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? null,
    testConnectorStepSeconds,
  });
}
