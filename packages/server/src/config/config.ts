/**
 * Configuration: one schema with defaults; command-line flags > environment > defaults.
 * Validated once, frozen. No other module reads process.env.
 */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  logLevel: string;
  jobs: boolean;
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
} as const satisfies Record<string, OptionSpec>;

export class ConfigError extends Error {}

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
  const logLevel = pick(SERVER_OPTIONS.logLevel, flags, env)!;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  return Object.freeze({ port, host, dataDir: pick(SERVER_OPTIONS.dataDir, flags, env)!, databaseUrl, logLevel, jobs: true });
}
