/** `payrail openapi`: the OpenAPI document of this version, built from the routes themselves. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { examples } from '../runtime.ts';

export function registerOpenapi(program: Command): void {
  const command = program
    .command('openapi')
    .description('print the OpenAPI 3.1 document (JSON)')
    .option('--output <FILE>', 'write it to FILE instead of the standard output')
    .option('--json', 'accepted for symmetry: the document is always JSON')
    .action(async (options: { output?: string }) => {
      const { buildApp } = await import('../../http/app.ts');
      const { migrate, openStore } = await import('../../store/db.ts');
      const store = await openStore({ dataDir: ':memory:' });
      try {
        await migrate(store);
        const app = await buildApp({ store });
        await app.ready();
        const text = `${JSON.stringify(app.swagger(), null, 2)}\n`;
        await app.close();
        if (options.output) writeFileSync(options.output, text);
        else process.stdout.write(text);
      } finally {
        await store.close();
      }
    });
  examples(command, 'payrail openapi --output docs/openapi.json', 'payrail openapi | jq .paths');
}
