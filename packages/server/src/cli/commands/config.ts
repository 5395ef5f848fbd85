/** `payrail config get|set`: the domain configuration (the same keys as `GET/POST /2.0/config`). */
import type { Command } from 'commander';
import { CONFIG_KEYS, getConfig, setConfig } from '../../services/config.ts';
import { jsonOption, printData } from '../output.ts';
import { examples } from '../runtime.ts';
import { domainIdOf, domainOption, storeOptions, withStore } from '../store-options.ts';

export function registerConfig(program: Command): void {
  const config = program.command('config').description(`the domain configuration (keys: ${Object.keys(CONFIG_KEYS).join(', ')})`);
  examples(config, 'payrail config get', 'payrail config set payment.manual_expire_time_days 3');

  const get = jsonOption(domainOption(storeOptions(config.command('get').description('print the domain configuration')))).action(
    async (_options, cmd: Command) => {
      printData(cmd, await withStore(cmd, async (store) => getConfig(store.db, await domainIdOf(cmd, store))));
    },
  );
  examples(get, 'payrail config get --json', 'payrail config get --domain eu');

  const set = jsonOption(domainOption(storeOptions(config.command('set').description('set one configuration key; prints the whole configuration'))))
    .argument('<KEY>', 'the key, e.g. payment.manual_expire_time_days')
    .argument('<VALUE>', 'its value, as a string')
    .action(async (key: string, value: string, _options, cmd: Command) => {
      printData(cmd, await withStore(cmd, async (store) => setConfig(store.db, await domainIdOf(cmd, store), { [key]: value })));
    });
  examples(set, 'payrail config set payment.manual_expire_time_days 3');
}
