/**
 * @fastify/swagger, with its OpenAPI document builder (and the `yaml` package that builder loads)
 * required on the first `app.swagger()` call instead of at start-up (docs/performance.md). The plugin
 * is @fastify/swagger's own: the same hooks collect the routes, with the same options, and the
 * document is the same (test/openapi.test.ts compares it with docs/openapi.json). Only its
 * `resolveSwaggerFunction` is wrapped, before the plugin's dynamic mode, loaded when the plugin is
 * registered, reads it.
 */
import { createRequire } from 'node:module';

type SwaggerFunction = (options?: unknown) => unknown;
type Resolve = ((opts: unknown, cache: unknown, routes: unknown, ref: unknown) => SwaggerFunction) & { lazy?: true };

const require = createRequire(import.meta.url);
const resolver = require('@fastify/swagger/lib/util/resolve-swagger-function.js') as { resolveSwaggerFunction: Resolve };
const resolveNow = resolver.resolveSwaggerFunction;
if (!resolveNow.lazy) {
  resolver.resolveSwaggerFunction = Object.assign(
    (opts: unknown, cache: unknown, routes: unknown, ref: unknown): SwaggerFunction => {
      let swagger: SwaggerFunction | null = null;
      return (options) => {
        swagger ??= resolveNow(opts, cache, routes, ref);
        return swagger(options);
      };
    },
    { lazy: true as const },
  );
}

const swagger = require('@fastify/swagger') as typeof import('@fastify/swagger').default;
export default swagger;
