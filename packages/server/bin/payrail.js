#!/usr/bin/env node
// Plain JavaScript so that an older Node can at least say what is wrong.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `payrail: Node.js 24 or newer is required (this is ${process.version}).\n` +
      'Run it through npm, which uses the Node.js pinned in package.json: `npm start`, or `npx payrail …` after `npm install`.\n',
  );
  process.exit(1);
}
// Start-up: Node keeps the compiled (and type-stripped) modules in its compile cache (in the system's
// temporary folder, or NODE_COMPILE_CACHE), so that a restart neither strips TypeScript again nor
// loads the stripper (about 0.6 s of CPU and 18 MB less; see docs/performance.md).
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// Memory: V8 otherwise grows the young generation to 2 × 16 MB during start-up and keeps it; a
// server's garbage is short-lived and small, so it stays at its initial size (about 50 MB less RSS
// idle, a few more minor collections under load).
(await import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), process.env);
if (code >= 0) process.exitCode = code;
