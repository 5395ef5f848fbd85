/** Time is injected: production uses the system clock; tests and the sandbox use a manual one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  private current: number;
  constructor(start: number | string = Date.UTC(2026, 0, 15, 10, 0, 0)) {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }
  now(): number {
    return this.current;
  }
  set(at: number | string): void {
    this.current = typeof at === 'number' ? at : Date.parse(at);
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A clock that can be moved forward: the sandbox's (`POST /2.0/sandbox/clock`) and the tests'. */
export interface AdjustableClock extends Clock {
  advance(ms: number): void;
}

/**
 * The sandbox clock of `payrail serve --sandbox-clock`: the system time plus an offset that only
 * moves forward, so that a merchant can see a year of a standing order in seconds.
 */
export class SandboxClock implements AdjustableClock {
  private offsetMs = 0;
  private readonly base: Clock;
  constructor(base: Clock = systemClock) {
    this.base = base;
  }
  now(): number {
    return this.base.now() + this.offsetMs;
  }
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('the sandbox clock only moves forward');
    this.offsetMs += ms;
  }
  get offset(): number {
    return this.offsetMs;
  }
}
