/**
 * The PostgreSQL store: a pool whose every client has an error listener (a connection the server
 * terminates while checked out must fail its query, not crash the process), bounded waits on both
 * sides (a client-side deadline on every statement and on acquiring a connection, the server's
 * statement and idle-in-transaction timeouts), and a LISTEN connection that comes back by itself.
 * Behind a transaction-mode pooler (PgBouncer), statements go unnamed and LISTEN goes straight to
 * the server, or not at all.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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

/** A statement the server did not answer within the client-side deadline; its connection was destroyed. */
export class QueryDeadlineError extends Error {
  /** Node's code for a timed-out socket operation: the request answers 503 (http/errors.ts). */
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms; the connection was closed`);
  }
}

/**
 * `session`: the connection is the server's own (not a pooler's), so session settings may be sent
 * when it opens. A transaction-mode pooler refuses them (PgBouncer: "unsupported startup parameter").
 */
export function postgresClientConfig(url: string, options: StoreOptions, session = true): pg.ClientConfig {
  const statementTimeoutMs = options.statementTimeoutMs ?? DATABASE_DEFAULTS.statementTimeoutMs;
  if (!session && options.pgSchema) throw new Error('a PostgreSQL schema (pgSchema) needs session settings: not behind a transaction-mode pooler');
  return {
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DATABASE_DEFAULTS.connectTimeoutMs,
    ...(session
      ? {
          statement_timeout: statementTimeoutMs,
          idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DATABASE_DEFAULTS.idleInTransactionTimeoutMs,
        }
      : {}),
    keepAlive: true,
    application_name: options.pgSchema ? `payrail:${options.pgSchema}` : 'payrail',
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
  };
}

export async function openPostgres(url: string, options: StoreOptions): Promise<Store> {
  const pooled = options.pooler === 'transaction';
  const config = postgresClientConfig(url, options, !pooled);
  const report = (error: Error) => options.onConnectionError?.(error);
  const queryTimeoutMs = options.queryTimeoutMs ?? DATABASE_DEFAULTS.queryTimeoutMs;
  // Migrations may take up to the statement timeout (the server's bound), and a little more to hear it.
  const unhurriedMs = (options.statementTimeoutMs ?? DATABASE_DEFAULTS.statementTimeoutMs) + 5_000;
  const deadlines = new AsyncLocalStorage<number>();
  const deadline = () => deadlines.getStore() ?? queryTimeoutMs;
  // connectionTimeoutMillis also bounds the wait for a free connection when the pool is full.
  const pool = new pg.Pool({ ...config, max: options.poolSize ?? DATABASE_DEFAULTS.poolSize });
  // Idle clients: the pool's own listener removes them; this one keeps the process alive.
  pool.on('error', report);
  // Checked-out clients have no pool listener: without this one, a terminated connection is an
  // unhandled 'error' event. The query in progress fails, and the pool drops the client on release.
  pool.on('connect', (client) => {
    client.on('error', report);
    boundQueries(client, deadline, !pooled);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Precompiled queries outside a transaction go to the pool directly, without Kysely's executor.
  setDirectRunner(db, (sql, parameters) =>
    pool.query(sql, parameters as unknown[]).then(({ command, rowCount, rows }) => ({
      rows: rows ?? [],
      numAffectedRows: command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE' ? BigInt(rowCount ?? 0) : undefined,
    })),
  );
  // LISTEN needs a session: straight to the server (a given URL, or the database URL unless pooled).
  const listenUrl = options.listenUrl ?? (pooled ? null : url);
  const listenConfig = listenUrl ? { ...postgresClientConfig(listenUrl, options), query_timeout: queryTimeoutMs } : null;
  return {
    db,
    dialect: 'postgres',
    location: redactUrl(url),
    close: () => db.destroy(),
    ...(listenConfig ? { listen: (channel: string, onNotify: () => void) => listen(listenConfig, channel, onNotify, report) } : {}),
    unhurried: (work) => deadlines.run(unhurriedMs, work),
  };
}

/**
 * Every statement on a pool client gets a client-side deadline: a server that stops answering (frozen,
 * partitioned away) enforces no statement_timeout. Past it, the connection's socket is destroyed: the
 * statement (and any queued behind it) fails with QueryDeadlineError, a transaction in progress is
 * rolled back by the server when it sees the connection gone (never committed later by a late
 * answer), and the pool drops the client on release instead of lending it again.
 *
 * `named`: a precompiled query (store/precompiled.ts) is sent as a named prepared statement:
 * PostgreSQL parses and plans it once per connection, and later calls send only its values (the bare
 * pg baseline does the same). A statement whose result shape changed under it (a newer process added a
 * column: "cached plan must not change result type", 0A000) fails once, and pg prepares it again on the
 * next call (test/store-direct.test.ts). Behind a transaction-mode pooler every statement is unnamed:
 * the next transaction may run on another server connection, where the name was never prepared.
 */
function boundQueries(client: pg.PoolClient, deadline: () => number, named: boolean): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const destroy = (ms: number) =>
    (client as unknown as { connection: { stream: { destroy(error: Error): void } } }).connection.stream.destroy(new QueryDeadlineError(ms));
  (client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    // A submittable (a cursor) keeps its own pace: only plain statements are bounded.
    if (typeof text !== 'string' && (text === null || typeof text !== 'object' || typeof (text as { submit?: unknown }).submit === 'function')) {
      return query(text, values, callback);
    }
    const name = named && typeof text === 'string' && Array.isArray(values) ? preparedName(text) : undefined;
    const ms = deadline();
    const timer = setTimeout(() => destroy(ms), ms);
    const done = () => clearTimeout(timer);
    if (typeof values === 'function' || typeof callback === 'function') {
      const cb = (typeof values === 'function' ? values : callback) as (error: Error | null, result?: unknown) => void;
      const bounded = (error: Error | null, result?: unknown) => {
        done();
        cb(error, result);
      };
      if (typeof values === 'function') return query(text, bounded);
      return name === undefined ? query(text, values, bounded) : query({ name, text, values }, bounded);
    }
    const result = (name === undefined ? query(text, values) : query({ name, text, values })) as Promise<unknown>;
    result.then(done, done);
    return result;
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
