// Start-up: `payrail serve` runs from a bundle of its code and dependencies (a few files built by
// esbuild in dist/serve/), not from the ~1,000 modules it would otherwise load one by one. Node's
// module loader (resolve, read, link each module) was most of the start-up CPU: with the bundle, cold
// start takes about a third less time and the idle server about 10 MB less memory (docs/performance.md,
// change 19).
//
// The bundle is never stale: dist/serve/manifest.json lists every file that went into it (TypeScript
// sources and node_modules files) with its size and modification time, and the server uses the bundle
// only when all of them still match; otherwise it builds a new one first (about 1 s), `npm install`
// builds one ahead (the root package's `prepare`), and if it cannot be built (esbuild missing, a
// read-only folder) the server runs from the sources as before, saying why on stderr.
// PAYRAIL_BUNDLE=off always runs from the sources.
//
// Plain JavaScript, loaded by bin/payrail.js before any TypeScript; esbuild only when building.
//
//   node bin/bundle.js      builds the bundle if it is missing or stale, and prints where it is

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('..', import.meta.url));

/** What `payrail serve` runs: src/cli/serve-main.ts and everything it imports, statically or lazily. */
export const SERVE_BUNDLE = { entry: join(SERVER, 'src/cli/serve-main.ts'), outDir: join(SERVER, 'dist/serve') };

/** Builds kept besides the current one, so that a server still running an older one can load its lazy chunks. */
const KEEP = 3;

function fingerprint(path) {
  const stat = statSync(path);
  return `${stat.size}:${stat.mtimeMs}`;
}

function readManifest(outDir) {
  try {
    return JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** The entry file of the bundle in `outDir` when it is there and every input is unchanged since it was built; null otherwise. */
export function freshBundle({ outDir }) {
  const manifest = readManifest(outDir);
  if (!manifest || typeof manifest.id !== 'string' || typeof manifest.inputs !== 'object') return null;
  try {
    for (const [path, print] of Object.entries(manifest.inputs)) if (fingerprint(resolve(outDir, path)) !== print) return null;
  } catch {
    return null; // an input was removed
  }
  const file = join(outDir, manifest.id, String(manifest.main));
  return existsSync(file) ? file : null;
}

/**
 * Bundles `entry` into `outDir`/<id>/ (id: a hash of the inputs' fingerprints), records it in
 * `outDir`/manifest.json, and returns its entry file. Safe when several processes build at once: each
 * builds in a folder of its own and renames it into place; the manifest is replaced atomically.
 * Returns null if an input changed while it was being built (that build is not recorded).
 */
export async function buildBundle({ entry, outDir }) {
  const esbuild = await import('esbuild');
  const { createHash, randomBytes } = await import('node:crypto'); // not loaded by a start that finds its bundle fresh
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const tmp = join(outDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      outdir: tmp,
      absWorkingDir: SERVER,
      bundle: true,
      splitting: true, // what the server imports lazily (pg, jose, undici, …) stays in chunks loaded on first use
      format: 'esm',
      platform: 'node',
      target: 'node24',
      // pg is loaded only for a PostgreSQL store, from node_modules (its optional native binding stays optional).
      external: ['pg', 'pg-native'],
      plugins: [lazyPackagesOutside],
      // The dependencies written in CommonJS require Node's built-in modules.
      banner: { js: "import { createRequire as __payrailCreateRequire } from 'node:module'; const require = __payrailCreateRequire(import.meta.url);" },
      // Not keepNames: it costs about 6 MB and 10% of start-up. esbuild renames a top-level function or
      // class only when two modules declare the same name; test/bundle.test.ts checks that none of
      // Payrail's own classes is renamed (their names appear in logs).
      sourcemap: 'linked', // stack traces in the sources with NODE_OPTIONS=--enable-source-maps
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = {};
    // The bundle also depends on how it is built: this file (esbuild's options) and esbuild's version.
    const builtBy = [fileURLToPath(import.meta.url), createRequire(import.meta.url).resolve('esbuild/package.json')];
    for (const path of [...builtBy, ...Object.keys(result.metafile.inputs).map((input) => resolve(SERVER, input))]) {
      const mtime = statSync(path).mtimeMs;
      // Edited while being bundled (esbuild may have read it before): no manifest, so the next start builds again.
      // A time later than now is a skewed clock, not an edit.
      // (`started` is in whole milliseconds: a file written just before may have a time up to 1 ms later.)
      if (mtime >= started + 1 && mtime <= Date.now() + 5) return null;
      inputs[relative(outDir, path)] = fingerprint(path);
    }
    const id = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
    const main = `${basename(entry, extname(entry))}.js`;
    try {
      renameSync(tmp, join(outDir, id));
    } catch (error) {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error; // else another process built the same
    }
    const manifestTmp = join(outDir, `.manifest-${process.pid}-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(manifestTmp, `${JSON.stringify({ id, main, builtAt: new Date().toISOString(), esbuild: esbuild.version, inputs }, null, 1)}\n`);
    renameSync(manifestTmp, join(outDir, 'manifest.json'));
    prune(outDir, id);
    return join(outDir, id, main);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A package the code imports lazily (`await import('undici')`) is loaded from node_modules on first
 * use, as without the bundle: it is not needed to start, and esbuild's chunk of a CommonJS package
 * would export only its default (named exports such as undici's Agent would be undefined).
 */
const lazyPackagesOutside = {
  name: 'lazy-packages-outside',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
  },
};

/** Removes all builds but the current one and the KEEP newest others; and temporary folders of builds that died. */
function prune(outDir, current) {
  const entries = readdirSync(outDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() || e.name.startsWith('.manifest-'))
    .map((e) => ({ name: e.name, mtime: statSync(join(outDir, e.name)).mtimeMs }));
  const hour = Date.now() - 3_600_000;
  const builds = entries.filter((e) => !e.name.startsWith('.') && e.name !== current).sort((a, b) => b.mtime - a.mtime);
  const stale = [...builds.slice(KEEP), ...entries.filter((e) => e.name.startsWith('.') && e.mtime < hour)];
  for (const e of stale) rmSync(join(outDir, e.name), { recursive: true, force: true });
}

/**
 * The file `payrail serve` should import: the bundle, built first if it is missing or stale; null to
 * run from the sources (PAYRAIL_BUNDLE=off, or the bundle could not be built: said on stderr).
 */
export async function serveEntry(env, bundle = SERVE_BUNDLE) {
  if (env.PAYRAIL_BUNDLE === 'off') return null;
  const fresh = freshBundle(bundle);
  if (fresh) return fresh;
  try {
    return await buildBundle(bundle);
  } catch (error) {
    process.stderr.write(
      `payrail: running from the sources: could not bundle them (${String(error.message).replace(/\s*\n\s*/g, ' ')}); see docs/operations.md\n`,
    );
    return null;
  }
}

if (import.meta.main) {
  // `npm install` (the root package's prepare): never fails the install, since serve can run from the sources.
  const entry = await serveEntry(process.env);
  process.stdout.write(entry ? `payrail: serve bundle ${relative(process.cwd(), entry)}\n` : 'payrail: no serve bundle; serve runs from the sources\n');
}
