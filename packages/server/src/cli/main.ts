/** The `payrail` command line: serve, migrate, client create, openapi. */
import { writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkProductionConfig, ConfigError, loadServerConfig, SERVER_OPTIONS, type ServerConfig } from '../config/config.ts';
import { type Keyring, loadKeyring } from '../services/secret-box.ts';
import { sealStoredSecrets } from '../services/sealed-secrets.ts';
import { systemClock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import { buildApp } from '../http/app.ts';
import { countClients, createClient, DEFAULT_DOMAIN, ensureDomain } from '../services/clients.ts';
import { getConfig, setConfig } from '../services/config.ts';
import { createEndpoint, listDeliveries, listEndpoints, replayDelivery } from '../services/webhooks.ts';
import { startJobs } from '../jobs/runner.ts';
import type { PayrailApp } from '../http/app.ts';
import { migrate, openStore, type Store } from '../store/db.ts';
import { PAYRAIL_VERSION } from '../version.ts';

type Env = Record<string, string | undefined>;

const STORE_FLAGS = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  'key-encryption-key': { type: 'string' },
  mode: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const DEMO_REDIRECT_URIS = [
  'https://merchant.example/payment/return',
  'http://localhost:8080/payment/return',
  'http://127.0.0.1:8080/payment/return',
];

const USAGE = `payrail ${PAYRAIL_VERSION} — pay-by-bank server compatible with the Powens Pay API

Usage:
  payrail serve [--port N] [--host ADDR] [--data-dir DIR] [--database-url URL] [--log-level LEVEL]
                [--public-url URL] [--test-connector-step-seconds N] [--no-jobs] [--job-lease-seconds N]
  payrail worker [--data-dir DIR] [--database-url URL] [--public-url URL]   (jobs only; pair with serve --no-jobs)
  payrail migrate [--data-dir DIR] [--database-url URL]
  payrail webhook add --url URL [--event PAYMENT_STATE_UPDATED] [--domain NAME] [--json]
  payrail webhook list | deliveries [--payment ID] [--status S] | replay DELIVERY_ID
  payrail config get | set KEY VALUE   [--domain NAME]
  payrail client create --name NAME --redirect-uri URL [--redirect-uri URL…] [--domain NAME] [--json]
  payrail openapi [--output FILE]

Options and their environment variables:
${Object.values(SERVER_OPTIONS)
  .map((o) => `  --${o.flag.padEnd(14)} ${o.env.padEnd(22)} ${o.description}${'default' in o ? ` (default ${o.default})` : ''}`)
  .join('\n')}
`;

class UsageError extends Error {}

function parse(args: string[], options: ParseArgsConfig['options']): { values: Record<string, string | boolean | string[] | undefined> } {
  try {
    const { values } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    return { values: values as Record<string, string | boolean | string[] | undefined> };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

const NETWORK_FLAGS = {
  'allowed-hosts': { type: 'string' },
  'trust-proxy': { type: 'string' },
  'allow-private-webhooks': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

async function openConfiguredStore(values: Record<string, unknown>, env: Env) {
  const config = loadServerConfig(values, env);
  const keyring = loadKeyring({ keys: config.keyEncryptionKeys, dataDir: config.dataDir });
  return { config, keyring, store: await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl }) };
}

/** The app as serve and worker run it: origin, proxies, sealed secrets and webhook policy from the configuration. */
async function configuredApp(store: Store, config: ServerConfig, keyring: Keyring) {
  await sealStoredSecrets(store.db, keyring);
  return buildApp({
    store, logger: { level: config.logLevel }, publicUrl: config.publicUrl, testConnectorStepMs: config.testConnectorStepSeconds * 1000,
    keyring, allowedHosts: config.allowedHosts, trustProxy: config.trustProxy, allowPrivateWebhooks: config.allowPrivateWebhooks,
  });
}

async function serve(args: string[], env: Env): Promise<void> {
  const { values } = parse(args, {
    ...STORE_FLAGS,
    ...NETWORK_FLAGS,
    port: { type: 'string' },
    host: { type: 'string' },
    'log-level': { type: 'string' },
    'public-url': { type: 'string' },
    'test-connector-step-seconds': { type: 'string' },
    'no-jobs': { type: 'boolean' },
    'job-lease-seconds': { type: 'string' },
  });
  if (values.help) return void process.stdout.write(USAGE);
  checkProductionConfig(loadServerConfig(values, env));
  const { config, store, keyring } = await openConfiguredStore(values, env);
  await migrate(store);
  if ((await countClients(store.db)) === 0) {
    const demo = await createClient(store.db, { name: 'Demo client', redirectUris: DEMO_REDIRECT_URIS, now: systemClock.now() });
    process.stdout.write(
      `First start: created the default domain and a demo client. Keep the secret: it is shown only once.\n` +
        `  client_id:     ${demo.client_id}\n  client_secret: ${demo.client_secret}\n  redirect_uris: ${demo.redirect_uris.join(' ')}\n` +
        `${JSON.stringify({ client_id: demo.client_id, client_secret: demo.client_secret, redirect_uris: demo.redirect_uris })}\n`,
    );
  }
  const app = await configuredApp(store, config, keyring);
  const jobs = values['no-jobs'] ? null : startJobs(jobEnvironment(app, store, config), {});
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await jobs?.stop();
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  const address = await app.listen({ port: config.port, host: config.host });
  process.stdout.write(`Payrail ${PAYRAIL_VERSION} listening on ${address} (database: ${store.dialect} ${store.location})\n` +
    `API reference: ${address}/2.0/docs\n`);
}

/** The jobs' environment: links they build (bank pages) use --public-url, else the listening address. */
function jobEnvironment(app: PayrailApp, store: Store, config: ServerConfig) {
  const baseUrl = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  return {
    db: store.db,
    dialect: store.dialect,
    clock: systemClock,
    leaseMs: config.jobLeaseSeconds * 1000,
    keyring: app.payrail.keyring,
    allowPrivateWebhooks: config.allowPrivateWebhooks,
    ...(store.listen ? { listen: store.listen } : {}),
    actions: { db: store.db, clock: systemClock, secret: app.payrail.secret, baseUrl, testStepMs: app.payrail.testStepMs },
    log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => app.log[level](data ?? {}, message),
  };
}

/** `payrail worker`: the jobs alone, no HTTP (run beside `serve --no-jobs` processes on one PostgreSQL). */
async function workerCommand(args: string[], env: Env): Promise<void> {
  const { values } = parse(args, {
    ...STORE_FLAGS, ...NETWORK_FLAGS, 'log-level': { type: 'string' }, 'public-url': { type: 'string' }, 'test-connector-step-seconds': { type: 'string' }, 'job-lease-seconds': { type: 'string' },
  });
  if (values.help) return void process.stdout.write(USAGE);
  checkProductionConfig(loadServerConfig(values, env));
  const { config, store, keyring } = await openConfiguredStore(values, env);
  await migrate(store);
  const app = await configuredApp(store, config, keyring);
  const jobs = startJobs(jobEnvironment(app, store, config), {});
  const shutdown = async () => {
    await jobs.stop();
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  process.stdout.write(`Payrail ${PAYRAIL_VERSION} worker running (database: ${store.dialect} ${store.location})\n`);
}

async function domainId(store: Store, name: string | undefined): Promise<number> {
  return ensureDomain(store.db, name ?? DEFAULT_DOMAIN, systemClock.now());
}

async function webhookCommand(args: string[], env: Env): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseWithPositionals(rest, {
    ...STORE_FLAGS, url: { type: 'string' }, event: { type: 'string' }, domain: { type: 'string' }, json: { type: 'boolean' },
    payment: { type: 'string' }, status: { type: 'string' }, 'allow-private-webhooks': { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(USAGE);
  const { store, keyring, config } = await openConfiguredStore(values, env);
  try {
    await migrate(store);
    const domain = await domainId(store, values.domain as string | undefined);
    let result: unknown;
    switch (sub) {
      case 'add':
        if (!values.url) throw new UsageError('--url is required');
        result = await createEndpoint(store.db, systemClock, domain, { url: values.url, event: values.event ?? 'PAYMENT_STATE_UPDATED' }, { keyring, allowPrivate: config.allowPrivateWebhooks });
        break;
      case 'list':
        result = { webhooks: await listEndpoints(store.db, domain) };
        break;
      case 'deliveries':
        result = {
          deliveries: await listDeliveries(store.db, domain, {
            ...(values.payment ? { paymentId: Number(values.payment) } : {}), ...(values.status ? { status: values.status as string } : {}),
          }),
        };
        break;
      case 'replay': {
        const id = Number(positionals[0]);
        if (!Number.isSafeInteger(id) || id <= 0) throw new UsageError('usage: payrail webhook replay DELIVERY_ID');
        result = { id: await replayDelivery(store.db, systemClock, domain, id) };
        break;
      }
      default:
        throw new UsageError(`unknown webhook command "${sub ?? ''}" (add, list, deliveries, replay)`);
    }
    process.stdout.write(values.json || sub !== 'add' ? `${JSON.stringify(result, null, values.json ? 0 : 2)}\n` : formatEndpoint(result as Record<string, unknown>));
  } finally {
    await store.close();
  }
}

function formatEndpoint(endpoint: Record<string, unknown>): string {
  return `id:         ${endpoint.id}\nurl:        ${endpoint.url}\nevent:      ${endpoint.event}\nsecret_key: ${endpoint.secret_key}\n(the secret is shown only once)\n`;
}

async function configCommand(args: string[], env: Env): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseWithPositionals(rest, { ...STORE_FLAGS, domain: { type: 'string' } });
  if (values.help) return void process.stdout.write(USAGE);
  const { store } = await openConfiguredStore(values, env);
  try {
    await migrate(store);
    const domain = await domainId(store, values.domain as string | undefined);
    let config;
    if (sub === 'get') config = await getConfig(store.db, domain);
    else if (sub === 'set') {
      if (positionals.length !== 2) throw new UsageError('usage: payrail config set KEY VALUE');
      config = await setConfig(store.db, domain, { [positionals[0]!]: positionals[1]! });
    } else throw new UsageError(`unknown config command "${sub ?? ''}" (get, set)`);
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  } finally {
    await store.close();
  }
}

function parseWithPositionals(args: string[], options: ParseArgsConfig['options']) {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

async function migrateCommand(args: string[], env: Env): Promise<void> {
  const { values } = parse(args, STORE_FLAGS);
  if (values.help) return void process.stdout.write(USAGE);
  const { store } = await openConfiguredStore(values, env);
  try {
    const applied = await migrate(store);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await store.close();
  }
}

async function clientCommand(args: string[], env: Env): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError(`unknown client command "${sub ?? ''}"; try: payrail client create --name NAME --redirect-uri URL`);
  const { values } = parse(rest, {
    ...STORE_FLAGS,
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    domain: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (!values.name) throw new UsageError('--name is required');
  const redirectUris = (values['redirect-uri'] as string[] | undefined) ?? [];
  if (redirectUris.length === 0) throw new UsageError('at least one --redirect-uri is required');
  const { store } = await openConfiguredStore(values, env);
  try {
    await migrate(store);
    const client = await createClient(store.db, {
      name: values.name as string,
      redirectUris,
      now: systemClock.now(),
      ...(values.domain ? { domain: values.domain as string } : {}),
    });
    const result = { client_id: client.client_id, client_secret: client.client_secret, redirect_uris: client.redirect_uris };
    process.stdout.write(
      values.json
        ? `${JSON.stringify(result)}\n`
        : `client_id:     ${result.client_id}\nclient_secret: ${result.client_secret}\nredirect_uris: ${result.redirect_uris.join(' ')}\n(the secret is shown only once)\n`,
    );
  } finally {
    await store.close();
  }
}

async function openapiCommand(args: string[]): Promise<void> {
  const { values } = parse(args, { output: { type: 'string' } });
  if (values.help) return void process.stdout.write(USAGE);
  const store = await openStore({ dataDir: ':memory:' });
  try {
    await migrate(store);
    const app = await buildApp({ store });
    await app.ready();
    const text = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    if (values.output) writeFileSync(values.output as string, text);
    else process.stdout.write(text);
    await app.close();
  } finally {
    await store.close();
  }
}

export async function main(argv: string[], env: Env): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'serve':
        await serve(args, env);
        return -1; // keeps running
      case 'migrate':
        await migrateCommand(args, env);
        return 0;
      case 'client':
        await clientCommand(args, env);
        return 0;
      case 'openapi':
        await openapiCommand(args);
        return 0;
      case 'worker':
        await workerCommand(args, env);
        return -1;
      case 'webhook':
        await webhookCommand(args, env);
        return 0;
      case 'config':
        await configCommand(args, env);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      case '--version':
      case 'version':
        process.stdout.write(`${PAYRAIL_VERSION}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}" (commands: serve, worker, migrate, client create, webhook, config, openapi)`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof ApiError) {
      process.stderr.write(`payrail: ${error.message}\n`);
      return 2;
    }
    const e = error as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`payrail: cannot listen: ${e.message}\n`);
      return 1;
    }
    if (e?.code === 'ECONNREFUSED' || e?.code === '28P01' || e?.code === '3D000' || e?.code === 'ENOTFOUND') {
      process.stderr.write(`payrail: cannot reach the database: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`payrail: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}
