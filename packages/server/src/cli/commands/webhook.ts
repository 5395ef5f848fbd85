/** `payrail webhook add|list|deliveries|replay`: webhook endpoints and their delivery log. */
import type { Command } from 'commander';
import { systemClock } from '../../domain/clock.ts';
import { createEndpoint, listDeliveries, listEndpoints, replayDelivery } from '../../webhooks/endpoints.ts';
import { jsonOption, printData } from '../output.ts';
import { examples, UsageError } from '../runtime.ts';
import { domainIdOf, domainOption, keyringOf, parseId, privateWebhooksOption, storeOptions, withStore } from '../store-options.ts';

function sub(parent: Command, name: string, description: string): Command {
  return jsonOption(domainOption(storeOptions(parent.command(name).description(description))));
}

export function registerWebhook(program: Command): void {
  const webhook = program.command('webhook').description('webhook endpoints, the delivery log, replays');
  examples(webhook, 'payrail webhook add --url https://shop.example/hooks/payrail', 'payrail webhook deliveries --payment 42');

  const add = privateWebhooksOption(sub(webhook, 'add', 'register a webhook endpoint; prints its HMAC secret once'))
    .option('--url <URL>', 'where to POST the events (required)')
    .option('--event <EVENT>', 'the event to receive', 'PAYMENT_STATE_UPDATED')
    .action(async (options: { url?: string; event: string }, cmd: Command) => {
      if (!options.url) throw new UsageError('--url is required');
      const url = options.url;
      const endpoint = await withStore(cmd, async (store, config) =>
        createEndpoint(
          store.db,
          systemClock,
          await domainIdOf(cmd, store),
          { url, event: options.event },
          { keyring: keyringOf(config), allowPrivate: config.allowPrivateWebhooks },
        ),
      );
      printData(
        cmd,
        endpoint,
        (e) => `id:         ${e.id}\nurl:        ${e.url}\nevent:      ${e.event}\nsecret_key: ${e.secret_key}\n(the secret is shown only once)`,
      );
    });
  examples(add, 'payrail webhook add --url https://shop.example/hooks/payrail', 'payrail webhook add --url https://shop.example/hooks/payrail --json');

  const list = sub(webhook, 'list', 'list the webhook endpoints').action(async (_options, cmd: Command) => {
    const webhooks = await withStore(cmd, async (store) => listEndpoints(store.db, await domainIdOf(cmd, store)));
    printData(cmd, { webhooks });
  });
  examples(list, 'payrail webhook list --json');

  const deliveries = sub(webhook, 'deliveries', 'the delivery log, every attempt with its status code')
    .option('--payment <ID>', 'only deliveries about this payment', parseId('--payment'))
    .option('--status <STATUS>', 'only deliveries in this status (pending, delivered, failed)')
    .action(async (options: { payment?: number; status?: string }, cmd: Command) => {
      const filter = { ...(options.payment ? { paymentId: options.payment } : {}), ...(options.status ? { status: options.status } : {}) };
      const found = await withStore(cmd, async (store) => listDeliveries(store.db, await domainIdOf(cmd, store), filter));
      printData(cmd, { deliveries: found });
    });
  examples(deliveries, 'payrail webhook deliveries --payment 42', 'payrail webhook deliveries --status failed --json');

  const replay = sub(webhook, 'replay', 'send a delivery again (a new delivery with the same event)')
    .argument('<DELIVERY_ID>', 'the delivery to send again', parseId('DELIVERY_ID'))
    .action(async (id: number, _options, cmd: Command) => {
      const replayed = await withStore(cmd, async (store) => replayDelivery(store.db, systemClock, await domainIdOf(cmd, store), id));
      printData(cmd, { id: replayed });
    });
  examples(replay, 'payrail webhook replay 17');
}
