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
