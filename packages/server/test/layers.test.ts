/**
 * The import layers (docs/architecture-layers.md) are checked by `npm run lint` with
 * dependency-cruiser and the root .dependency-cruiser.cjs. These tests run that same check: on the
 * server's sources (clean), and on a small tree that breaks a layer and closes a circle (refused).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

function depcruise(cwd: string) {
  const run = spawnSync(process.execPath, [BIN, 'packages/server/src', '--config', CONFIG, '--output-type', 'err'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('import layers', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'payrail-layers-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function tree(files: Record<string, string>) {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    }
  }

  it("the server's sources follow the layers and have no import circle", () => {
    const { status, output } = depcruise(ROOT);
    expect(output).toContain('no dependency violations found');
    expect(status, output).toBe(0);
  });

  it('refuses an import against the layers, a type-only one too, and an import circle', () => {
    tree({
      'packages/server/tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', allowImportingTsExtensions: true, noEmit: true },
        include: ['src'],
      }),
      'packages/server/src/http/handler.ts': 'export const handler = 1;\nexport interface Reply { status: number }\n',
      // domain must import nothing of ours but domain.
      'packages/server/src/domain/rule.ts': "import { handler } from '../http/handler.ts';\nexport const rule = handler;\n",
      // services must not import the HTTP layer, not even a type.
      'packages/server/src/services/typed.ts': "import type { Reply } from '../http/handler.ts';\nexport const typed = (r: Reply) => r.status;\n",
      // A circle inside one layer.
      'packages/server/src/services/a.ts': "import { b } from './b.ts';\nexport const a = () => b();\n",
      'packages/server/src/services/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
      // Allowed: services above store and domain.
      'packages/server/src/store/table.ts': 'export const table = 1;\n',
      'packages/server/src/services/ok.ts': "import { table } from '../store/table.ts';\nexport const ok = table;\n",
    });
    const { status, output } = depcruise(scratch);
    expect(status, output).not.toBe(0);
    expect(output).toMatch(/domain-imports-only-domain: packages\/server\/src\/domain\/rule\.ts → packages\/server\/src\/http\/handler\.ts/);
    expect(output).toMatch(/services-below-jobs-and-http: packages\/server\/src\/services\/typed\.ts → packages\/server\/src\/http\/handler\.ts/);
    expect(output).toMatch(/no-circular: packages\/server\/src\/services\/a\.ts/);
    expect(output).not.toContain('services/ok.ts');
    // The circle is reported once: two layer violations and one circle.
    expect(output).toMatch(/x 3 dependency violations/);
  });
});
