/**
 * A PgBouncer of the test's own (Debian's `pgbouncer` package) in transaction mode, on a free
 * loopback port in front of a PostgreSQL, with its ini and userlist files in a temp folder; run as
 * user `postgres` when we are root (PgBouncer refuses root) and stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asPostgres, freePort, postgresUid } from './private-postgres.ts';
import { waitFor } from './processes.ts';

const PGBOUNCER = process.env.PAYRAIL_TEST_PGBOUNCER ?? '/usr/sbin/pgbouncer';

export interface PgBouncer {
  port: number;
  /** The same URL with PgBouncer's address instead of the server's. */
  through(url: string): string;
  stop(): Promise<void>;
}

export async function startPgBouncer(serverUrl: string): Promise<PgBouncer> {
  if (!existsSync(PGBOUNCER)) {
    throw new Error(
      `${PGBOUNCER} not found: install Debian's pgbouncer (apt-get install -y pgbouncer; scripts/ensure-pgbouncer.sh) or set PAYRAIL_TEST_PGBOUNCER`,
    );
  }
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const dir = mkdtempSync(join(tmpdir(), 'payrail-pgbouncer-'));
  const port = await freePort();
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" "${decodeURIComponent(server.password)}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      `auth_type = ${server.password ? 'plain' : 'trust'}`,
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 200',
      'default_pool_size = 10',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  const owner = postgresUid();
  if (owner) for (const file of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, file), owner.uid, owner.gid);
  const [command, args] = asPostgres(PGBOUNCER, [join(dir, 'pgbouncer.ini')]);
  let output = '';
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const log = () => `${output}${existsSync(join(dir, 'pgbouncer.log')) ? readFileSync(join(dir, 'pgbouncer.log'), 'utf8') : ''}`;
  let pid = 0;
  try {
    pid = await waitFor(
      'pgbouncer to start',
      () => {
        if (proc.exitCode !== null) throw new Error(`pgbouncer exited: ${log()}`);
        const pidFile = join(dir, 'pgbouncer.pid');
        return existsSync(pidFile) && log().includes('process up') ? Number(readFileSync(pidFile, 'utf8').trim()) || undefined : undefined;
      },
      20_000,
    );
  } catch (error) {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    through(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async stop() {
      try {
        process.kill(pid, 'SIGTERM'); // immediate shutdown
      } catch {
        // already gone
      }
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((resolve) => proc.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
