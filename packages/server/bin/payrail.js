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
// Memory (`serve` only): Node.js settings that can only be given when a process starts; the server
// restarts itself once with them (bin/node-tuning.js, docs/operations.md).
const tuning = process.argv[2] === 'serve' ? await import('./node-tuning.js') : null;
const restart = tuning?.restartWith(process.execArgv, process.env, typeof process.execve === 'function');
if (restart) {
  const { fileURLToPath } = await import('node:url');
  process.execve(process.execPath, [process.execPath, ...restart.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], restart.env);
}
// `serve` on a busy port must fail at once: checked here, before any TypeScript is loaded (on a busy
// machine that alone takes seconds). src/cli/commands/serve.ts checks again with the full validation.
if (process.argv[2] === 'serve') {
  const args = process.argv.slice(3);
  const flag = (name) => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    return i < 0 ? undefined : args[i].includes('=') ? args[i].slice(name.length + 3) : args[i + 1];
  };
  const port = flag('port') ?? (process.env.PAYRAIL_PORT || '3000'); // defaults as in src/config/config.ts
  const host = flag('host') ?? (process.env.PAYRAIL_HOST || '127.0.0.1');
  if (/^\d{1,5}$/.test(port) && Number(port) > 0 && Number(port) < 65536) {
    const { createServer } = await import('node:net');
    const busy = await new Promise((resolve) => {
      const probe = createServer();
      probe.once('error', (error) => resolve(error.code === 'EADDRINUSE'));
      probe.listen({ host, port: Number(port), exclusive: true }, () => probe.close(() => resolve(false)));
    });
    if (busy) {
      process.stderr.write(
        `payrail: cannot listen: port ${port} on ${host} is already in use; stop the other process or choose another with --port (PAYRAIL_PORT)\n`,
      );
      process.exit(1);
    }
  }
}
// Start-up: Node keeps the compiled (and type-stripped) modules in its compile cache (in the system's
// temporary folder, or NODE_COMPILE_CACHE), so that a restart neither strips TypeScript again nor
// loads the stripper (about 0.6 s of CPU and 18 MB less; see docs/performance.md).
const { enableCompileCache } = await import('node:module');
const { pathToFileURL } = await import('node:url');
enableCompileCache?.();
// `serve` loads only its own command, so the rest of the CLI is not read before it listens, and from
// a bundle of it (bin/bundle.js: built when missing or stale; the sources with PAYRAIL_BUNDLE=off).
const entry =
  process.argv[2] === 'serve'
    ? await (await import('./bundle.js')).serveEntry(process.env).then((file) => (file ? pathToFileURL(file).href : '../src/cli/serve-main.ts'))
    : '../src/cli/main.ts';
// Memory: start-up garbage (module loading, schema compilation) would grow V8's young generation to
// 2 × 16 MB, kept for the life of the process. It stays at its initial size until start-up is over
// (`main` returns once a server listens), then may grow again with what the load needs (about 50 MB
// less RSS idle; see docs/performance.md).
const v8 = await import('node:v8');
v8.setFlagsFromString('--semi-space-growth-factor=1');
const { main } = await import(entry);
const code = await main(process.argv.slice(2), process.env);
v8.setFlagsFromString('--semi-space-growth-factor=2');
for (const flag of tuning?.flagsAfterStart(process.execArgv, process.env) ?? []) v8.setFlagsFromString(flag);
if (code >= 0) process.exitCode = code;
