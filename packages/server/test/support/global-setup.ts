/**
 * Finds the PostgreSQL the suite also runs on: TEST_DATABASE_URL (CI sets it, and then it must
 * work), else a local server on 127.0.0.1:5432 if one answers. Without one, the suite runs on
 * SQLite only and says so.
 */
import { reachablePostgres } from './stores.ts';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

export default async function setup(project: TestProject) {
  // The tests that start `payrail serve` run it from its bundle: built once here if a source changed.
  await ((await import('../../bin/bundle.js' as string)) as { serveEntry(env: object): Promise<string | null> }).serveEntry({});
  const configured = process.env.TEST_DATABASE_URL;
  if (configured) {
    if (!(await reachablePostgres([configured]))) throw new Error(`TEST_DATABASE_URL is set but PostgreSQL does not answer there`);
    project.provide('pgUrl', configured);
    return;
  }
  const local = await reachablePostgres(['postgres://postgres@127.0.0.1:5432/postgres']);
  if (local) {
    project.provide('pgUrl', local);
  } else {
    console.warn('\n[payrail] No PostgreSQL found (set TEST_DATABASE_URL): running the suite on SQLite only.\n');
    project.provide('pgUrl', null);
  }
}
