/**
 * Turns: the work a validation does in this process before its bank call (read, checks, claim, the
 * call's record) and after it (apply the answer), one validation at a time, in the order they
 * asked, each waiting at most `maxWaitMs` for its turn (docs/performance.md, change 29). The work
 * before and the work after have a lane each (`ValidationTurns`): one validation's work before its
 * call may run while another's after its call waits for the database, and the other way round.
 *
 * Why: that work is a few short CPU slices separated by database waits. Left to the event loop,
 * validations that arrive together (a bank answers a burst of them after the same delay, a shop's
 * payers click together) interleave slice by slice, so every one of them finishes with the last:
 * their bank calls leave together, their answers come back together, and the burst never
 * dissolves. Taken in turns, the first leaves after its own work, the second after two, and so on:
 * the calls leave staggered, come back staggered, and the next burst is smaller. With Berlin
 * Group's simulator answering in 50 ms to 16 payers this took Payrail from 0.70–0.75 of a direct
 * client's throughput to 0.81–0.89 (`npm run bench:banks`, both databases, same run).
 *
 * The wait is bounded so that a turn never costs more than `maxWaitMs`: a validation whose database
 * statement is slow (or a turn that was never ended) holds up the next one for that long at most,
 * and under a load the process cannot keep up with, turns only order the work, they never limit
 * it. A waiter whose wait runs out takes the turn itself (the holder's turn ends silently when it is
 * ended), so the order goes on. `maxWaitMs` 0: no turns (every `take` is answered at once).
 *
 * Not a lock: nothing here guards data (claims and version checks do, services/payment-changes.ts);
 * it only orders work. Written here rather than taken from a semaphore library (p-limit,
 * async-sema) because none has a wait that ends by going ahead without the slot.
 */

export interface Turn {
  /** Passes the turn to the next waiter; idempotent, and a no-op once another took it over. */
  end(): void;
}

/** How each turn began, for /metrics: free (nobody held it), handed (after waiting for the one before), expired (went ahead after maxWaitMs). */
export type TurnStart = 'free' | 'handed' | 'expired';

interface Waiter {
  turn: TurnHandle;
  resolve: (turn: Turn) => void;
  timer: ReturnType<typeof setTimeout>;
}

class TurnHandle implements Turn {
  readonly #owner: Turns;
  constructor(owner: Turns) {
    this.#owner = owner;
  }
  end(): void {
    this.#owner.ended(this);
  }
}

/** The turn of an environment without turns (jobs, the CLI): nothing to end. */
export const NO_TURN: Turn = { end: () => undefined };

export interface TurnTimers {
  set(callback: () => void, ms: number): ReturnType<typeof setTimeout>;
  clear(timer: ReturnType<typeof setTimeout>): void;
}

const REAL_TIMERS: TurnTimers = {
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (timer) => clearTimeout(timer),
};

/** A process's turns: one lane for the work before validations' bank calls, one for the work after them, so that neither waits for the other. */
export interface ValidationTurns {
  before: Turns;
  after: Turns;
}

export type TurnPhase = keyof ValidationTurns;

export function validationTurns(maxWaitMs: number, onStart: (phase: TurnPhase, start: TurnStart) => void = () => undefined): ValidationTurns {
  return {
    before: new Turns(maxWaitMs, { onStart: (start) => onStart('before', start) }),
    after: new Turns(maxWaitMs, { onStart: (start) => onStart('after', start) }),
  };
}

export class Turns {
  readonly #maxWaitMs: number;
  readonly #timers: TurnTimers;
  readonly #onStart: (start: TurnStart) => void;
  #holder: TurnHandle | null = null;
  readonly #waiting: Waiter[] = [];

  /** `onStart` hears how each turn began (the /metrics counter); `timers` are real ones but in tests. */
  constructor(maxWaitMs: number, options: { timers?: TurnTimers; onStart?: (start: TurnStart) => void } = {}) {
    if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0) throw new RangeError(`maxWaitMs must be a whole number of ms, got ${maxWaitMs}`);
    this.#maxWaitMs = maxWaitMs;
    this.#timers = options.timers ?? REAL_TIMERS;
    this.#onStart = options.onStart ?? (() => undefined);
  }

  /** Validations waiting for their turn now, and whether one holds it (tests, diagnostics). */
  get state(): { held: boolean; waiting: number } {
    return { held: this.#holder !== null, waiting: this.#waiting.length };
  }

  /** Resolves when it is the caller's turn, or after maxWaitMs at most. */
  take(): Promise<Turn> {
    if (this.#maxWaitMs === 0) return Promise.resolve(NO_TURN);
    const turn = new TurnHandle(this);
    if (this.#holder === null) {
      this.#holder = turn;
      this.#onStart('free');
      return Promise.resolve(turn);
    }
    return new Promise<Turn>((resolve) => {
      const waiter: Waiter = {
        turn,
        resolve,
        timer: this.#timers.set(() => {
          // Waited long enough: take the turn over; the holder's end() will find it gone.
          const at = this.#waiting.indexOf(waiter);
          if (at >= 0) this.#waiting.splice(at, 1);
          this.#holder = turn;
          this.#onStart('expired');
          resolve(turn);
        }, this.#maxWaitMs),
      };
      this.#waiting.push(waiter);
    });
  }

  /** @internal TurnHandle.end(). */
  ended(turn: TurnHandle): void {
    if (this.#holder !== turn) return;
    const next = this.#waiting.shift();
    if (!next) {
      this.#holder = null;
      return;
    }
    this.#timers.clear(next.timer);
    this.#holder = next.turn;
    this.#onStart('handed');
    next.resolve(next.turn);
  }
}
