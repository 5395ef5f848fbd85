/**
 * `payrail serve` without the other commands: `bin/payrail.js` starts here so that only what serve
 * needs to check its options and its port is loaded before it says the port is busy.
 */
import { registerServe } from './commands/serve.ts';
import { rootProgram, run } from './program.ts';
import type { Env } from './runtime.ts';

export async function main(argv: string[], env: Env): Promise<number> {
  const program = rootProgram(env);
  registerServe(program);
  return run(program, argv);
}
