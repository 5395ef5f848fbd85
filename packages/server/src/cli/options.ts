/**
 * Options shared by commands, and the configuration they give. Light on purpose (no database code):
 * `serve` reads it before anything heavy is loaded, so a busy port is reported at once.
 */
import { Option, type Command } from 'commander';
import { loadServerConfig, SERVER_OPTIONS, type OptionSpec, type ServerConfig } from '../config/config.ts';
import { type Keyring, loadKeyring } from '../services/secret-box.ts';
import { envOf, UsageError } from './runtime.ts';

/** A commander option for a configuration entry, its help naming the environment variable and default. */
export function configOption(spec: OptionSpec, valueName = 'VALUE'): Option {
  const text = `${spec.description} [env ${spec.env}]${spec.default !== undefined ? ` (default ${spec.default})` : ''}`;
  return new Option(`--${spec.flag} <${valueName}>`, text);
}

/** --data-dir, --database-url, --database-pooler, --key-encryption-key and --mode. */
export function storeOptions(command: Command): Command {
  return command
    .addOption(configOption(SERVER_OPTIONS.dataDir, 'DIR'))
    .addOption(configOption(SERVER_OPTIONS.databaseUrl, 'URL'))
    .addOption(configOption(SERVER_OPTIONS.databasePooler, 'none|transaction'))
    .addOption(configOption(SERVER_OPTIONS.keyEncryptionKeys, 'HEX'))
    .addOption(configOption(SERVER_OPTIONS.mode, 'MODE'));
}

/** --allow-private-webhooks: a bare flag (1), or 1/0 from PAYRAIL_ALLOW_PRIVATE_WEBHOOKS. */
export function privateWebhooksOption(command: Command): Command {
  const spec = SERVER_OPTIONS.allowPrivateWebhooks;
  return command.option(`--${spec.flag}`, `${spec.description} [env ${spec.env}]`);
}

/** The keyring sealing secrets at rest: the configured keys, else the data folder's generated key. */
export function keyringOf(config: Readonly<ServerConfig>): Keyring {
  return loadKeyring({ keys: config.keyEncryptionKeys, dataDir: config.dataDir });
}

/** --domain NAME, for commands acting on one domain's data. */
export function domainOption(command: Command): Command {
  return command.option('--domain <NAME>', `the domain to act on (default "default")`);
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

/** A positive integer id from the command line. */
export function parseId(what: string): (value: string) => number {
  return (value: string) => {
    const id = Number(value);
    if (!/^\d{1,15}$/.test(value) || !Number.isSafeInteger(id) || id <= 0) throw new UsageError(`${what} must be a positive integer, got "${value}"`);
    return id;
  };
}
