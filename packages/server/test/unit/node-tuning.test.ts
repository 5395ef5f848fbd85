/**
 * The Node.js settings `payrail serve` gives itself (bin/node-tuning.js): which flags and variables it
 * restarts with, which V8 flag it sets once listening, and that what the operator set always wins.
 * test/ops-process.test.ts checks the restart on a real process.
 */
import { describe, expect, it } from 'vitest';

type Env = Record<string, string | undefined>;
const tuning = (await import('../../bin/node-tuning.js' as string)) as {
  restartWith(execArgv: string[], env: Env, canExecve?: boolean): { execArgv: string[]; env: Env } | null;
  flagsAfterStart(execArgv: string[], env: Env): string[];
};

describe('Node.js settings of serve', () => {
  it('restarts with the young generation capped and glibc settings, keeping the given node options', () => {
    const restart = tuning.restartWith(['--cpu-prof'], { PATH: '/bin' })!;
    expect(restart.execArgv).toEqual(['--cpu-prof', '--max-semi-space-size=8']);
    expect(restart.env).toEqual({ PATH: '/bin', PAYRAIL_NODE_TUNING: 'applied', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' });
  });

  it('leaves what the operator set: node options, NODE_OPTIONS (either spelling), MALLOC_* variables', () => {
    expect(tuning.restartWith(['--max-semi-space-size=32'], {})!.execArgv).toEqual(['--max-semi-space-size=32']);
    expect(tuning.restartWith([], { NODE_OPTIONS: '--inspect --max_semi_space_size=16' })!.execArgv).toEqual([]);
    // A flag that only starts like ours is not ours.
    expect(tuning.restartWith(['--max-semi-space-size-x=1'], {})!.execArgv).toContain('--max-semi-space-size=8');
    expect(tuning.restartWith([], { MALLOC_ARENA_MAX: '8', MALLOC_MMAP_THRESHOLD_: '0' })!.env).toMatchObject({
      MALLOC_ARENA_MAX: '8',
      MALLOC_MMAP_THRESHOLD_: '0',
    });
  });

  it('does nothing when turned off, already applied, or without process.execve', () => {
    expect(tuning.restartWith([], { PAYRAIL_NODE_TUNING: 'off' })).toBeNull();
    expect(tuning.restartWith([], { PAYRAIL_NODE_TUNING: 'applied' })).toBeNull();
    expect(tuning.restartWith([], {}, false)).toBeNull();
  });

  it('sets the old generation growing factor after start, only in a restarted server and unless given', () => {
    expect(tuning.flagsAfterStart(['--max-semi-space-size=8'], { PAYRAIL_NODE_TUNING: 'applied' })).toEqual(['--heap-growing-percent=50']);
    expect(tuning.flagsAfterStart([], { PAYRAIL_NODE_TUNING: 'applied', NODE_OPTIONS: '--heap-growing-percent=80' })).toEqual([]);
    expect(tuning.flagsAfterStart([], { PAYRAIL_NODE_TUNING: 'off' })).toEqual([]);
    expect(tuning.flagsAfterStart([], {})).toEqual([]);
  });
});
