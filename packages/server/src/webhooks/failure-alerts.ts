/**
 * Failure alerts (docs/reference/powens-pay-api.md §9.3): when deliveries to an endpoint keep failing, the domain's
 * `biapi.manager.email` gets an e-mail, at most once per `webhooks.alerts_frequency` days per
 * endpoint. Every alert is written to `webhook_alerts`: `sent`, `failed` (the SMTP server refused
 * it), or `recorded` when no SMTP server is configured.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import type { Database } from '../store/schema.ts';
import { cachedConfig } from '../services/config.ts';

/** A delivery alerts after this many failed attempts in a row (about 35 s of retries), not at the first hiccup. */
export const ALERT_AFTER_ATTEMPTS = 3;
const SMTP_TIMEOUT_MS = 10_000;
const DAY_MS = 24 * 3600 * 1000;

export interface AlertEnvironment {
  db: Kysely<Database>;
  clock: Clock;
  smtpUrl?: string | null;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

export interface FailingEndpoint {
  domainId: number;
  endpointId: number;
  url: string;
  attempts: number;
  error: string;
}

/** Sends (or records) an alert about this endpoint unless one went out less than alerts_frequency ago. */
export async function alertFailingEndpoint(env: AlertEnvironment, failing: FailingEndpoint): Promise<'sent' | 'recorded' | 'failed' | null> {
  const config = await cachedConfig(env.db, failing.domainId);
  const recipient = config['biapi.manager.email'];
  if (!recipient) return null;
  const now = env.clock.now();
  const since = now - Math.round(Number(config['webhooks.alerts_frequency']) * DAY_MS);
  const recent = await env.db
    .selectFrom('webhook_alerts')
    .select('id')
    .where('endpoint_id', '=', failing.endpointId)
    .where('created_at', '>', since)
    .executeTakeFirst();
  if (recent) return null;
  let status: 'sent' | 'recorded' | 'failed' = 'recorded';
  let error: string | null = null;
  if (env.smtpUrl) {
    try {
      await sendAlertMail(env.smtpUrl, recipient, failing);
      status = 'sent';
    } catch (e) {
      status = 'failed';
      error = ((e as Error).message ?? 'smtp error').slice(0, 200);
      env.log?.('warn', 'webhook alert e-mail failed', { endpoint: failing.endpointId, error });
    }
  }
  await env.db
    .insertInto('webhook_alerts')
    .values({ domain_id: failing.domainId, endpoint_id: failing.endpointId, recipient, status, error, created_at: now })
    .execute();
  return status;
}

async function sendAlertMail(smtpUrl: string, recipient: string, failing: FailingEndpoint): Promise<void> {
  // Loaded on the first alert, not at start-up (docs/performance.md).
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport(smtpUrl, {
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  try {
    const from = new URL(smtpUrl).searchParams.get('from') ?? 'Payrail <payrail@localhost>';
    await transport.sendMail({
      from,
      to: recipient,
      subject: `Payrail: webhook endpoint ${failing.endpointId} is failing`,
      text: [
        `Deliveries to webhook endpoint ${failing.endpointId} (${failing.url}) keep failing.`,
        `Latest: ${failing.attempts} attempts in a row, last error: ${failing.error}.`,
        'Payrail keeps retrying for up to 72 hours; see GET /2.0/webhooks/deliveries?status=pending.',
      ].join('\n'),
    });
  } finally {
    transport.close();
  }
}
