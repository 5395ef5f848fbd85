/** `payrail serve` (API, webview and background jobs) and `payrail worker` (the jobs alone). */
import type { Command } from 'commander';
import { checkProductionConfig, SERVER_OPTIONS, type ServerConfig } from '../../config/config.ts';
import { type Clock, SandboxClock, systemClock } from '../../domain/clock.ts';
import type { PayrailApp } from '../../http/app.ts';
import type { Store } from '../../store/db.ts';
import { PAYRAIL_VERSION } from '../../version.ts';
import { assertPortFree } from '../port.ts';
import { examples, runtimeOf } from '../runtime.ts';
import { configOf, configOption, keyringOf, privateWebhooksOption, storeOptions } from '../options.ts';

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
    .addOption(configOption(SERVER_OPTIONS.allowedHosts, 'HOSTS'))
    .addOption(configOption(SERVER_OPTIONS.trustProxy, 'ADDRESSES'))
    .option('--no-jobs', 'serve HTTP only; run the jobs in `payrail worker` processes')
    .option('--sandbox-clock', 'sandbox only: serve POST /2.0/sandbox/clock (admin token) to move this process\'s clock forward, e.g. to see a year of a standing order in seconds')
    .action(async (_options, command: Command) => serveAction(command));
  privateWebhooksOption(serve);
  examples(serve, 'payrail serve', 'payrail serve --mode production --public-url https://pay.example.com --key-encryption-key $(cat /run/secrets/payrail-kek)', 'payrail serve --port 8080 --trust-proxy 10.0.0.0/8 --public-url https://pay.example.com', 'payrail serve --sandbox-clock', 'PAYRAIL_DATABASE_URL=postgres://payrail@db/payrail payrail serve --no-jobs');

  const worker = storeOptions(program.command('worker').description('run only the background jobs (pair with `serve --no-jobs` on one PostgreSQL)'))
    .addOption(configOption(SERVER_OPTIONS.logLevel, 'LEVEL'))
    .addOption(configOption(SERVER_OPTIONS.publicUrl, 'URL'))
    .addOption(configOption(SERVER_OPTIONS.testConnectorStepSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.jobLeaseSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.testBank, 'on|off'))
    .action(async (_options, command: Command) => workerAction(command));
  privateWebhooksOption(worker);
  examples(worker, 'payrail worker --database-url postgres://payrail@db/payrail');
}

/**
 * Order matters: the port is checked before the database is touched, and the jobs start only
 * once the server listens, so a busy port fails at once and leaves no work half-started.
 */
async function serveAction(command: Command): Promise<void> {
  const config = configOf(command);
  checkProductionConfig(config);
  if (config.port !== 0) await assertPortFree(config.host, config.port);
  // Loaded here, not at the top: `--help` and a busy port answer without loading the server.
  const { openStore, migrate } = await import('../../store/db.ts');
  const { startJobs } = await import('../../jobs/runner.ts');
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  let app: PayrailApp | null = null;
  let jobs: { stop(): Promise<void> } | null = null;
  try {
    await migrate(store);
    await createDemoClientIfEmpty(store);
    await applyBanksFileAtStart(store, config);
    // The sandbox clock lives in this process: the API and the jobs read the same one.
    const sandboxClock = command.opts().sandboxClock === true;
    const clock = sandboxClock ? new SandboxClock() : systemClock;
    app = await configuredApp(store, config, sandboxClock ? { clock, sandboxClock } : {});
    const address = await app.listen({ port: config.port, host: config.host });
    if (command.opts().jobs !== false) jobs = startJobs(jobEnvironment(app, store, config, clock), {});
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

/** Applies `--banks-file` (idempotent by bank name); its keys are sealed under the configured keyring. */
async function applyBanksFileAtStart(store: Store, config: Readonly<ServerConfig>): Promise<void> {
  const keyring = keyringOf(config);
  if (config.banksFile) {
    const { applyBanksFile } = await import('../../services/banks.ts');
    const { CONNECTOR_MODULES } = await import('../../connectors/modules.ts');
    const result = await applyBanksFile({ db: store.db, keyring, clock: systemClock, modules: CONNECTOR_MODULES }, config.banksFile);
    process.stdout.write(`Banks file ${config.banksFile}: ${result.added.length} added, ${result.updated.length} updated, ${result.unchanged.length} unchanged\n`);
  }
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
  checkProductionConfig(config);
  const { openStore, migrate } = await import('../../store/db.ts');
  const { startJobs } = await import('../../jobs/runner.ts');
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await migrate(store);
  const app = await configuredApp(store, config);
  const jobs = startJobs(jobEnvironment(app, store, config), {});
  runtimeOf(command).keepRunning = true;
  stopOnSignals(async () => {
    await jobs.stop();
    await app.close();
    await store.close();
  });
  process.stdout.write(`Payrail ${PAYRAIL_VERSION} worker running (database: ${store.dialect} ${store.location})\n`);
}

/**
 * The app as serve and worker run it: links from the public URL or an allowed Host, trusted proxies,
 * the webhook address policy, and secrets sealed under the keyring (clear-text ones from older
 * versions are sealed here, at every start).
 */
async function configuredApp(store: Store, config: Readonly<ServerConfig>, sandbox: { clock?: Clock; sandboxClock?: boolean } = {}): Promise<PayrailApp> {
  const { buildApp } = await import('../../http/app.ts');
  const { sealStoredSecrets } = await import('../../services/sealed-secrets.ts');
  const keyring = keyringOf(config);
  await sealStoredSecrets(store.db, keyring);
  return buildApp({
    store, logger: { level: config.logLevel }, publicUrl: config.publicUrl, testConnectorStepMs: config.testConnectorStepSeconds * 1000,
    keyring, allowedHosts: config.allowedHosts, trustProxy: config.trustProxy, allowPrivateWebhooks: config.allowPrivateWebhooks, testBank: config.testBank, ...sandbox,
  });
}

function stopOnSignals(stop: () => Promise<void>): void {
  const onSignal = () => void stop().finally(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** The jobs' environment: links they build (bank pages) use --public-url, else the listening address. */
function jobEnvironment(app: PayrailApp, store: Store, config: Readonly<ServerConfig>, clock: Clock = systemClock) {
  const baseUrl = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  return {
    db: store.db,
    dialect: store.dialect,
    clock,
    leaseMs: config.jobLeaseSeconds * 1000,
    keyring: app.payrail.keyring,
    allowPrivateWebhooks: config.allowPrivateWebhooks,
    ...(store.listen ? { listen: store.listen } : {}),
    actions: { db: store.db, clock, secret: app.payrail.secret, baseUrl, testStepMs: app.payrail.testStepMs, connectors: app.payrail.connectors },
    log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => app.log[level](data ?? {}, message),
  };
}
