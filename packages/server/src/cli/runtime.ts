/**
 * What every command needs besides its options: the environment, where to print, exit codes.
 * Kept beside the program (not in globals) so tests can run `main` several times in one process.
 */
import type { Command } from 'commander';

export type Env = Record<string, string | undefined>;

/** Exit codes of `payrail` (documented in docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** Something failed while running: database unreachable, port in use, a payment that cannot be cancelled… */
  runtime: 1,
  /** The command line is wrong: unknown command or option, missing or invalid value. */
  usage: 2,
} as const;

/** A mistake in the command line: printed in one line, exit code 2. */
export class UsageError extends Error {}

export interface Runtime {
  env: Env;
  /** Set by long-running commands (serve, worker, listen): main must not exit when the action returns. */
  keepRunning: boolean;
}

const runtimes = new WeakMap<Command, Runtime>();

export function attachRuntime(program: Command, runtime: Runtime): void {
  runtimes.set(program, runtime);
}

/** The runtime of the program a (sub)command belongs to. */
export function runtimeOf(command: Command): Runtime {
  let root: Command = command;
  while (root.parent) root = root.parent;
  const runtime = runtimes.get(root);
  if (!runtime) throw new Error('command is not attached to a payrail program');
  return runtime;
}

export function envOf(command: Command): Env {
  return runtimeOf(command).env;
}

/** Adds an "Examples:" section to a command's --help. */
export function examples(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}
