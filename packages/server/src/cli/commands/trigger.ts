/** `payrail trigger SCENARIO`: a test-bank payment driven to an outcome, to develop webhook handling. */
import type { Command } from 'commander';
import { systemClock } from '../../domain/clock.ts';
import { SCENARIOS, triggerPrincipal, triggerScenario } from '../../services/trigger-scenario.ts';
import { cliActionEnvironment } from '../action-environment.ts';
import { jsonOption, printData } from '../output.ts';
import { examples, UsageError } from '../runtime.ts';
import { domainIdOf, domainOption, storeOptions, withStore } from '../store-options.ts';

/** One test-bank scenario step in ms (instant payments: 1/60 of it, so one millisecond). */
const TRIGGER_STEP_MS = 60;

export function registerTrigger(program: Command): void {
  const trigger = jsonOption(domainOption(storeOptions(program.command('trigger'))))
    .description('create a payment on the test bank and drive it to an outcome; a running `payrail serve` delivers its webhooks')
    .argument('<SCENARIO>', `one of: ${Object.keys(SCENARIOS).join(', ')}`)
    .option('--client <CLIENT_ID>', 'the client the payment belongs to (default: the first client of the domain)')
    .option('--amount <DECIMAL>', 'amount of each instruction', '10.00')
    .option('--currency <CODE>', 'EUR or GBP', 'EUR')
    .option('--timeout <SECONDS>', 'give up when the payment is not final after this long', '60')
    .option('--public-url <URL>', 'origin of the bank links stored on the payment [env PAYRAIL_PUBLIC_URL]')
    .action(async (name: string, options: { client?: string; amount: string; currency: string; timeout: string; publicUrl?: string }, cmd: Command) => {
      if (!Object.hasOwn(SCENARIOS, name)) throw new UsageError(`unknown scenario "${name}"; one of ${Object.keys(SCENARIOS).join(', ')}`);
      const timeoutSeconds = Number(options.timeout);
      if (!/^\d{1,4}$/.test(options.timeout) || timeoutSeconds < 1) throw new UsageError('--timeout must be a whole number of seconds');
      const json = Boolean(cmd.opts().json);
      const result = await withStore(cmd, async (store, config) => {
        const domainId = await domainIdOf(cmd, store);
        const principal = await triggerPrincipal(store.db, systemClock, domainId, options.client);
        const env = await cliActionEnvironment(store, config, { publicUrl: options.publicUrl, testStepMs: TRIGGER_STEP_MS });
        return triggerScenario(env, principal, {
          scenario: name,
          amount: options.amount,
          currency: options.currency,
          timeoutMs: timeoutSeconds * 1000,
          onChange: (p) => {
            if (!json) process.stderr.write(`payment ${p.id}: ${p.state}${p.action ? ` (${p.action})` : ''}\n`);
          },
        });
      });
      printData(cmd, result, (r) => `payment ${r.id} ${r.state}${r.error_code ? ` (${r.error_code})` : ''}: ${r.states.join(' → ')}`);
    });
  trigger.addHelpText(
    'after',
    `\nScenarios:\n${Object.entries(SCENARIOS)
      .map(([k, s]) => `  ${k.padEnd(20)} ${s.description}`)
      .join('\n')}\n`,
  );
  examples(trigger, 'payrail trigger done', 'payrail trigger rejected --json', 'payrail trigger partial --amount 25.50 --client a82969b57c565772e96b3735');
}
