/** Checking that a TCP port is free before anything else starts, so `serve` fails at once when it is not. */
import { createServer } from 'node:net';

export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
}

/** Resolves when host:port can be bound (and releases it at once); rejects with a clear message otherwise. */
export function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(new PortInUseError(`port ${port} on ${host} is already in use; stop the other process or choose another with --port (PAYRAIL_PORT)`));
      else reject(error);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
