/** `payrail admin create|login`: operator accounts for the dashboard at /admin (never merchant tokens). */
import type { Command } from 'commander';
import { systemClock } from '../../domain/clock.ts';
import { createOperator, LINK_TTL_MS, signInLinkToken } from '../../services/operators.ts';
import { jsonOption, printData } from '../output.ts';
import { examples, UsageError } from '../runtime.ts';
import { configOption, storeOptions, withStore } from '../store-options.ts';
import { SERVER_OPTIONS } from '../../config/config.ts';

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('operator accounts for the admin dashboard (/admin)');
  examples(admin, 'payrail admin create --email ops@example.com', 'payrail admin login --email ops@example.com --public-url https://pay.example.com');

  const create = jsonOption(storeOptions(admin.command('create').description('create an operator; prints a generated password once')))
    .option('--email <EMAIL>', "the operator's email, used to sign in (required)")
    .action(async (options: { email?: string }, cmd: Command) => {
      if (!options.email) throw new UsageError('--email is required');
      const email = options.email;
      const operator = await withStore(cmd, (store) => createOperator(store.db, systemClock, email));
      printData(
        cmd,
        { email: operator.email, password: operator.password },
        (o) => `email:    ${o.email}\npassword: ${o.password}\n(the password is shown only once; sign in at /admin/login)`,
      );
    });
  examples(create, 'payrail admin create --email ops@example.com', 'payrail admin create --email ops@example.com --json');

  const login = jsonOption(storeOptions(admin.command('login').description('print a one-time sign-in link (valid 15 minutes)')))
    .option('--email <EMAIL>', 'the operator to sign in (required)')
    .addOption(configOption(SERVER_OPTIONS.publicUrl, 'URL'))
    .action(async (options: { email?: string }, cmd: Command) => {
      if (!options.email) throw new UsageError('--email is required');
      const email = options.email;
      const { link } = await withStore(cmd, async (store, config) => {
        const { token } = await signInLinkToken(store.db, systemClock, email);
        const base = config.publicUrl ?? `http://${config.host}:${config.port}`;
        return { link: `${base}/admin/login/link?token=${token}` };
      });
      printData(cmd, { link, expires_in: LINK_TTL_MS / 1000 }, (r) => `${r.link}\n(one use, valid ${r.expires_in / 60} minutes)`);
    });
  examples(login, 'payrail admin login --email ops@example.com', 'open "$(payrail admin login --email ops@example.com --json | jq -r .link)"');
}
