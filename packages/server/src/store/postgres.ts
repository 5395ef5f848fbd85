/**
 * The PostgreSQL store: a pool whose every client has an error listener (a connection the server
 * terminates while checked out must fail its query, not crash the process), bounded waits
 * (connect, statement, idle in transaction), and a LISTEN connection that comes back by itself.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { DATABASE_DEFAULTS, redactUrl, type Store, type StoreOptions } from './contract.ts';
import { preparedName, setDirectRunner } from './precompiled.ts';

// int8 (bigint) columns hold ids, epoch milliseconds and minor units: all within JS's safe integer range.
pg.types.setTypeParser(20, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} is out of the safe integer range`);
  return n;
});

/** How long to wait before reconnecting a lost LISTEN connection, then doubling up to the maximum. */
const RELISTEN_FIRST_MS = 250;
const RELISTEN_MAX_MS = 10_000;

export function postgresClientConfig(url: string, options: StoreOptions): pg.ClientConfig {
  const statementTimeoutMs = options.statementTimeoutMs ?? DATABASE_DEFAULTS.statementTimeoutMs;
  return {
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DATABASE_DEFAULTS.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // A query the server never answers (network partition) still ends: a little after the server-side timeout.
    query_timeout: statementTimeoutMs + 5_000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DATABASE_DEFAULTS.idleInTransactionTimeoutMs,
    keepAlive: true,
    application_name: options.pgSchema ? `payrail:${options.pgSchema}` : 'payrail',
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
  };
}

export async function openPostgres(url: string, options: StoreOptions): Promise<Store> {
  const config = postgresClientConfig(url, options);
  const report = (error: Error) => options.onConnectionError?.(error);
  const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
  // Idle clients: the pool's own listener removes them; this one keeps the process alive.
  pool.on('error', report);
  // Checked-out clients have no pool listener: without this one, a terminated connection is an
  // unhandled 'error' event. The query in progress fails, and the pool drops the client on release.
  pool.on('connect', (client) => {
    client.on('error', report);
    usePreparedStatements(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Precompiled queries outside a transaction go to the pool directly, without Kysely's executor.
  setDirectRunner(db, (sql, parameters) =>
    pool.query(sql, parameters as unknown[]).then(({ command, rowCount, rows }) => ({
      rows: rows ?? [],
      numAffectedRows: command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE' ? BigInt(rowCount ?? 0) : undefined,
    })),
  );
  return {
    db,
    dialect: 'postgres',
    location: redactUrl(url),
    close: () => db.destroy(),
    listen: (channel, onNotify) => listen(config, channel, onNotify, report),
  };
}

/**
 * A precompiled query (store/precompiled.ts) is sent as a named prepared statement: PostgreSQL parses
 * and plans it once per connection, and later calls send only its values (the bare pg baseline does
 * the same). Any other query is sent as before. A statement whose result shape changed under it (a
 * newer process added a column: "cached plan must not change result type", 0A000) fails once, and pg
 * prepares it again on the next call (test/store-direct.test.ts).
 */
function usePreparedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    const name = typeof text === 'string' && Array.isArray(values) ? preparedName(text) : undefined;
    return name === undefined ? query(text, values, callback) : query({ name, text, values }, callback);
  };
}

/**
 * LISTEN on a dedicated connection. After a loss it reconnects with backoff, and calls `onNotify`
 * once the listener is back: a NOTIFY sent while it was away is lost, so the caller looks for work.
 */
async function listen(config: pg.ClientConfig, channel: string, onNotify: () => void, report: (error: Error) => void): Promise<() => Promise<void>> {
  if (!/^[a-z_]+$/.test(channel)) throw new Error('bad channel name');
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let delay = RELISTEN_FIRST_MS;

  const open = async (): Promise<void> => {
    const c = new pg.Client(config);
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (error) report(error);
      c.end().catch(() => {});
      if (client === c) client = null;
      scheduleReconnect();
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    c.on('notification', () => onNotify());
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
    } catch (error) {
      onLost(error as Error);
      throw error;
    }
    if (stopped) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    delay = RELISTEN_FIRST_MS;
  };

  const scheduleReconnect = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = null;
      open().then(onNotify, () => {});
    }, delay);
    delay = Math.min(delay * 2, RELISTEN_MAX_MS);
  };

  // A first failure is reported and retried like any later loss: polling covers the gap.
  await open().catch(() => {});
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
