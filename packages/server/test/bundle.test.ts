/**
 * `payrail serve` runs from a bundle (bin/bundle.js): built by esbuild, used only while every file
 * that went into it is unchanged, rebuilt otherwise; the sources when it cannot be built or with
 * PAYRAIL_BUNDLE=off. The build logic runs here on a small project of its own (real esbuild, real
 * files); the last tests check what a real `payrail serve` loads.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, waitFor } from './support/processes.ts';

interface Bundle {
  entry: string;
  outDir: string;
}
const { buildBundle, freshBundle, SERVE_BUNDLE, serveEntry } = (await import('../bin/bundle.js' as string)) as {
  buildBundle(bundle: Bundle): Promise<string | null>;
  freshBundle(bundle: Bundle): string | null;
  SERVE_BUNDLE: Bundle;
  serveEntry(env: Record<string, string | undefined>, bundle?: Bundle): Promise<string | null>;
};

const root = mkdtempSync(join(tmpdir(), 'payrail-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let projects = 0;
/** A project of two modules and a lazily imported one; `value()` answers what its modules say. */
function project(): { entry: string; outDir: string; src: string } {
  const src = join(root, `p${projects++}`);
  mkdirSync(src);
  writeFileSync(
    join(src, 'entry.ts'),
    "import { a } from './a.ts';\nexport async function value(): Promise<string> {\n  return a + '-' + (await import('./lazy.ts')).lazy;\n}\n",
  );
  writeFileSync(join(src, 'a.ts'), "export const a: string = 'one';\n");
  writeFileSync(join(src, 'lazy.ts'), "export const lazy: string = 'later';\n");
  return { entry: join(src, 'entry.ts'), outDir: join(src, 'dist'), src };
}
const valueIn = async (file: string): Promise<string> => (await import(pathToFileURL(file).href)).value();
const builds = (outDir: string) => readdirSync(outDir).filter((name) => !name.startsWith('.') && name !== 'manifest.json');

describe('the bundle of a project', () => {
  it('is built when missing, then used as long as its inputs are unchanged', async () => {
    const p = project();
    expect(freshBundle(p)).toBeNull();
    const file = (await buildBundle(p))!;
    expect(file).toMatch(/[/\\][0-9a-f]{16}[/\\]entry\.js$/);
    expect(await valueIn(file)).toBe('one-later');
    expect(freshBundle(p)).toBe(file);
    // A chunk of its own for what is imported lazily.
    expect(readdirSync(join(file, '..')).filter((f) => f.endsWith('.js')).length).toBeGreaterThan(1);
  });

  it('is stale once a source is edited, touched or removed, and the rebuild has the new code', async () => {
    const p = project();
    const first = (await buildBundle(p))!;
    writeFileSync(join(p.src, 'lazy.ts'), "export const lazy: string = 'edited';\n");
    expect(freshBundle(p)).toBeNull();
    const second = (await buildBundle(p))!;
    expect(second).not.toBe(first);
    expect(await valueIn(second)).toBe('one-edited');
    expect(freshBundle(p)).toBe(second);

    // Same size, later modification time: stale as well.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(p.src, 'a.ts'), later, later);
    expect(freshBundle(p)).toBeNull();
    const third = await buildBundle(p);
    expect(freshBundle(p)).toBe(third);

    rmSync(join(p.src, 'a.ts'));
    expect(freshBundle(p)).toBeNull();
    // The older builds are kept (a server still running one may load its lazy chunks).
    expect(existsSync(first)).toBe(true);
  });

  it('keeps only the current build and the three before it', async () => {
    const p = project();
    const files: string[] = [];
    for (const word of ['b', 'c', 'd', 'e', 'f', 'g']) {
      writeFileSync(join(p.src, 'a.ts'), `export const a: string = '${word}';\n`);
      files.push((await buildBundle(p))!);
    }
    expect(builds(p.outDir).sort()).toEqual(
      files
        .slice(-4)
        .map((f) => f.split(/[/\\]/).at(-2))
        .sort(),
    );
    expect(await valueIn(files.at(-1)!)).toBe('g-later');
  });

  it('survives several builds at once (as of processes starting together): one manifest, a build that works', async () => {
    const p = project();
    const files = (await Promise.all([buildBundle(p), buildBundle(p), buildBundle(p)])) as string[];
    expect(new Set(files).size).toBe(1);
    expect(freshBundle(p)).toBe(files[0]);
    expect(readdirSync(p.outDir).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(await valueIn(files[0]!)).toBe('one-later');
  });

  it('is not built from sources that do not compile, and the error says where', async () => {
    const p = project();
    writeFileSync(join(p.src, 'a.ts'), 'export const a: string = ;\n');
    await expect(buildBundle(p)).rejects.toThrow(/a\.ts/);
    expect(freshBundle(p)).toBeNull();
    expect(readdirSync(p.outDir).filter((name) => name !== 'manifest.json')).toEqual([]);
  });

  it('leaves serve on the sources, saying why, when it cannot be built; and is not built with PAYRAIL_BUNDLE=off', async () => {
    const p = project();
    writeFileSync(join(p.src, 'a.ts'), 'export const a: string = ;\n');
    const said: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => said.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      expect(await serveEntry({}, p)).toBeNull();
    } finally {
      process.stderr.write = write;
    }
    expect(said.join('')).toMatch(
      /^payrail: running from the sources: could not bundle them \(Build failed .*a\.ts:1:\d+: ERROR.*\); see docs\/operations\.md\n$/,
    );

    const q = project();
    expect(await serveEntry({ PAYRAIL_BUNDLE: 'off' }, q)).toBeNull();
    expect(existsSync(q.outDir)).toBe(false);
    expect(await serveEntry({}, q)).toBe(freshBundle(q));
  });

  it('leaves a package imported lazily to node_modules, with its named exports (a CommonJS one: undici)', async () => {
    const p = project();
    writeFileSync(
      join(p.src, 'lazy.ts'),
      "const { Agent, request } = await import('undici');\nexport const lazy: string = typeof Agent + ' ' + typeof request;\n",
    );
    const file = (await buildBundle(p))!;
    expect(await valueIn(file)).toBe('one-function function');
    const code = readdirSync(join(file, '..'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(file, '..', f), 'utf8'))
      .join('\n');
    expect(code).toContain('import("undici")');
    expect(code).not.toMatch(/require_undici|node_modules\/undici/);
  });

  it('is not used when its manifest is damaged or its build was removed, and is built again', async () => {
    const p = project();
    const file = (await buildBundle(p))!;
    rmSync(join(file, '..'), { recursive: true });
    expect(freshBundle(p)).toBeNull();
    expect(await serveEntry({}, p)).toBe(file);
    expect(existsSync(file)).toBe(true);
    writeFileSync(join(p.outDir, 'manifest.json'), '{"id": ');
    expect(freshBundle(p)).toBeNull();
  });
});

/** Starts `payrail serve` with a module hook that reports every module it loads; returns them once it listens. */
async function modulesLoadedByServe(env: Record<string, string>): Promise<string[]> {
  const hook = join(root, 'report-modules.mjs');
  writeFileSync(
    hook,
    "import { registerHooks } from 'node:module';\nregisterHooks({ load(url, context, next) { process.stderr.write('loaded ' + url + '\\n'); return next(url, context); } });\n",
  );
  const dataDir = mkdtempSync(join(root, 'data-'));
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, ...env, NODE_OPTIONS: `--import=${pathToFileURL(hook).href}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await waitFor('the server to listen', () => (proc.exitCode !== null ? Promise.reject(new Error(err)) : /listening on/.test(out) || undefined), 30_000);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
  }
  return [...err.matchAll(/^loaded (\S+)$/gm)].map((m) => m[1]!);
}

describe('payrail serve', () => {
  it('runs from the current bundle, not from the TypeScript sources', async () => {
    const entry = (await serveEntry({}))!;
    expect(entry).toBe(freshBundle(SERVE_BUNDLE));
    const loaded = await modulesLoadedByServe({});
    expect(loaded).toContain(pathToFileURL(entry).href);
    expect(loaded.filter((url) => url.endsWith('.ts'))).toEqual([]);
    expect(loaded.filter((url) => url.includes('/node_modules/kysely/') || url.includes('/node_modules/fastify/'))).toEqual([]);
  });

  it('runs from the sources with PAYRAIL_BUNDLE=off', async () => {
    const loaded = await modulesLoadedByServe({ PAYRAIL_BUNDLE: 'off' });
    expect(loaded.some((url) => url.endsWith('/src/cli/serve-main.ts'))).toBe(true);
    expect(loaded.some((url) => url.includes('/dist/serve/'))).toBe(false);
  });

  it("keeps the names of Payrail's own classes (error types in logs, instanceof-free checks)", async () => {
    const entry = (await serveEntry({})) as string;
    const renamed: string[] = [];
    const checked: string[] = [];
    for (const file of readdirSync(join(entry, '..')).filter((f) => f.endsWith('.js'))) {
      let module = '';
      for (const line of readFileSync(join(entry, '..', file), 'utf8').split('\n')) {
        const marker = /^\/\/ (\S+)$/.exec(line);
        if (marker) module = marker[1]!;
        else if (module.startsWith('src/')) {
          const declared = /^(?:var|let|const) ([A-Za-z_$][\w$]*) = class\b|^class ([A-Za-z_$][\w$]*)/.exec(line);
          const name = declared?.[1] ?? declared?.[2];
          if (name) checked.push(name);
          if (name && !readFileSync(join(SERVE_BUNDLE.entry, '../../..', module), 'utf8').includes(`class ${name}`)) renamed.push(`${module}: ${name}`);
        }
      }
    }
    expect(checked).toEqual(expect.arrayContaining(['ApiError', 'GroupCommitDriver', 'AccessLog']));
    expect(renamed).toEqual([]);
  });
});
