/**
 * Keeps up to `concurrency` jobs of one kind in flight, at most `perKey` for one key (a webhook
 * endpoint): a slot that frees claims the next job at once, so one slow key never holds the others
 * back. `claim` is asked for at most the free slots, and told which keys are full.
 */
const RETRY_AFTER_ERROR_MS = 1_000;

export interface WorkPoolOptions<T> {
  concurrency: number;
  perKey?: number;
  key?: (item: T) => string | number;
  /** Claims up to `limit` due jobs, none for a key in `fullKeys`, and at most `capacity(key)` for the others. */
  claim: (limit: number, fullKeys: (string | number)[], capacity: (key: string | number) => number) => Promise<T[]>;
  run: (item: T) => Promise<void>;
  onError: (error: Error) => void;
}

export class WorkPool<T> {
  private inFlight = new Set<Promise<void>>();
  private perKey = new Map<string | number, number>();
  private filling: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  private readonly options: WorkPoolOptions<T>;

  constructor(options: WorkPoolOptions<T>) {
    this.options = options;
  }

  get size(): number {
    return this.inFlight.size;
  }

  /** Claims and starts jobs until the slots are full or nothing is due. Safe to call at any time. */
  fill(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.filling) {
      this.again = true;
      return this.filling;
    }
    this.filling = this.fillLoop()
      .catch((error) => {
        this.options.onError(error as Error);
        // The database may be coming back (a lost connection): look again soon rather than at the next poll.
        if (!this.stopped && !this.retry)
          this.retry = setTimeout(() => {
            this.retry = null;
            void this.fill();
          }, RETRY_AFTER_ERROR_MS);
      })
      .finally(() => {
        this.filling = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.fill();
        }
      });
    return this.filling;
  }

  private async fillLoop(): Promise<void> {
    const { concurrency, perKey = Infinity, key } = this.options;
    while (!this.stopped && this.inFlight.size < concurrency) {
      const full = [...this.perKey].filter(([, n]) => n >= perKey).map(([k]) => k);
      const capacity = (k: string | number) => perKey - (this.perKey.get(k) ?? 0);
      const items = await this.options.claim(concurrency - this.inFlight.size, full, capacity);
      if (items.length === 0) return;
      for (const item of items) this.start(item, key?.(item));
    }
  }

  private start(item: T, k: string | number | undefined) {
    if (k !== undefined) this.perKey.set(k, (this.perKey.get(k) ?? 0) + 1);
    const job: Promise<void> = this.options
      .run(item)
      .catch((error) => this.options.onError(error as Error))
      .finally(() => {
        this.inFlight.delete(job);
        if (k !== undefined) {
          const left = (this.perKey.get(k) ?? 1) - 1;
          if (left > 0) this.perKey.set(k, left);
          else this.perKey.delete(k);
        }
        void this.fill();
      });
    this.inFlight.add(job);
  }

  /** Claims nothing more, and waits for the jobs in flight (each has its own deadline). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.filling;
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}
