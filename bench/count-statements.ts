/**
 * Counts the SQL statements a `payrail serve` process sends (bench/bank-boundary.ts, BENCH_COUNT=1):
 * loaded with `node --import`, it wraps `node:sqlite`'s statements and `pg`'s `Client.query` (each
 * a round trip to PostgreSQL), and on SIGUSR2 prints the counts so far, by statement (its first
 * words), as one line `payrail-bench-counts {json}` on stderr. For measuring only: the wrapping
 * costs a little CPU, so CPU figures come from runs without it.
 */
import { createRequire } from 'node:module';
import { DatabaseSync, StatementSync } from 'node:sqlite';

const counts = new Map<string, number>();
function count(sql: string): void {
  const key = sql
    .replace(/\s+/g, ' ')
    .replace(/\$\d+|\?/g, '?')
    .trim()
    .slice(0, 70)
    .toLowerCase();
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

for (const method of ['run', 'get', 'all', 'iterate'] as const) {
  const original = StatementSync.prototype[method] as (...args: unknown[]) => unknown;
  (StatementSync.prototype as any)[method] = function (this: StatementSync, ...args: unknown[]) {
    count(this.sourceSQL);
    return original.apply(this, args);
  };
}
const exec = DatabaseSync.prototype.exec;
DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
  count(sql);
  return exec.call(this, sql);
};

try {
  const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
  const pg = require('pg');
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, config: unknown, ...rest: unknown[]) {
    count(typeof config === 'string' ? config : ((config as { text?: string })?.text ?? '?'));
    return query.call(this, config, ...rest);
  };
} catch {
  // no pg: SQLite only
}

process.on('SIGUSR2', () => {
  process.stderr.write(`payrail-bench-counts ${JSON.stringify(Object.fromEntries(counts))}\n`);
});
