/**
 * The one way a command opens the database: declare `storeOptions(command)` (from options.ts, re-exported
 * here) and run the work inside `withStore(command, …)`, which migrates first and always closes.
 */
import type { Command } from 'commander';
import type { ServerConfig } from '../config/config.ts';
import { systemClock } from '../domain/clock.ts';
import { DEFAULT_DOMAIN, ensureDomain } from '../services/clients.ts';
import { migrate, openStore, type Store } from '../store/db.ts';
import { configOf } from './options.ts';

export { configOf, configOption, domainOption, flagValues, keyringOf, parseId, privateWebhooksOption, storeOptions } from './options.ts';

/** Where lost database connections are reported: stderr until a command has a logger (setDatabaseErrorReporter). */
let reportDatabaseError = (error: Error): void => void process.stderr.write(`payrail: database connection lost: ${error.message}\n`);

export function setDatabaseErrorReporter(report: (error: Error) => void): void {
  reportDatabaseError = report;
}

/** The store as configured, with every database wait bounded. */
export async function openConfiguredStore(config: Readonly<ServerConfig>): Promise<Store> {
  return openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    connectTimeoutMs: config.databaseConnectTimeoutSeconds * 1000,
    statementTimeoutMs: config.databaseStatementTimeoutSeconds * 1000,
    idleInTransactionTimeoutMs: config.databaseStatementTimeoutSeconds * 2000,
    queryTimeoutMs: config.databaseQueryTimeoutSeconds * 1000,
    poolSize: config.databasePoolSize,
    pooler: config.databasePooler,
    listenUrl: config.databaseListenUrl,
    onConnectionError: (error) => reportDatabaseError(error),
  });
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
