/** `payrail client create`: a merchant's client application (client_id, client_secret, redirect URIs). */
import type { Command } from 'commander';
import { systemClock } from '../../domain/clock.ts';
import { createClient } from '../../services/clients.ts';
import { jsonOption, printData } from '../output.ts';
import { examples, UsageError } from '../runtime.ts';
import { storeOptions, withStore } from '../store-options.ts';

export function registerClient(program: Command): void {
  const client = program.command('client').description('client applications (merchants)');
  examples(client, 'payrail client create --name "My shop" --redirect-uri https://shop.example/return');

  const create = jsonOption(storeOptions(client.command('create').description('create a client application; prints its secret once')))
    .option('--name <NAME>', 'the application name (required)')
    .option('--redirect-uri <URL>', 'a redirect URI the client may use (repeat for several; at least one)', (value: string, previous: string[] = []) => [
      ...previous,
      value,
    ])
    .option('--domain <NAME>', 'the domain the client belongs to (default "default")')
    .action(async (options: { name?: string; redirectUri?: string[]; domain?: string }, cmd: Command) => {
      if (!options.name) throw new UsageError('--name is required');
      const redirectUris = options.redirectUri ?? [];
      if (redirectUris.length === 0) throw new UsageError('at least one --redirect-uri is required');
      const created = await withStore(cmd, (store) =>
        createClient(store.db, { name: options.name!, redirectUris, now: systemClock.now(), ...(options.domain ? { domain: options.domain } : {}) }),
      );
      const result = { client_id: created.client_id, client_secret: created.client_secret, redirect_uris: created.redirect_uris };
      printData(
        cmd,
        result,
        (r) => `client_id:     ${r.client_id}\nclient_secret: ${r.client_secret}\nredirect_uris: ${r.redirect_uris.join(' ')}\n(the secret is shown only once)`,
      );
    });
  examples(
    create,
    'payrail client create --name "My shop" --redirect-uri https://shop.example/return --redirect-uri http://localhost:8080/return',
    'payrail client create --name Shop --redirect-uri https://shop.example/return --json',
  );
}
