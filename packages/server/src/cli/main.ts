/**
 * The `payrail` command line, on commander. Each command group lives in `commands/<group>.ts` and
 * exports `register<Group>(program)`; adding a group is one import and one call in buildProgram.
 * Exit codes: 0 success, 1 runtime error, 2 usage error (see EXIT and docs/cli.md).
 */
import type { Command } from 'commander';
import { registerAdmin } from './commands/admin.ts';
import { registerBankSimulate } from './commands/bank-simulate.ts';
import { registerBank } from './commands/bank.ts';
import { registerClient } from './commands/client.ts';
import { registerConfig } from './commands/config.ts';
import { registerListen } from './commands/listen.ts';
import { registerKeys } from './commands/keys.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerOpenapi } from './commands/openapi.ts';
import { registerOps } from './commands/ops.ts';
import { registerPayments } from './commands/payments.ts';
import { registerServe } from './commands/serve.ts';
import { registerTrigger } from './commands/trigger.ts';
import { registerWebhook } from './commands/webhook.ts';
import { rootProgram, run } from './program.ts';
import type { Env } from './runtime.ts';

export { DEMO_REDIRECT_URIS } from './commands/serve.ts';

/** The program with every command registered. */
export function buildProgram(env: Env): Command {
  const program = rootProgram(env);
  registerServe(program);
  registerMigrate(program);
  registerClient(program);
  registerWebhook(program);
  registerConfig(program);
  registerOpenapi(program);
  registerOps(program);
  registerPayments(program);
  registerTrigger(program);
  registerListen(program);
  registerKeys(program);
  registerAdmin(program);
  registerBank(program);
  // After registerBank: `simulate` joins the same `bank` group.
  registerBankSimulate(program);
  return program;
}

/** Runs one command line; resolves to the exit code, or -1 when the command keeps running (serve). */
export async function main(argv: string[], env: Env): Promise<number> {
  return run(buildProgram(env), argv);
}
