/** `payrail serve` (API, webview and background jobs) and `payrail worker` (the jobs alone). */
import type { Command } from 'commander';
import { checkProductionConfig, SERVER_OPTIONS, type ServerConfig } from '../../config/config.ts';
import { type Clock, SandboxClock, systemClock } from '../../domain/clock.ts';
import type { PayrailApp } from '../../http/app.ts';
import type { Instance } from '../../services/instances.ts';
import type { Store } from '../../store/db.ts';
import { PAYRAIL_VERSION } from '../../version.ts';
import { assertPortFree } from '../port.ts';
import { drainOnSignals } from '../shutdown.ts';
import type { RunnerOptions } from '../../jobs/runner.ts';
import { examples, runtimeOf } from '../runtime.ts';
import { configOf, configOption, keyringOf, privateWebhooksOption, storeOptions } from '../options.ts';

export { DEMO_REDIRECT_URIS } from '../../services/demo-client.ts';

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
    .addOption(configOption(SERVER_OPTIONS.validationTurnMs, 'MS'))
    .option('--no-jobs', 'serve HTTP only; run the jobs in `payrail worker` processes')
    .option('--demo', `${SERVER_OPTIONS.demo.description} [env ${SERVER_OPTIONS.demo.env}]`)
    .option(
      '--sandbox-clock',
      "sandbox only: serve POST /2.0/sandbox/clock (admin token) to move this process's clock forward, e.g. to see a year of a standing order in seconds",
    )
    .action(async (_options, command: Command) => serveAction(command));
  privateWebhooksOption(serve);
  opsOptions(serve);
  examples(
    serve,
    'payrail serve',
    'payrail serve --mode production --public-url https://pay.example.com --key-encryption-key $(cat /run/secrets/payrail-kek)',
    'payrail serve --port 8080 --trust-proxy 10.0.0.0/8 --public-url https://pay.example.com',
    'payrail serve --sandbox-clock',
    'PAYRAIL_DATABASE_URL=postgres://payrail@db/payrail payrail serve --no-jobs',
  );

  const worker = storeOptions(program.command('worker').description('run only the background jobs (pair with `serve --no-jobs` on one PostgreSQL)'))
    .addOption(configOption(SERVER_OPTIONS.logLevel, 'LEVEL'))
    .addOption(configOption(SERVER_OPTIONS.publicUrl, 'URL'))
    .addOption(configOption(SERVER_OPTIONS.testConnectorStepSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.jobLeaseSeconds, 'N'))
    .addOption(configOption(SERVER_OPTIONS.testBank, 'on|off'))
    .action(async (_options, command: Command) => workerAction(command));
  privateWebhooksOption(worker);
  opsOptions(worker);
  examples(worker, 'payrail worker --database-url postgres://payrail@db/payrail');
}

/** Database bounds, probes, metrics, shutdown, retention and webhook concurrency (docs/operations.md). */
function opsOptions(command: Command): void {
  const specs = [
    [SERVER_OPTIONS.databaseConnectTimeoutSeconds, 'N'],
    [SERVER_OPTIONS.databaseStatementTimeoutSeconds, 'N'],
    [SERVER_OPTIONS.databaseQueryTimeoutSeconds, 'N'],
    [SERVER_OPTIONS.databasePoolSize, 'N'],
    [SERVER_OPTIONS.databaseListenUrl, 'URL'],
    [SERVER_OPTIONS.readyMaxBacklog, 'N'],
    [SERVER_OPTIONS.metrics, 'MODE'],
    [SERVER_OPTIONS.metricsToken, 'TOKEN'],
    [SERVER_OPTIONS.shutdownTimeoutSeconds, 'N'],
    [SERVER_OPTIONS.retentionDays, 'N'],
    [SERVER_OPTIONS.purgeIntervalMinutes, 'N'],
    [SERVER_OPTIONS.webhookConcurrency, 'N'],
    [SERVER_OPTIONS.webhookEndpointConcurrency, 'N'],
  ] as const;
  for (const [spec, name] of specs) command.addOption(configOption(spec, name));
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
  const { migrate } = await import('../../store/db.ts');
  const { openConfiguredStore } = await import('../store-options.ts');
  const store = await openConfiguredStore(config);
  let app: PayrailApp | null = null;
  let jobs: { stop(): Promise<void> } | null = null;
  let instance: Instance | null = null;
  try {
    await migrate(store);
    await createDemoClient(store, config);
    await applyBanksFileAtStart(store, config);
    // The sandbox clock lives in this process: the API and the jobs read the same one.
    const sandboxClock = command.opts().sandboxClock === true;
    const clock = sandboxClock ? new SandboxClock() : systemClock;
    // This process's id, kept alive for a job lease at a time: its claims end if it dies (docs/operations.md, "After a crash").
    const { startInstance } = await import('../../services/instances.ts');
    instance = await startInstance({
      db: store.db,
      clock: systemClock,
      leaseMs: config.jobLeaseSeconds * 1000,
      log: (level, message, data) => app?.log[level](data ?? {}, message),
    });
    app = await configuredApp(store, config, { instanceId: instance.id, ...(sandboxClock ? { clock, sandboxClock } : {}) });
    const environment = jobEnvironment(app, store, config, clock, instance.id);
    // Before the first request: on the embedded database every claim of another process is a dead
    // one's (one process owns the file); on PostgreSQL, those whose process's lease ended.
    const { recoverClaims } = await import('../../services/claim-recovery.ts');
    await recoverClaims(environment.actions, { self: instance.id, processClock: systemClock, everyOtherDead: store.dialect === 'sqlite' });
    const address = await app.listen({ port: config.port, host: config.host });
    if (command.opts().jobs !== false) {
      // The jobs' code is loaded once the server listens (start-up: docs/performance.md).
      const { startJobs } = await import('../../jobs/runner.ts');
      jobs = startJobs(environment, runnerOptions(config));
    }
    runtimeOf(command).keepRunning = true;
    const log = app.log;
    drainOnSignals({
      app,
      jobs,
      instance,
      store,
      timeoutMs: config.shutdownTimeoutSeconds * 1000,
      log: (level, message, data) => log[level](data ?? {}, message),
    });
    process.stdout.write(
      `Payrail ${PAYRAIL_VERSION} listening on ${address} (database: ${store.dialect} ${store.location})\nAPI reference: ${address}/2.0/docs\n`,
    );
  } catch (error) {
    await app?.close().catch(() => undefined);
    await instance?.stop().catch(() => undefined);
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
    process.stdout.write(
      `Banks file ${config.banksFile}: ${result.added.length} added, ${result.updated.length} updated, ${result.unchanged.length} unchanged\n`,
    );
  }
}

/**
 * The demo client only when asked (--demo), or on the embedded database's first start in
 * development; printed once on stdout, never logged. Several processes starting together create one
 * at most. Production never creates one, whatever the database (--demo is refused there, see
 * checkProductionConfig).
 */
async function createDemoClient(store: Store, config: Readonly<ServerConfig>): Promise<void> {
  const { countClients } = await import('../../services/clients.ts');
  const { demoBanner, ensureDemoClient } = await import('../../services/demo-client.ts');
  const wanted = config.mode === 'development' && (config.demo || store.dialect === 'sqlite');
  const demo = wanted ? await ensureDemoClient(store.db, systemClock.now(), { evenIfClients: config.demo }) : null;
  if (demo) process.stdout.write(`First start: ${demoBanner(demo)}`);
  else if ((store.dialect === 'postgres' || config.mode === 'production') && (await countClients(store.db)) === 0) {
    const orDemo = config.mode === 'production' ? '' : ' (or start once with --demo)';
    process.stdout.write(`No client yet: create one with \`payrail client create --name NAME --redirect-uri URL\`${orDemo}.\n`);
  }
}

async function workerAction(command: Command): Promise<void> {
  const config = configOf(command);
  checkProductionConfig(config);
  const { migrate } = await import('../../store/db.ts');
  const { openConfiguredStore } = await import('../store-options.ts');
  const { startJobs } = await import('../../jobs/runner.ts');
  const store = await openConfiguredStore(config);
  await migrate(store);
  const app = await configuredApp(store, config);
  const jobs = startJobs(jobEnvironment(app, store, config), runnerOptions(config));
  runtimeOf(command).keepRunning = true;
  drainOnSignals({
    app: null,
    jobs,
    store,
    timeoutMs: config.shutdownTimeoutSeconds * 1000,
    log: (level, message, data) => app.log[level](data ?? {}, message),
  });
  process.stdout.write(`Payrail ${PAYRAIL_VERSION} worker running (database: ${store.dialect} ${store.location})\n`);
}

/**
 * The app as serve and worker run it: links from the public URL or an allowed Host, trusted proxies,
 * the webhook address policy, and secrets sealed under the keyring (clear-text ones from older
 * versions are sealed here, at every start).
 */
async function configuredApp(
  store: Store,
  config: Readonly<ServerConfig>,
  extra: { clock?: Clock; sandboxClock?: boolean; instanceId?: string } = {},
): Promise<PayrailApp> {
  const { buildApp } = await import('../../http/app.ts');
  const { sealStoredSecrets } = await import('../../services/sealed-secrets.ts');
  const keyring = keyringOf(config);
  await sealStoredSecrets(store.db, keyring);
  const { setDatabaseErrorReporter } = await import('../store-options.ts');
  const app = await buildApp({
    probes: { readyMaxBacklog: config.readyMaxBacklog, metrics: config.metrics, metricsToken: config.metricsToken },
    store,
    logger: { level: config.logLevel },
    publicUrl: config.publicUrl,
    testConnectorStepMs: config.testConnectorStepSeconds * 1000,
    keyring,
    allowedHosts: config.allowedHosts,
    trustProxy: config.trustProxy,
    allowPrivateWebhooks: config.allowPrivateWebhooks,
    testBank: config.testBank,
    validationTurnMs: config.validationTurnMs,
    ...extra,
  });
  setDatabaseErrorReporter((error) => app.log.warn({ error: error.message }, 'database connection lost'));
  return app;
}

function runnerOptions(config: Readonly<ServerConfig>): RunnerOptions {
  return {
    retentionDays: config.retentionDays,
    purgeEveryMs: config.purgeIntervalMinutes * 60_000,
    webhookConcurrency: config.webhookConcurrency,
    webhookEndpointConcurrency: config.webhookEndpointConcurrency,
  };
}

/** The jobs' environment: links they build (bank pages) use --public-url, else the listening address. */
function jobEnvironment(app: PayrailApp, store: Store, config: Readonly<ServerConfig>, clock: Clock = systemClock, instanceId: string | null = null) {
  const baseUrl = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  return {
    db: store.db,
    dialect: store.dialect,
    clock,
    leaseMs: config.jobLeaseSeconds * 1000,
    keyring: app.payrail.keyring,
    allowPrivateWebhooks: config.allowPrivateWebhooks,
    smtpUrl: config.smtpUrl,
    ...(store.listen ? { listen: store.listen } : {}),
    actions: {
      db: store.db,
      clock,
      secret: app.payrail.secret,
      baseUrl,
      testStepMs: app.payrail.testStepMs,
      connectors: app.payrail.connectors,
      notifier: app.payrail.notifier,
      instanceId,
      log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => app.log[level](data ?? {}, message),
    },
    log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => app.log[level](data ?? {}, message),
  };
}
