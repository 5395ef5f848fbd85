/**
 * What a store is: its dialect, the Store handle, its options and default bounds. db.ts opens one
 * (and re-exports these); postgres.ts and migrations.ts import them from here, not from db.ts,
 * which imports them.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** A human description of where the data lives, without credentials. */
  location: string;
  close(): Promise<void>;
  /**
   * PostgreSQL only: calls `onNotify` for each NOTIFY on `channel`, on a dedicated connection that
   * reconnects after a failure. Returns the function that stops listening.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /**
   * PostgreSQL only: runs `work` with each statement allowed up to the statement timeout instead of
   * the query timeout (migrations may rewrite a large table).
   */
  unhurried?<T>(work: () => Promise<T>): Promise<T>;
}

export interface StoreOptions {
  dataDir?: string;
  databaseUrl?: string | null;
  /** PostgreSQL schema to use (tests isolate themselves in one). */
  pgSchema?: string;
  /** PostgreSQL: connections kept open at most (DATABASE_DEFAULTS.poolSize). */
  poolSize?: number;
  /** PostgreSQL: how long to wait for a connection (new, or free in the pool). */
  connectTimeoutMs?: number;
  /** PostgreSQL: the server cancels a statement running longer than this. */
  statementTimeoutMs?: number;
  /** PostgreSQL: the server ends a session left idle inside a transaction for longer than this. */
  idleInTransactionTimeoutMs?: number;
  /**
   * PostgreSQL: the client gives up on a statement not answered within this, whatever the server does
   * (a frozen server enforces no statement_timeout); its connection is destroyed, never reused.
   */
  queryTimeoutMs?: number;
  /**
   * PostgreSQL: `transaction` when `databaseUrl` goes through a transaction-mode pooler (PgBouncer):
   * statements are sent unnamed, no session setting is sent at connection, and LISTEN happens only
   * on `listenUrl` (without it, the jobs rely on polling).
   */
  pooler?: 'none' | 'transaction';
  /** PostgreSQL: where the LISTEN connection goes (straight to the server); `databaseUrl` by default, unless behind a pooler. */
  listenUrl?: string | null;
  /** Where to report connection failures (they are survived, not thrown). */
  onConnectionError?: (error: Error) => void;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql (unparseable URL)';
  }
}

/** Default bounds on every database wait (see StoreOptions). */
export const DATABASE_DEFAULTS = {
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  queryTimeoutMs: 5_000,
  poolSize: 10,
};
