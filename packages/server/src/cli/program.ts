/**
 * The root of the `payrail` program (name, version, error output, exit codes) and how one command
 * line runs. Light: `bin/payrail.js` runs `serve` from here without loading the other commands.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, SERVER_OPTIONS } from '../config/config.ts';
import { isDatabaseUnavailable } from '../http/errors.ts';
import { ApiError } from '../domain/errors.ts';
import { PAYRAIL_VERSION } from '../version.ts';
import { attachRuntime, type Env, EXIT, runtimeOf, UsageError } from './runtime.ts';

const ENVIRONMENT_HELP = `
Options and their environment variables (flags win):
${Object.values(SERVER_OPTIONS)
  .map((o) => `  --${o.flag.padEnd(28)} ${o.env}`)
  .join('\n')}

Examples:
  $ payrail serve
  $ payrail client create --name "My shop" --redirect-uri https://shop.example/return
  $ payrail help webhook

Exit codes: 0 success, 1 runtime error (database unreachable, port in use…), 2 usage error.
Every command has --help with examples; commands that print data accept --json.
`;

/** The root program, without commands. */
export function rootProgram(env: Env): Command {
  const program = new Command('payrail')
    .description(`payrail ${PAYRAIL_VERSION}: pay-by-bank server compatible with the Powens Pay API`)
    .version(PAYRAIL_VERSION, '-v, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(`payrail: ${message.replace(/^error: /, '').trimEnd()}\n`) })
    .showSuggestionAfterError(true)
    .addHelpText('after', ENVIRONMENT_HELP);
  attachRuntime(program, { env, keepRunning: false });
  program
    .command('version')
    .description('print the version')
    .action(() => void process.stdout.write(`${PAYRAIL_VERSION}\n`));
  return program;
}

/** Runs one command line; resolves to the exit code, or -1 when the command keeps running (serve). */
export async function run(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return runtimeOf(program).keepRunning ? -1 : EXIT.ok;
  } catch (error) {
    return reportError(error);
  }
}

/** One line on stderr and the documented exit code; a stack trace only for the unexpected. */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander already printed its message; help and version are not errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`payrail: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ApiError) {
    // A refused value (400) is a usage error; a missing payment or a state that forbids the action is not.
    process.stderr.write(`payrail: ${error.message}\n`);
    return error.status === 400 ? EXIT.usage : EXIT.runtime;
  }
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
    process.stderr.write(`payrail: cannot listen: ${e.message}\n`);
    return EXIT.runtime;
  }
  if (e?.code === '28P01' || e?.code === '3D000' || isDatabaseUnavailable(e)) {
    process.stderr.write(
      `payrail: cannot reach the database: ${e.message || e.code}` +
        `${e?.code === '28P01' || e?.code === '3D000' ? '' : ' (a connection is awaited at most --database-connect-timeout-seconds)'}\n`,
    );
    return EXIT.runtime;
  }
  process.stderr.write(`payrail: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.runtime;
}
