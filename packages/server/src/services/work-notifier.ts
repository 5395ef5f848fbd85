/**
 * How the services tell the job loops that work is waiting (a webhook to deliver, a payment to
 * sync), so that the loops run now rather than at their next poll. One notifier is made per running
 * server (http/app.ts) and handed to the services and to the job runner that subscribes to it; a
 * test passes its own. Other processes are woken through PostgreSQL's NOTIFY (services write it in
 * the transaction that queues the work); polling stays as the safety net for both.
 */
export interface WorkNotifier {
  /** Work was queued or became due: wake whoever subscribed. Never throws, never waits. */
  workQueued(): void;
  /** The job loop's side: `listener` runs on each workQueued(); returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void;
}

/** A notifier for one process: calls its subscribers synchronously, in the order they subscribed. */
export function createWorkNotifier(): WorkNotifier {
  const listeners = new Set<() => void>();
  return {
    workQueued() {
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      const own = () => listener();
      listeners.add(own);
      return () => void listeners.delete(own);
    },
  };
}
