/** `payrail serve` (API, webview and background jobs) and `payrail worker` (the jobs alone). */
import type { Command } from 'commander';
import { SERVER_OPTIONS, type ServerConfig } from '../../config/config.ts';
import { systemClock } from '../../domain/clock.ts';
import type { PayrailApp } from '../../http/app.ts';
import type { Store } from '../../store/db.ts';
import { PAYRAIL_VERSION } from '../../version.ts';
import { assertPortFree } from '../port.ts';
import { examples, runtimeOf } from '../runtime.ts';
import { configOf, configOption, storeOptions } from '../store-options.ts';

export const DEMO_REDIRECT_URIS = [
  'https://merchant.example/payment/return',
  'http://localhost:8080/payment/return',
  'http://127.0.0.1:8080/payment/return',
];

export function registerServe(program: Command): void {
  const serve = storeOptions(program.command('serve').description('run the API, the webview and the background jobs (status sync, expiry, webhooks)'))
    .addOption(configOption(SERVER_OPTIONS.port, 'N'))
    .addOption(configOption(SERVER_OPTIONS.host, 'ADDR'))
    .addOption(configOption(SERVER_OPTIONS.logLevel, 'LEVEL'))
    .addOption(configOption(SERVER_OPTIONS.publicUrl, 'URL'))
    .addOption(configOption(SERVER_OPTIONS.testConnectorStepSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.jobLeaseSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.testBank, 'on|off'))
    .addOption(configOption(SERVER_OPTIONS.banksFile, 'FILE'))
    .option('--no-jobs', 'serve HTTP only; run the jobs in `payrail worker` processes')
    .action(async (_options, command: Command) => serveAction(command));
  examples(serve, 'payrail serve', 'payrail serve --port 8080 --public-url https://pay.example.com', 'PAYRAIL_DATABASE_URL=postgres://payrail@db/payrail payrail serve --no-jobs');

  const worker = storeOptions(program.command('worker').description('run only the background jobs (pair with `serve --no-jobs` on one PostgreSQL)'))
    .addOption(configOption(SERVER_OPTIONS.logLevel, 'LEVEL'))
    .addOption(configOption(SERVER_OPTIONS.publicUrl, 'URL'))
    .addOption(configOption(SERVER_OPTIONS.testConnectorStepSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.jobLeaseSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.testBank, 'on|off'))
    .action(async (_options, command: Command) => workerAction(command));
  examples(worker, 'payrail worker --database-url postgres://payrail@db/payrail');
}

/**
 * Order matters: the port is checked before the database is touched, and the jobs start only
 * once the server listens, so a busy port fails at once and leaves no work half-started.
 */
async function serveAction(command: Command): Promise<void> {
  const config = configOf(command);
  if (config.port !== 0) await assertPortFree(config.host, config.port);
  // Loaded here, not at the top: `--help` and a busy port answer without loading the server.
  const { openStore, migrate } = await import('../../store/db.ts');
  const { buildApp } = await import('../../http/app.ts');
  const { startJobs } = await import('../../jobs/runner.ts');
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  let app: PayrailApp | null = null;
  let jobs: { stop(): Promise<void> } | null = null;
  try {
    await migrate(store);
    await createDemoClientIfEmpty(store);
    const keyring = await applyBanksFileAtStart(store, config);
    app = await buildApp({ store, logger: { level: config.logLevel }, publicUrl: config.publicUrl, testConnectorStepMs: config.testConnectorStepSeconds * 1000, keyring, testBank: config.testBank });
    const address = await app.listen({ port: config.port, host: config.host });
    if (command.opts().jobs !== false) jobs = startJobs(jobEnvironment(app, store, config), {});
    runtimeOf(command).keepRunning = true;
    stopOnSignals(async () => {
      app?.log.info('shutting down');
      await jobs?.stop();
      await app?.close();
      await store.close();
    });
    process.stdout.write(`Payrail ${PAYRAIL_VERSION} listening on ${address} (database: ${store.dialect} ${store.location})\nAPI reference: ${address}/2.0/docs\n`);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** The keyring for banks' sealed keys, after applying `--banks-file` (idempotent by bank name). */
async function applyBanksFileAtStart(store: Store, config: Readonly<ServerConfig>) {
  const { loadKeyring } = await import('../../services/secret-box.ts');
  const keyring = loadKeyring({ keys: config.keyEncryptionKeys, dataDir: config.dataDir });
  if (config.banksFile) {
    const { applyBanksFile } = await import('../../services/banks.ts');
    const { CONNECTOR_MODULES } = await import('../../connectors/modules.ts');
    const result = await applyBanksFile({ db: store.db, keyring, clock: systemClock, modules: CONNECTOR_MODULES }, config.banksFile);
    process.stdout.write(`Banks file ${config.banksFile}: ${result.added.length} added, ${result.updated.length} updated, ${result.unchanged.length} unchanged\n`);
  }
  return keyring;
}

async function createDemoClientIfEmpty(store: Store): Promise<void> {
  const { countClients, createClient } = await import('../../services/clients.ts');
  if ((await countClients(store.db)) !== 0) return;
  const demo = await createClient(store.db, { name: 'Demo client', redirectUris: DEMO_REDIRECT_URIS, now: systemClock.now() });
  process.stdout.write(
    `First start: created the default domain and a demo client. Keep the secret: it is shown only once.\n` +
      `  client_id:     ${demo.client_id}\n  client_secret: ${demo.client_secret}\n  redirect_uris: ${demo.redirect_uris.join(' ')}\n` +
      `${JSON.stringify({ client_id: demo.client_id, client_secret: demo.client_secret, redirect_uris: demo.redirect_uris })}\n`,
  );
}

async function workerAction(command: Command): Promise<void> {
  const config = configOf(command);
  const { openStore, migrate } = await import('../../store/db.ts');
  const { buildApp } = await import('../../http/app.ts');
  const { startJobs } = await import('../../jobs/runner.ts');
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await migrate(store);
  const { loadKeyring } = await import('../../services/secret-box.ts');
  const keyring = loadKeyring({ keys: config.keyEncryptionKeys, dataDir: config.dataDir });
  const app = await buildApp({ store, logger: { level: config.logLevel }, publicUrl: config.publicUrl, testConnectorStepMs: config.testConnectorStepSeconds * 1000, keyring, testBank: config.testBank });
  const jobs = startJobs(jobEnvironment(app, store, config), {});
  runtimeOf(command).keepRunning = true;
  stopOnSignals(async () => {
    await jobs.stop();
    await app.close();
    await store.close();
  });
  process.stdout.write(`Payrail ${PAYRAIL_VERSION} worker running (database: ${store.dialect} ${store.location})\n`);
}

function stopOnSignals(stop: () => Promise<void>): void {
  const onSignal = () => void stop().finally(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** The jobs' environment: links they build (bank pages) use --public-url, else the listening address. */
function jobEnvironment(app: PayrailApp, store: Store, config: Readonly<ServerConfig>) {
  const baseUrl = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  return {
    db: store.db,
    dialect: store.dialect,
    clock: systemClock,
    leaseMs: config.jobLeaseSeconds * 1000,
    ...(store.listen ? { listen: store.listen } : {}),
    actions: { db: store.db, clock: systemClock, secret: app.payrail.secret, baseUrl, testStepMs: app.payrail.testStepMs, connectors: app.payrail.connectors },
    log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => app.log[level](data ?? {}, message),
  };
}
