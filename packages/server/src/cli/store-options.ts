/**
 * The options shared by every command that touches the database, and the one way to open it:
 * a new command group calls `storeOptions(command)` and runs its work inside `withStore(command, …)`.
 */
import { Option, type Command } from 'commander';
import { loadServerConfig, SERVER_OPTIONS, type OptionSpec, type ServerConfig } from '../config/config.ts';
import { systemClock } from '../domain/clock.ts';
import { DEFAULT_DOMAIN, ensureDomain } from '../services/clients.ts';
import { migrate, openStore, type Store } from '../store/db.ts';
import { envOf, UsageError } from './runtime.ts';

/** A commander option for a configuration entry, its help naming the environment variable and default. */
export function configOption(spec: OptionSpec, valueName = 'VALUE'): Option {
  const text = `${spec.description} [env ${spec.env}]${spec.default !== undefined ? ` (default ${spec.default})` : ''}`;
  return new Option(`--${spec.flag} <${valueName}>`, text);
}

/** --data-dir, --database-url and --key-encryption-key. */
export function storeOptions(command: Command): Command {
  return command
    .addOption(configOption(SERVER_OPTIONS.dataDir, 'DIR'))
    .addOption(configOption(SERVER_OPTIONS.databaseUrl, 'URL'))
    .addOption(configOption(SERVER_OPTIONS.keyEncryptionKeys, 'HEX'));
}

/** --domain NAME, for commands acting on one domain's data. */
export function domainOption(command: Command): Command {
  return command.option('--domain <NAME>', `the domain to act on (default "${DEFAULT_DOMAIN}")`);
}

/** The command's options by flag name (`data-dir`), the form `loadServerConfig` reads. */
export function flagValues(command: Command): Record<string, unknown> {
  const opts = command.opts();
  const flags: Record<string, unknown> = {};
  for (const spec of Object.values(SERVER_OPTIONS) as OptionSpec[]) {
    const key = spec.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (opts[key] !== undefined) flags[spec.flag] = opts[key];
  }
  return flags;
}

/** The validated configuration for a command: flags, then environment, then defaults. */
export function configOf(command: Command): Readonly<ServerConfig> {
  return loadServerConfig(flagValues(command), envOf(command));
}

export async function openConfiguredStore(config: Readonly<ServerConfig>): Promise<Store> {
  return openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
}

/** Opens the store, brings it up to date, runs `work` and always closes the store. */
export async function withStore<T>(command: Command, work: (store: Store, config: Readonly<ServerConfig>) => Promise<T>): Promise<T> {
  const config = configOf(command);
  const store = await openConfiguredStore(config);
  try {
    await migrate(store);
    return await work(store, config);
  } finally {
    await store.close();
  }
}

/** The id of the domain named by --domain (created when missing), the default domain otherwise. */
export async function domainIdOf(command: Command, store: Store): Promise<number> {
  const name = command.opts().domain as string | undefined;
  return ensureDomain(store.db, name ?? DEFAULT_DOMAIN, systemClock.now());
}

/** A positive integer id from the command line. */
export function parseId(what: string): (value: string) => number {
  return (value: string) => {
    const id = Number(value);
    if (!/^\d{1,15}$/.test(value) || !Number.isSafeInteger(id) || id <= 0) throw new UsageError(`${what} must be a positive integer, got "${value}"`);
    return id;
  };
}
