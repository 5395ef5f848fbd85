/** What the CLI needs to act on payments through the same services as the API (trigger, payments cancel). */
import { connectorRegistry } from '../services/banks.ts';
import { createWorkNotifier } from '../services/work-notifier.ts';
import { systemClock } from '../domain/clock.ts';
import type { ServerConfig } from '../config/config.ts';
import { installationSecret } from '../services/installation.ts';
import type { ActionEnvironment } from '../services/payment-actions.ts';
import type { Store } from '../store/db.ts';
import { keyringOf } from './store-options.ts';

export async function cliActionEnvironment(
  store: Store,
  config: Readonly<ServerConfig>,
  options: { publicUrl?: string; testStepMs?: number } = {},
): Promise<ActionEnvironment> {
  const keyring = keyringOf(config);
  return {
    db: store.db,
    clock: systemClock,
    secret: await installationSecret(store.db, keyring, 'signing'),
    baseUrl: options.publicUrl ?? config.publicUrl ?? 'http://127.0.0.1:3000',
    testStepMs: options.testStepMs ?? config.testConnectorStepSeconds * 1000,
    // A CLI process runs no job loop: other processes are woken by NOTIFY (PostgreSQL) or their next poll.
    notifier: createWorkNotifier(),
    connectors: connectorRegistry({ db: store.db, clock: systemClock, keyring, testBank: config.testBank }),
  };
}
