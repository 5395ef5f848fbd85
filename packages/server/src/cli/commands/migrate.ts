/** `payrail migrate`: brings the database schema up to date. */
import type { Command } from 'commander';
import { migrate } from '../../store/db.ts';
import { jsonOption, printData } from '../output.ts';
import { examples } from '../runtime.ts';
import { configOf, openConfiguredStore, storeOptions } from '../store-options.ts';

export function registerMigrate(program: Command): void {
  const command = jsonOption(storeOptions(program.command('migrate').description('bring the database schema up to date'))).action(
    async (_options, cmd: Command) => {
      const store = await openConfiguredStore(configOf(cmd));
      try {
        const applied = await migrate(store);
        printData(cmd, { applied }, () => (applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date'));
      } finally {
        await store.close();
      }
    },
  );
  examples(command, 'payrail migrate', 'payrail migrate --database-url postgres://payrail@db/payrail --json');
}
