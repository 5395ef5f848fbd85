/** docs/banks.md shows the UK Open Banking tables exactly as the code has them. */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DOC_END, DOC_START, obieDocTables } from '../../src/connectors/obie/doc-tables.ts';

const DOC = new URL('../../../../docs/banks.md', import.meta.url);

it('docs/banks.md carries the UK status, error, frequency and profile tables generated from the code', () => {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(DOC_START);
  const end = text.indexOf(DOC_END);
  expect(start, 'the generated block is missing from docs/banks.md').toBeGreaterThan(-1);
  const current = text.slice(start, end + DOC_END.length);
  const expected = obieDocTables();
  if (current !== expected && process.env.UPDATE_DOCS === '1') writeFileSync(DOC, text.replace(current, expected));
  else expect(current).toBe(expected);
  for (const code of ['AcceptedSettlementCompleted', 'ACSC', 'INCO', 'U008', 'UK.OBIE.Resource.ConsentMismatch', 'IntrvlMnthDay:01:<day>', 'api_version'])
    expect(current).toContain(code);
});
