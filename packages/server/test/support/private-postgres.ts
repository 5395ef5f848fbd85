/**
 * A private PostgreSQL cluster for tests that must freeze or kill the database: initdb into a temp
 * folder and a postmaster on 127.0.0.1 and a free port, run as user `postgres` when we are root
 * (PostgreSQL refuses to run as root). Never the shared server on 127.0.0.1:5432. Every process is
 * found and stopped by its PID. No fallback: when the cluster cannot start, the start throws.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { waitFor } from './processes.ts';

const BIN_DIR = process.env.PAYRAIL_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** The postmaster's PID. */
  pid: number;
  /** SIGSTOP to the postmaster and every process it started: connections stay open, nothing answers. */
  freeze(): number[];
  /** SIGCONT to what freeze() stopped. */
  thaw(): void;
  /** Fast shutdown by PID, then the folder is removed. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** As user postgres when we are root; as ourselves otherwise. */
export function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/** The uid and gid of user postgres when we are root (to hand it a folder), else null. */
export function postgresUid(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The PIDs whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) in parentheses: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

/** Running (or stopped), not ended: a zombie waiting for its parent counts as ended. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function resume(pid: number | undefined): void {
  if (pid && alive(pid)) process.kill(pid, 'SIGCONT');
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!existsSync(join(BIN_DIR, 'postgres'))) {
    throw new Error(`PostgreSQL server binaries not found in ${BIN_DIR} (apt-get install postgresql, or set PAYRAIL_TEST_PG_BIN)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'payrail-private-pg-'));
  const owner = postgresUid();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const [initCommand, initArgs] = asPostgres(join(BIN_DIR, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  try {
    execFileSync(initCommand, initArgs, { stdio: 'pipe', timeout: 60_000 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${e.stderr?.toString() || e.message}`);
  }
  const port = await freePort();
  const [command, args] = asPostgres(join(BIN_DIR, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
    '-c',
    'max_connections=60',
    '-c',
    'shared_buffers=16MB',
  ]);
  let log = '';
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let pid = 0;
  try {
    pid = await waitFor(
      'the private PostgreSQL to start',
      () => {
        if (proc.exitCode !== null) throw new Error(`the private PostgreSQL exited: ${log}`);
        const pidFile = join(data, 'postmaster.pid');
        return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) || undefined : undefined;
      },
      30_000,
    );
    await waitFor(
      'the private PostgreSQL to accept connections',
      async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.query('select 1');
          return true;
        } catch {
          return undefined;
        } finally {
          await client.end().catch(() => {});
        }
      },
      30_000,
    );
  } catch (error) {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the private PostgreSQL cluster did not start: ${(error as Error).message}\n${log}`);
  }

  let frozen: number[] = [];
  return {
    url,
    port,
    pid,
    freeze() {
      // The postmaster first: it starts no new process once stopped.
      process.kill(pid, 'SIGSTOP');
      frozen = [pid];
      for (const child of childrenOf(pid)) {
        try {
          process.kill(child, 'SIGSTOP');
          frozen.push(child);
        } catch {
          // it ended meanwhile
        }
      }
      return frozen;
    },
    thaw() {
      for (const p of frozen) resume(p);
      frozen = [];
      // runuser stops itself when it sees its child stopped: it must go on too, to reap it later.
      resume(proc.pid);
    },
    async stop() {
      for (const p of frozen) resume(p);
      resume(proc.pid);
      if (alive(pid)) process.kill(pid, 'SIGINT'); // fast shutdown: sessions are ended
      await waitFor('the private PostgreSQL to stop', () => (alive(pid) ? undefined : true), 30_000).catch(() => {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      });
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((resolve) => proc.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
