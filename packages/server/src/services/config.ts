/** Domain configuration keys (docs/reference/powens-pay-api.md §6.2), string values as Powens takes them. */
import type { Kysely } from 'kysely';
import { invalid } from '../domain/errors.ts';
import type { Database } from '../store/schema.ts';

type Check = (value: string) => string | null; // an error reason, or null

const flag: Check = (v) => (v === '0' || v === '1' ? null : 'must be "0" or "1"');
const positiveNumber: Check = (v) => (/^\d{1,6}(\.\d{1,6})?$/.test(v) && Number(v) > 0 ? null : 'must be a positive number');
// At most 2 decimals (euro cents, as Powens states the cap): more than the currency has is meaningless.
const amountOrEmpty: Check = (v) => {
  if (v === '') return null;
  if (/^\d{1,13}\.\d{3,}$/.test(v)) return 'must have at most 2 decimals';
  return /^\d{1,13}(\.\d{1,2})?$/.test(v) && /[1-9]/.test(v) ? null : 'must be a positive decimal amount, or "" for no limit';
};

// An address a mail server accepts (RFC 5321 length, one @, a dotted domain); "" turns alerts off.
const emailOrEmpty: Check = (v) =>
  v === '' || (v.length <= 254 && /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(v)) ? null : 'must be an e-mail address, or "" for no alerts';

export const CONFIG_KEYS = {
  'payment.manual_expire_time_days': { default: '30', check: positiveNumber, description: 'days before a payment that reached no final state becomes expired' },
  'payment.max_amount': { default: '', check: amountOrEmpty, description: "largest payment total, in the payment's currency; empty: no limit" },
  'payment.auto_confirmation': { default: '1', check: flag, description: '"0": validated payments wait at action confirm for POST {"confirm": …}' },
  'payment.state_updated_webhook.systematic': {
    default: '1',
    check: flag,
    description: '"1": PAYMENT_STATE_UPDATED on every state change; "0": only for background changes',
  },
  'webhooks.compression.enabled': { default: '0', check: flag, description: '"1": gzip webhook bodies (content-encoding: gzip)' },
  'biapi.manager.email': {
    default: '',
    check: emailOrEmpty,
    description: 'address alerted by e-mail when deliveries to a webhook endpoint keep failing; empty: no alerts',
  },
  'webhooks.alerts_frequency': { default: '1', check: positiveNumber, description: 'minimum days between two alerts about one endpoint (e.g. "0.5")' },
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;
export type DomainConfig = Record<ConfigKey, string>;

export async function getConfig(db: Kysely<Database>, domainId: number): Promise<DomainConfig> {
  const rows = await db.selectFrom('domain_config').select(['key', 'value']).where('domain_id', '=', domainId).execute();
  const config = Object.fromEntries(Object.entries(CONFIG_KEYS).map(([key, spec]) => [key, spec.default])) as DomainConfig;
  for (const row of rows) if (Object.hasOwn(CONFIG_KEYS, row.key)) config[row.key as ConfigKey] = row.value;
  return config;
}

/**
 * The configuration as hot paths read it (payment creation, webhook delivery): cached per process for
 * CONFIG_CACHE_MS, cleared at once by setConfig here; a change made by another process applies within that time.
 */
export const CONFIG_CACHE_MS = 2_000;
const configCaches = new WeakMap<object, Map<number, { config: DomainConfig; until: number }>>();

export async function cachedConfig(db: Kysely<Database>, domainId: number): Promise<DomainConfig> {
  let cache = configCaches.get(db);
  if (!cache) {
    cache = new Map();
    configCaches.set(db, cache);
  }
  const hit = cache.get(domainId);
  const now = Date.now();
  if (hit && hit.until > now) return hit.config;
  const config = await getConfig(db, domainId);
  cache.set(domainId, { config, until: now + CONFIG_CACHE_MS });
  return config;
}

/** Sets some keys (all checked before any is written) and returns the whole configuration. */
export async function setConfig(db: Kysely<Database>, domainId: number, values: Record<string, unknown>): Promise<DomainConfig> {
  const entries: [ConfigKey, string][] = [];
  for (const [key, raw] of Object.entries(values)) {
    if (!Object.hasOwn(CONFIG_KEYS, key)) throw invalid(key, `unknown configuration key; known: ${Object.keys(CONFIG_KEYS).join(', ')}`);
    const value = typeof raw === 'number' ? String(raw) : raw;
    if (typeof value !== 'string') throw invalid(key, 'must be a string');
    const reason = CONFIG_KEYS[key as ConfigKey].check(value);
    if (reason) throw invalid(key, reason);
    entries.push([key as ConfigKey, value]);
  }
  await db.transaction().execute(async (trx) => {
    for (const [key, value] of entries) {
      await trx
        .insertInto('domain_config')
        .values({ domain_id: domainId, key, value })
        .onConflict((oc) => oc.columns(['domain_id', 'key']).doUpdateSet({ value }))
        .execute();
    }
  });
  configCaches.get(db)?.delete(domainId);
  return getConfig(db, domainId);
}
