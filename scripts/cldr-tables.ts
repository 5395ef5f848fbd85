/**
 * Writes packages/server/src/domain/cldr-tables.ts: the currency symbols and names and the region
 * codes Payrail needs, read from Node.js's own ICU (CLDR) data. A running server then never touches
 * ICU's data for them (about 15 MB of resident memory: docs/performance.md). Run it again when
 * Node.js's ICU changes; test/cldr-tables.test.ts fails until then.
 *
 *   node scripts/cldr-tables.ts
 */
import { writeFileSync } from 'node:fs';
import { cldrTablesSource } from '../packages/server/src/domain/cldr-source.ts';

const target = new URL('../packages/server/src/domain/cldr-tables.ts', import.meta.url);
writeFileSync(target, cldrTablesSource());
console.log(`wrote ${target.pathname}`);
