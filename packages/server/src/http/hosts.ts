/**
 * Host allow-list: without a configured public URL, Payrail builds webview, bank and redirect links
 * from the request's Host (or X-Forwarded-Host from a trusted proxy). A forged Host would make those
 * links point elsewhere, so only listed names are served.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.ts';

export const DEFAULT_ALLOWED_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

/** `Example.com:8080` → `example.com`; `[::1]:3000` → `[::1]`. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.split(':')[0] ?? '';
}

export function makeHostCheck(allowed: readonly string[]) {
  const names = new Set(allowed.map((a) => hostName(a)));
  // Callback style and no promise: it runs on every request.
  return function hostCheck(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
    const name = hostName(request.host ?? '');
    if (names.has(name)) {
      done();
      return;
    }
    done(
      new ApiError('invalidValue', `Host "${name.slice(0, 100)}" is not an allowed host: set --public-url, or add it to --allowed-hosts`, {
        field: 'host',
      }),
    );
  };
}
