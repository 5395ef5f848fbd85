import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, OUTPUT } from '../scripts/generate.ts';

describe('generated types and build', () => {
  it('match the committed OpenAPI document (regenerate with `npm run openapi`)', async () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(await generate());
  });

  it('build to ESM with type declarations and no runtime dependency', async () => {
    const dist = new URL('../dist/', import.meta.url);
    expect(existsSync(new URL('index.d.ts', dist))).toBe(true);
    const sdk = await import(new URL('index.js', dist).href);
    expect(Object.keys(sdk).sort()).toEqual([
      'PayrailClient',
      'PayrailError',
      'PayrailNetworkError',
      'WebhookVerificationError',
      'signWebhookPayload',
      'verifyWebhook',
    ]);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const file of ['index.js', 'client.js', 'errors.js', 'webhooks.js']) {
      const imports = [...readFileSync(new URL(file, dist), 'utf8').matchAll(/from ['"]([^'"]+)['"]/g)].map((m) => m[1]);
      expect(imports.every((i) => i!.startsWith('./') || i!.startsWith('node:'))).toBe(true);
    }
  });
});
