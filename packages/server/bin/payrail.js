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
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), process.env);
if (code >= 0) process.exitCode = code;
