/** Generates src/openapi.ts from the committed OpenAPI document (test/generated.test.ts checks it is current). */
import { readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';

export const DOCUMENT = new URL('../../../docs/openapi.json', import.meta.url);
export const OUTPUT = new URL('../src/openapi.ts', import.meta.url);

export async function generate(): Promise<string> {
  const ast = await openapiTS(JSON.parse(readFileSync(DOCUMENT, 'utf8')), { alphabetize: true });
  return `// Generated from docs/openapi.json by \`npm run generate -w @payrail/client\`. Do not edit.\n${astToString(ast)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(OUTPUT, await generate());
}
