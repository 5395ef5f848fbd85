/**
 * Every error answers with the Powens error body (../errors.ts): thrown errors, and unknown routes —
 * 405 with `Allow` for a known path with another method, 404 otherwise. The routes are recorded as
 * they are registered, with their access rule (tests check that none lacks one).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../../domain/errors.ts';
import { sendError } from '../errors.ts';

export interface RouteInfo {
  method: string;
  url: string;
  pattern: RegExp;
  access: unknown;
}

export interface ErrorOptions {
  /** Filled with every route registered after this plugin. */
  routes: RouteInfo[];
}

function errors(app: FastifyInstance, options: ErrorOptions, done: (error?: Error) => void) {
  const { routes } = options;
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  // 405 for a known path with another method, 404 otherwise.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}/?$`);
    for (const method of methods) routes.push({ method, url: route.url, pattern, access: route.config?.access });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length) {
      reply.header('allow', allowed.join(', '));
      return sendError(request, reply, new ApiError('methodNotAllowed', `${request.method} is not allowed here; allowed: ${allowed.join(', ')}`));
    }
    return sendError(request, reply, new ApiError('notFound', `no endpoint ${request.method} ${path}`));
  });
  done();
}

export default fp(errors, { name: 'payrail-errors', fastify: '5.x' });
