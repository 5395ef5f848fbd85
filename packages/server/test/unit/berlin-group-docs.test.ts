/** docs/banks.md shows the Berlin Group tables exactly as the code has them. */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { berlinGroupDocTables, DOC_END, DOC_START } from '../../src/connectors/berlin-group/doc-tables.ts';

const DOC = new URL('../../../../docs/banks.md', import.meta.url);

it('docs/banks.md carries the status, error, frequency and profile tables generated from the code', () => {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(DOC_START);
  const end = text.indexOf(DOC_END);
  expect(start, 'the generated block is missing from docs/banks.md').toBeGreaterThan(-1);
  const current = text.slice(start, end + DOC_END.length);
  const expected = berlinGroupDocTables();
  if (current !== expected && process.env.UPDATE_DOCS === '1') writeFileSync(DOC, text.replace(current, expected));
  else expect(current).toBe(expected);
  for (const code of ['RCVD', 'ACSC', 'RJCT', 'PART', 'FORMAT_ERROR', 'FUNDS_NOT_AVAILABLE', 'insufficientFunds', 'EveryTwoWeeks'])
    expect(current).toContain(code);
});
