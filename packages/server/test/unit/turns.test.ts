/** services/turns.ts: validations' turns, one at a time in arrival order, each waiting at most maxWaitMs. */
import { describe, expect, it } from 'vitest';
import { type Turn, type TurnStart, Turns, type TurnTimers, validationTurns } from '../../src/services/turns.ts';

/** Timers the test fires by hand: nothing expires unless `fire` says so. */
function manualTimers() {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 1;
  const timers: TurnTimers = {
    set: (callback, ms) => {
      const id = next++;
      pending.set(id, { callback, ms });
      return id as unknown as ReturnType<typeof setTimeout>;
    },
    clear: (timer) => {
      pending.delete(timer as unknown as number);
    },
  };
  return {
    timers,
    pending: () => [...pending.values()].map((t) => t.ms),
    /** Fires the oldest pending timer. */
    fire: () => {
      const [id, timer] = [...pending.entries()][0]!;
      pending.delete(id);
      timer.callback();
    },
  };
}

/** Which of `takes` have resolved so far, by index. */
async function settled(takes: Promise<Turn>[]): Promise<number[]> {
  const done: number[] = [];
  takes.forEach((take, i) => void take.then(() => done.push(i)));
  await new Promise((resolve) => setImmediate(resolve));
  return done.sort((a, b) => a - b);
}

describe('validation turns', () => {
  it('gives the turn to one caller at a time, in the order they asked', async () => {
    const clock = manualTimers();
    const starts: TurnStart[] = [];
    const turns = new Turns(5, { timers: clock.timers, onStart: (s) => starts.push(s) });
    const takes = [turns.take(), turns.take(), turns.take()];
    expect(await settled(takes)).toEqual([0]);
    expect(turns.state).toEqual({ held: true, waiting: 2 });
    expect(clock.pending()).toEqual([5, 5]); // each waiter's longest wait

    (await takes[0]!).end();
    expect(await settled(takes)).toEqual([0, 1]);
    expect(clock.pending()).toEqual([5]); // the second's timer is gone with its wait
    (await takes[1]!).end();
    expect(await settled(takes)).toEqual([0, 1, 2]);
    (await takes[2]!).end();
    expect(turns.state).toEqual({ held: false, waiting: 0 });
    expect(starts).toEqual(['free', 'handed', 'handed']);
    expect(clock.pending()).toEqual([]);
  });

  it('ending a turn twice passes it on once', async () => {
    const clock = manualTimers();
    const turns = new Turns(5, { timers: clock.timers });
    const first = await turns.take();
    const takes = [turns.take(), turns.take()];
    first.end();
    first.end();
    expect(await settled(takes)).toEqual([0]);
    expect(turns.state).toEqual({ held: true, waiting: 1 });
  });

  it('a waiter goes ahead after maxWaitMs and the late holder no longer passes the turn on', async () => {
    const clock = manualTimers();
    const starts: TurnStart[] = [];
    const turns = new Turns(5, { timers: clock.timers, onStart: (s) => starts.push(s) });
    const stuck = await turns.take(); // e.g. a slow statement, or a turn never ended
    const takes = [turns.take(), turns.take()];
    expect(await settled(takes)).toEqual([]);
    clock.fire(); // the second waited maxWaitMs
    expect(await settled(takes)).toEqual([0]);
    expect(turns.state).toEqual({ held: true, waiting: 1 });
    stuck.end(); // too late: the turn is the second's now, the third still waits for it
    expect(await settled(takes)).toEqual([0]);
    (await takes[0]!).end();
    expect(await settled(takes)).toEqual([0, 1]);
    (await takes[1]!).end();
    expect(turns.state).toEqual({ held: false, waiting: 0 });
    expect(starts).toEqual(['free', 'expired', 'handed']);
  });

  it('with maxWaitMs 0 there are no turns: every caller goes at once', async () => {
    const clock = manualTimers();
    const starts: TurnStart[] = [];
    const turns = new Turns(0, { timers: clock.timers, onStart: (s) => starts.push(s) });
    const takes = [turns.take(), turns.take(), turns.take()];
    expect(await settled(takes)).toEqual([0, 1, 2]);
    expect(turns.state).toEqual({ held: false, waiting: 0 });
    expect(clock.pending()).toEqual([]);
    expect(starts).toEqual([]);
  });

  it('waits on real timers at most maxWaitMs', async () => {
    const turns = new Turns(20);
    await turns.take(); // never ended
    const started = performance.now();
    const late = await turns.take();
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(15);
    expect(waited).toBeLessThan(1000);
    late.end();
    expect(turns.state).toEqual({ held: false, waiting: 0 });
  });

  it('the work before bank calls and the work after them have a lane each', async () => {
    const starts: string[] = [];
    const lanes = validationTurns(60_000, (phase, start) => starts.push(`${phase}:${start}`));
    const before = await lanes.before.take();
    const after = await lanes.after.take(); // not held up by the turn before a bank call
    const second = lanes.before.take();
    expect(await settled([second])).toEqual([]);
    after.end();
    expect(await settled([second])).toEqual([]); // the after lane does not pass on the before lane's turn
    before.end();
    (await second).end();
    expect(starts).toEqual(['before:free', 'after:free', 'before:handed']);
    expect([lanes.before.state, lanes.after.state]).toEqual([
      { held: false, waiting: 0 },
      { held: false, waiting: 0 },
    ]);
  });

  it('refuses a wait that is not a whole number of ms', () => {
    expect(() => new Turns(-1)).toThrow(RangeError);
    expect(() => new Turns(1.5)).toThrow(RangeError);
  });
});
