/**
 * The plumbing every simulated bank's `node:http` server shares: reading a bounded body, parsing
 * JSON leniently (the API decides what a bad body means), and failing the way an injected fault
 * says (kit/simulator/faults.ts): an empty error status, a dropped connection, or no answer at all.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Fault } from './faults.ts';

const MAX_BODY = 1_000_000;

export interface Incoming {
  raw: Buffer;
  tooLarge: boolean;
}

export function readBody(request: IncomingMessage): Promise<Incoming> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    request.on('end', () => resolve({ raw: Buffer.concat(chunks), tooLarge: size > MAX_BODY }));
    request.on('error', reject);
  });
}

/** Starts a simulator's server on `port` (any when absent) and `host` (loopback when absent); resolves to its origin URL. */
export async function listen(server: Server, options: { port?: number; host?: string }, scheme: 'http' | 'https' = 'http'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * What a failing bank does instead of answering: `error` answers the fault's status through
 * `sendStatus` (the standard's headers, no body), `drop` closes the connection, `hang` keeps it
 * open (in `hanging`, destroyed when the simulator closes) until the client gives up.
 */
export function failRequest(request: IncomingMessage, fault: Fault, hanging: Set<Socket>, sendStatus: (status: number) => void): void {
  if (fault.kind === 'error') return void sendStatus(fault.status!);
  if (fault.kind === 'drop') return void request.socket.destroy();
  hanging.add(request.socket);
  request.socket.once('close', () => hanging.delete(request.socket));
}
