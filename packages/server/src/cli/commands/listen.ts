/**
 * `payrail listen --forward-to URL`: streams this installation's state changes and forwards each one,
 * signed like a webhook with a secret printed at start, to a local URL (like `stripe listen`).
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { parseHttpUrl } from '../../domain/urls.ts';
import { type FeedEvent, lastEventId, stateChangesAfter } from '../../services/event-feed.ts';
import { signatureDate, webhookSignature } from '../../webhooks/signature.ts';
import { jsonOption } from '../output.ts';
import { examples, UsageError } from '../runtime.ts';
import { domainOption, storeOptions, withStore } from '../store-options.ts';
import { ensureDomain } from '../../services/clients.ts';
import { systemClock } from '../../domain/clock.ts';

const POLL_MS = 200;
const FORWARD_TIMEOUT_MS = 10_000;

interface ListenOptions {
  forwardTo?: string;
  secret?: string;
  domain?: string;
  json?: boolean;
  fromStart?: boolean;
}

export function registerListen(program: Command): void {
  const listen = jsonOption(domainOption(storeOptions(program.command('listen'))))
    .description('stream state changes as they happen and forward each one, signed like a webhook, to a local URL; runs until Ctrl-C')
    .option('--forward-to <URL>', 'POST every event to this URL (without it, events are only printed)')
    .option('--secret <SECRET>', 'sign with this secret instead of a new random one')
    .option('--from-start', 'replay every past state change first')
    .action(async (options: ListenOptions, cmd: Command) => {
      const target = options.forwardTo === undefined ? null : checkTarget(options.forwardTo);
      const secret = options.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
      await withStore(cmd, async (store) => {
        const domainId = options.domain ? await ensureDomain(store.db, options.domain, systemClock.now()) : undefined;
        let cursor = options.fromStart ? 0 : await lastEventId(store.db);
        const stop = stopSignal();
        if (options.json) process.stdout.write(`${JSON.stringify({ listening: true, forward_to: target?.href ?? null, secret })}\n`);
        else
          process.stdout.write(
            `Ready. ${target ? `Forwarding state changes to ${target.href}` : 'Printing state changes'}; Ctrl-C to stop.\nWebhook signing secret: ${secret}\n`,
          );
        while (!stop.stopped) {
          const events = await stateChangesAfter(store.db, cursor, domainId === undefined ? {} : { domainId });
          for (const event of events) {
            const result = target ? await forward(target, secret, event) : null;
            report(event, result, Boolean(options.json));
            cursor = event.id;
          }
          if (events.length === 0) await stop.sleep(POLL_MS);
        }
      });
    });
  examples(
    listen,
    'payrail listen --forward-to http://localhost:8080/webhooks/payrail',
    'payrail listen --forward-to http://127.0.0.1:4242/hook --secret my-dev-secret --json',
  );
}

function checkTarget(value: string): URL {
  try {
    return parseHttpUrl(value, '--forward-to').url;
  } catch {
    throw new UsageError(`--forward-to must be an http(s) URL, got "${value}"`);
  }
}

interface ForwardResult {
  status: number | null;
  duration_ms: number;
  error: string | null;
}

/** One POST, signed as Payrail signs webhooks (BI-Signature over method, path, date and body). */
async function forward(target: URL, secret: string, event: FeedEvent): Promise<ForwardResult> {
  const date = signatureDate(Date.now());
  const started = performance.now();
  try {
    const response = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Payrail-CLI-Listen/1',
        'bi-signature-date': date,
        'bi-signature': webhookSignature(secret, 'POST', target.pathname, date, event.body),
        'payrail-event-id': String(event.id),
      },
      body: event.body,
    });
    await response.body?.cancel();
    return { status: response.status, duration_ms: Math.round(performance.now() - started), error: null };
  } catch (error) {
    return {
      status: null,
      duration_ms: Math.round(performance.now() - started),
      error: (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message,
    };
  }
}

function report(event: FeedEvent, result: ForwardResult | null, json: boolean): void {
  if (json) {
    const line = {
      event_id: event.id,
      payment_id: event.payment_id,
      from_state: event.from_state,
      to_state: event.to_state,
      created_at: event.created_at,
      ...(result ? { forwarded: result } : {}),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const outcome = result ? (result.status !== null ? ` → [${result.status}] ${result.duration_ms} ms` : ` → failed: ${result.error}`) : '';
  process.stdout.write(`${new Date(event.created_at).toISOString()}  payment ${event.payment_id}  ${event.from_state} → ${event.to_state}${outcome}\n`);
}

/** Resolves sleeps early and flags the loop to end on SIGINT or SIGTERM. */
function stopSignal() {
  const state = { stopped: false, wake: () => {} };
  const onSignal = () => {
    state.stopped = true;
    state.wake();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    get stopped() {
      return state.stopped;
    },
    sleep(ms: number) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        state.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
