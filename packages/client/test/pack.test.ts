/**
 * The SDK as a merchant installs it: `npm pack`, the tarball installed into a new empty folder outside
 * the monorepo, then one script that `import`s it and one that `require`s it, each creating a payment
 * against a real `payrail serve`; TypeScript resolves its types from both module systems.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentBody, startServer, type RunningServer } from './server.ts';

const PACKAGE_DIR = new URL('..', import.meta.url).pathname;
const TSC = new URL('../../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
const NPM_CLI = process.env.npm_execpath;

/** The Node.js running the tests (24), and the system's own when it is another version (Node 20 on CI). */
const NODES = [process.execPath, '/usr/bin/node'].filter((bin, i) => i === 0 || (existsSync(bin) && nodeVersion(bin) !== process.version));

function nodeVersion(bin: string): string {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
}

let project = '';
let server: RunningServer;

function npm(args: string[], cwd: string): string {
  // Through the npm that runs the tests when there is one, else the npm on PATH.
  return NPM_CLI?.endsWith('.js')
    ? execFileSync(process.execPath, [NPM_CLI, ...args], { cwd, encoding: 'utf8' })
    : execFileSync('npm', args, { cwd, encoding: 'utf8' });
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'payrail-sdk-consumer-'));
  const packed = mkdtempSync(join(tmpdir(), 'payrail-sdk-pack-'));
  npm(['pack', '--pack-destination', packed, '--silent'], PACKAGE_DIR);
  const tarball = join(packed, readdirSync(packed).find((f) => f.endsWith('.tgz'))!);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0', private: true }));
  npm(['install', tarball, '--no-audit', '--no-fund', '--silent'], project);
  rmSync(packed, { recursive: true, force: true });
  server = await startServer();
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

const script = (load: string) => `${load}
const payrail = new PayrailClient({ baseUrl: process.env.BASE, clientId: process.env.CLIENT_ID, clientSecret: process.env.CLIENT_SECRET });
payrail.createPayment(${JSON.stringify(paymentBody)}).then((p) => {
  console.log(JSON.stringify({ id: p.id, state: p.state, error: typeof PayrailError }));
}, (e) => { console.error(e); process.exit(1); });
`;

describe('the packed SDK in an empty project', () => {
  it.each([
    ['esm.mjs', "import { PayrailClient, PayrailError } from '@payrail/client';"],
    ['cjs.cjs', "const { PayrailClient, PayrailError } = require('@payrail/client');"],
  ])('%s creates a payment against payrail serve', (file, load) => {
    writeFileSync(join(project, file), script(load));
    const ids = new Set<number>();
    for (const node of NODES) {
      const run = spawnSync(node, [file], {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, BASE: server.base, CLIENT_ID: server.clientId, CLIENT_SECRET: server.clientSecret },
        timeout: 30_000,
      });
      expect(run.status, `${nodeVersion(node)}: ${run.stderr}`).toBe(0);
      const created = JSON.parse(run.stdout);
      expect(created).toEqual({ id: expect.any(Number), state: 'created', error: 'function' });
      ids.add(created.id);
    }
    expect(ids.size).toBe(NODES.length);
  });

  it('has types for import and for require', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['typed.mts', 'typed.cts'],
      }),
    );
    const body =
      "const client = new PayrailClient({ baseUrl: 'http://127.0.0.1:3000', clientId: 'a', clientSecret: 'b' });\nconst state: Promise<string> = client.getPayment(1).then((p) => p.state);\n// @ts-expect-error: createPayment needs a body\nclient.createPayment();\nexport { state };\n";
    writeFileSync(join(project, 'typed.mts'), `import { PayrailClient } from '@payrail/client';\n${body}`);
    writeFileSync(
      join(project, 'typed.cts'),
      `import PayrailSdk = require('@payrail/client');\nconst { PayrailClient } = PayrailSdk;\n${body.replace('export { state };', 'export = state;')}`,
    );
    const check = spawnSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});
