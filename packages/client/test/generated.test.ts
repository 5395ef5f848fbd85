import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, OUTPUT } from '../scripts/generate.ts';

describe('generated types and build', () => {
  it('match the committed OpenAPI document (regenerate with `npm run openapi`)', async () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(await generate());
  });

  it('builds to ESM and CommonJS with type declarations and no runtime dependency', async () => {
    const exportsSeen: string[][] = [];
    for (const [flavour, pattern] of [
      ['esm', /from ['"]([^'"]+)['"]/g],
      ['cjs', /require\(['"]([^'"]+)['"]\)/g],
    ] as const) {
      const dist = new URL(`../dist/${flavour}/`, import.meta.url);
      expect(existsSync(new URL('index.d.ts', dist))).toBe(true);
      const sdk = await import(new URL('index.js', dist).href);
      exportsSeen.push(
        Object.keys(flavour === 'cjs' ? sdk.default : sdk)
          .filter((k) => k !== 'default' && k !== '__esModule')
          .sort(),
      );
      for (const file of ['index.js', 'client.js', 'errors.js', 'webhooks.js']) {
        const imports = [...readFileSync(new URL(file, dist), 'utf8').matchAll(pattern)].map((m) => m[1]);
        expect(imports.every((i) => i!.startsWith('./') || i!.startsWith('node:'))).toBe(true);
      }
    }
    const expected = ['PayrailClient', 'PayrailError', 'PayrailNetworkError', 'WebhookVerificationError', 'signWebhookPayload', 'verifyWebhook'];
    expect(exportsSeen).toEqual([expected, expected]);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
  });
});
