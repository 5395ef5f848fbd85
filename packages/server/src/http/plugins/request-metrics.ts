/** The HTTP request duration histogram (/metrics): one onResponse hook, labelled by the route's pattern, never the raw URL. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { httpRequestDuration } from '../../telemetry/metrics.ts';

function requestMetrics(app: FastifyInstance, _options: unknown, done: (error?: Error) => void) {
  app.addHook('onResponse', (request, reply, next) => {
    // The route's pattern, never the raw URL: label values stay few.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    next();
  });
  done();
}

export default fp(requestMetrics, { name: 'payrail-request-metrics', fastify: '5.x' });
