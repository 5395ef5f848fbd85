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
// Memory: start-up garbage (module loading, schema compilation) would grow V8's young generation to
// 2 × 16 MB, kept for the life of the process. It stays at its initial size until start-up is over
// (`main` returns once a server listens), then may grow again with what the load needs (about 50 MB
// less RSS idle; see docs/performance.md).
const v8 = await import('node:v8');
v8.setFlagsFromString('--semi-space-growth-factor=1');
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), process.env);
v8.setFlagsFromString('--semi-space-growth-factor=2');
if (code >= 0) process.exitCode = code;
