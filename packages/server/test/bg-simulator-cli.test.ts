/** `payrail bank simulate` as a user runs it: a real process that prints its URL and stops on a signal. */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bg, decideOnPage, SINGLE, TPP } from './support/bg-requests.ts';
import { BIN, exited, waitFor } from './support/processes.ts';

describe('payrail bank simulate', () => {
  it('prints its base URL, serves the standard until SIGTERM, then exits 0', async () => {
    const proc = spawn(
      process.execPath,
      [BIN, 'bank', 'simulate', '--standard', 'berlin-group', '--port', '0', '--host', '127.0.0.1', '--settle-seconds', '0.2'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const url = await waitFor(
        'the simulator to listen',
        () => {
          if (proc.exitCode !== null) throw new Error(output);
          return /^Berlin Group simulator listening on (http:\/\/127\.0\.0\.1:\d+) \(base URL for payrail bank add: \1\)$/m.exec(output)?.[1];
        },
        30_000,
      );
      const created = await bg(url, 'POST', '/v1/payments/sepa-credit-transfers', { body: SINGLE });
      expect(created.status).toBe(201);
      expect((await decideOnPage(created.json._links.scaRedirect.href, 'approve')).location).toBe(TPP.ok);
      const settled = await waitFor(
        'settlement',
        async () => {
          const status = (await bg(url, 'GET', created.json._links.status.href)).json.transactionStatus;
          return status === 'ACSC' ? status : undefined;
        },
        10_000,
      );
      expect(settled).toBe('ACSC');
      expect(output).toContain(`payer chose approve`);
    } finally {
      proc.kill('SIGTERM');
      await exited(proc);
    }
    expect(proc.exitCode).toBe(0);
  });

  it('fails with exit code 1 on a busy port and 2 on a wrong option', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = spawnSync(process.execPath, [BIN, 'bank', 'simulate', '--standard', 'berlin-group', '--port', String(port)], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('already in use');
    } finally {
      busy.close();
    }
    const wrong = spawnSync(process.execPath, [BIN, 'bank', 'simulate', '--standard', 'no-such-standard'], { encoding: 'utf8', timeout: 30_000 });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('berlin-group');
  });

  it('HTTPS with client certificates: all three files or none; tls_client_auth and --mtls-api need it', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [BIN, 'bank', 'simulate', '--standard', 'berlin-group', '--port', '0', ...args], { encoding: 'utf8', timeout: 30_000 });
    const cases: [string[], string][] = [
      [['--oauth-client-id', 'tpp', '--oauth-client-auth', 'tls_client_auth'], 'tls_client_auth needs HTTPS: give --tls-cert, --tls-key and --tls-client-ca'],
      [['--tls-cert', 'server.pem'], 'HTTPS needs all of --tls-cert, --tls-key and --tls-client-ca'],
      [['--mtls-api'], '--mtls-api needs --tls-cert, --tls-key and --tls-client-ca'],
    ];
    for (const [args, message] of cases) {
      const result = run(args);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });
});
