/**
 * SIGTERM / SIGINT: stop accepting connections, let in-flight requests and jobs finish, close the
 * store, exit 0. Past the deadline the process exits 1 anyway (what was not committed rolls back,
 * and leased jobs are retaken by another process when their lease ends).
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/db.ts';

export function drainOnSignals(options: {
  app: FastifyInstance | null;
  jobs: { stop(): Promise<void> } | null;
  /** This process's row (services/instances.ts): removed once nothing is in flight, so that it holds no claim. */
  instance?: { stop(): Promise<void> } | null;
  store: Store;
  timeoutMs: number;
  log: (level: 'info' | 'warn', message: string, data?: object) => void;
}) {
  let draining = false;
  const drain = async (signal: string) => {
    if (draining) return;
    draining = true;
    options.log('info', 'draining', { signal, timeout_seconds: options.timeoutMs / 1000 });
    const deadline = setTimeout(() => {
      options.log('warn', 'shutdown deadline passed with work in flight; exiting', { signal });
      process.exit(1);
    }, options.timeoutMs);
    // A keep-alive connection whose request finishes during the drain becomes idle: close those as
    // they appear, or the server would wait for the client to hang up.
    const sweep = setInterval(() => options.app?.server.closeIdleConnections(), 100);
    try {
      await Promise.all([options.app?.close(), options.jobs?.stop()]);
      await options.instance?.stop();
      await options.store.close();
    } catch (error) {
      options.log('warn', 'error while shutting down', { error: (error as Error).message });
    }
    clearInterval(sweep);
    clearTimeout(deadline);
    process.exit(0);
  };
  process.once('SIGINT', () => void drain('SIGINT'));
  process.once('SIGTERM', () => void drain('SIGTERM'));
}
