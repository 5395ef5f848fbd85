/** docs/banks.md shows the STET tables exactly as the code has them. */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DOC_END, DOC_START, stetDocTables } from '../../src/connectors/stet/doc-tables.ts';

const DOC = new URL('../../../../docs/banks.md', import.meta.url);

it('docs/banks.md carries the STET profile, status, reason, error and frequency tables generated from the code', () => {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(DOC_START);
  const end = text.indexOf(DOC_END);
  expect(start, 'the generated STET block is missing from docs/banks.md').toBeGreaterThan(-1);
  const current = text.slice(start, end + DOC_END.length);
  const expected = stetDocTables();
  if (current !== expected && process.env.UPDATE_DOCS === '1') writeFileSync(DOC, text.replace(current, expected));
  else expect(current).toBe(expected);
  for (const code of ['RCVD', 'ACCO', 'PATC', 'ACSC', 'RJCT', 'AC01', 'NOAS', 'DUPL', 'TECH', 'TOWK', 'key_id_form', 'resource_id_from'])
    expect(current).toContain(code);
});
