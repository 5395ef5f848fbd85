/**
 * Route validators compiled on first use (start-up: docs/performance.md). Fastify compiles every
 * route's body, query, params and headers schema with Ajv when the server gets ready: about 70
 * validators, most of the time between building the app and listening, and the memory of code for
 * routes a given installation may never see. Here Fastify gets, for each schema, a validator that
 * compiles it with the same compiler (@fastify/ajv-compiler, the app's Ajv options, the shared
 * schemas) the first time a request needs it, then calls it as Fastify would have: the same checks,
 * the same errors, only later. Ajv itself is loaded with the first compile.
 *
 * The serializer side is Payrail's own (JSON.stringify, see http/plugins/json-bodies.ts): given here too, so that Fastify
 * does not load fast-json-stringify (and a second Ajv) at construction for nothing.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

interface RouteSchema {
  schema: unknown;
  method?: string;
  url?: string;
  httpPart?: string;
}
type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type Compile = (route: RouteSchema) => Validate;
type BuildValidator = (externalSchemas: unknown, options: unknown) => Compile;

const require = createRequire(import.meta.url);
let ajvCompilerFactory: BuildValidator | null = null;
/**
 * Validators not compiled yet, so that a test can compile them all (and see that they do). Weak: an
 * app that is gone (tests build many) leaves nothing alive here.
 */
const uncompiled = new Set<WeakRef<() => Validate>>();

function checkHeadersSchema(route: RouteSchema): void {
  // Fastify lower-cases a headers schema's property names for its own compiler, not for a custom one:
  // ours must already be lower-case (Node gives header names in lower case).
  const schema = route.schema as { properties?: Record<string, unknown>; required?: unknown };
  const names = [...Object.keys(schema?.properties ?? {}), ...(Array.isArray(schema?.required) ? (schema.required as string[]) : [])];
  const upper = names.find((name) => name !== name.toLowerCase());
  if (upper !== undefined) throw new Error(`${route.method} ${route.url}: header names in a schema must be lower-case (${upper})`);
}

/** Fastify's `schemaController.compilersFactory.buildValidator`: same validators, compiled on first use. */
export function buildLazyValidator(externalSchemas: unknown, options: unknown): Compile {
  let compiler: Compile | null = null;
  return (route) => {
    if (route.httpPart === 'headers') checkHeadersSchema(route);
    let compiled: Validate | null = null;
    const compile = (): Validate => {
      if (!compiled) {
        ajvCompilerFactory ??= (require('@fastify/ajv-compiler') as () => BuildValidator)();
        compiler ??= ajvCompilerFactory(externalSchemas, options);
        compiled = compiler(route);
        uncompiled.delete(ref);
      }
      return compiled;
    };
    const ref = new WeakRef(compile);
    uncompiled.add(ref);
    const validate: Validate = (data, context) => {
      const validator = compiled ?? compile();
      const result = validator(data, context);
      validate.errors = validator.errors;
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return (result as Promise<unknown>).then((value) => {
          validate.errors = validator.errors;
          return value;
        });
      }
      return result;
    };
    // Fastify passes the parent object to Ajv's validators (so that Ajv may replace the root value): ours too.
    validate.schemaEnv = true;
    return validate;
  };
}

/** Compiles every route validator not compiled yet; returns how many (tests: every schema compiles). */
export function compileAllValidators(): number {
  let count = 0;
  for (const ref of [...uncompiled]) {
    const compile = ref.deref();
    uncompiled.delete(ref);
    if (compile) {
      compile();
      count++;
    }
  }
  return count;
}

/** Fastify's `schemaController.compilersFactory.buildSerializer`: JSON.stringify for every response, as http/plugins/json-bodies.ts sets it. */
function buildJsonSerializer(): (route: unknown) => (data: unknown) => string {
  return () => (data) => JSON.stringify(data);
}

/** The `schemaController` option of Fastify(): lazy validators, JSON.stringify serializers. */
export const LAZY_SCHEMA_CONTROLLER = {
  compilersFactory: { buildValidator: buildLazyValidator, buildSerializer: buildJsonSerializer },
} as unknown as FastifyServerOptions['schemaController'];
