import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, POWENS_ERROR_CODES } from '../../src/domain/errors.ts';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(\w+)` \| (\d{3}) \| (Powens|Payrail) \|/gm)];

  it('documents exactly the codes of the catalogue, with their HTTP statuses', () => {
    const documented = Object.fromEntries(rows.map((m) => [m[1]!, Number(m[2])]));
    const catalogue = Object.fromEntries(Object.entries(ERROR_CATALOGUE).map(([code, entry]) => [code, entry.status]));
    expect(documented).toEqual(catalogue);
  });

  it("marks every code beyond Powens' list as a Payrail addition, and only those", () => {
    const sources = Object.fromEntries(rows.map((m) => [m[1]!, m[3]]));
    const expected = Object.fromEntries(Object.keys(ERROR_CATALOGUE).map((code) => [code, POWENS_ERROR_CODES.includes(code) ? 'Powens' : 'Payrail']));
    expect(sources).toEqual(expected);
  });
});
