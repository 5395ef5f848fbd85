/**
 * Stoplight Prism as the independent judge of Berlin Group exchanges (docs/reference/berlin-group.md §13):
 * `prism proxy --errors` between a client and a bank validates both directions against the
 * official OpenAPI file; `prism mock` answers with the file's own examples. Prism runs as its own
 * process group on a free loopback port and is stopped by that group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { waitFor } from './processes.ts';

export const BG_SPEC = new URL('../../spec/berlin-group/psd2-api-1.3.12.json', import.meta.url).pathname;
export const STET_SPEC = new URL('../../spec/stet/stet-ais-pis-1.5.0.json', import.meta.url).pathname;
/** The UK Open Banking payment initiation files, by `--api-version` (spec/obie/NOTICE.md). */
export const OBIE_SPECS = {
  '4.0': new URL('../../spec/obie/v4.0.0/payment-initiation-openapi.yaml', import.meta.url).pathname,
  '3.1.11': new URL('../../spec/obie/v3.1.11/payment-initiation-openapi.yaml', import.meta.url).pathname,
} as const;
/**
 * The official Berlin Group file with the Verification of Payee statuses of later NextGenPSD2
 * versions (RCVC, RVCM, RVNC) added to its `transactionStatus` enum, and nothing else changed: the
 * vendored 1.3.12 predates VoP, so Prism would refuse every VoP answer. The payee-name result
 * (`vopResult`) is an extra member the 1.3.12 schemas allow (no `additionalProperties: false`), so
 * Prism checks its presence against nothing. Written once per process to a temporary directory.
 */
let vopSpec: string | null = null;
export function bgSpecWithVop(): string {
  if (vopSpec) return vopSpec;
  const file = JSON.parse(readFileSync(BG_SPEC, 'utf8'));
  const status = file.components.schemas.transactionStatus;
  status.enum = [...status.enum, 'RCVC', 'RVCM', 'RVNC'];
  vopSpec = join(mkdtempSync(join(tmpdir(), 'payrail-bg-vop-spec-')), 'psd2-api-1.3.12-vop.json');
  writeFileSync(vopSpec, JSON.stringify(file));
  return vopSpec;
}

const PRISM_BIN = join(dirname(createRequire(import.meta.url).resolve('@stoplight/prism-cli/package.json')), 'dist/index.js');

/** What Prism writes when an exchange breaks the standard. */
const PROXY_PROBLEM = /Violation|VIOLATIONS|UNPROCESSABLE_ENTITY|NO_PATH_MATCHED|✖/;
/**
 * The mock cannot run with --errors (its own 201 example fails the `Location` format), and it
 * logs that response violation on every initiation: only request problems count there.
 */
const MOCK_PROBLEM = /Violation: request|UNPROCESSABLE_ENTITY|NO_PATH_MATCHED/;

export interface Prism {
  url: string;
  proc: ChildProcess;
  /** Everything Prism printed so far. */
  log(): string;
  /** A position in the log, to look only at what came after it. */
  mark(): number;
  /** Log lines that report a violation (since a mark). */
  problems(since?: number): string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startPrism(args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<Prism> {
  const port = await freePort();
  // Prism 5.16 needs Node >= 24.18: run it on the Node that runs the tests (npm's pinned one).
  const proc = spawn(process.execPath, [PRISM_BIN, ...args, '-h', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
  });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const prism: Prism = {
    url: `http://127.0.0.1:${port}`,
    proc,
    log: () => output,
    mark: () => output.length,
    problems: (since = 0) =>
      output
        .slice(since)
        .split('\n')
        .filter((line) => pattern.test(line)),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      try {
        process.kill(-proc.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor(
      'Prism to listen',
      () => {
        if (proc.exitCode !== null) throw new Error(`prism exited (${proc.exitCode}):\n${output.slice(-2000)}`);
        return output.includes('Prism is listening') ? true : undefined;
      },
      120_000,
    );
  } catch (error) {
    await prism.stop();
    throw error;
  }
  return prism;
}

/**
 * `prism proxy --errors`: a request or an upstream response that breaks the standard is refused
 * and logged. `spec`: the standard's file (Berlin Group's by default, `STET_SPEC`). `env`: more of
 * Prism's environment (e.g. `NODE_EXTRA_CA_CERTS` for an HTTPS upstream with a test CA).
 */
export function startPrismProxy(upstream: string, spec = BG_SPEC, env: Record<string, string> = {}): Promise<Prism> {
  return startPrism(['proxy', spec, upstream, '--errors'], PROXY_PROBLEM, env);
}

/** `prism mock`: the standard's examples as the bank; `dynamic` (`-d`) generates answers from the schemas instead. */
export function startPrismMock(spec = BG_SPEC, options: { dynamic?: boolean } = {}): Promise<Prism> {
  return startPrism(['mock', spec, ...(options.dynamic ? ['-d'] : [])], MOCK_PROBLEM);
}

/**
 * A copy of the Berlin Group file for embedded SCA, written to `dir`, with the one defect that
 * makes every embedded body fail (measured: Prism 5.16 answers 422 "Request body must match exactly
 * one schema in oneOf" to `{"psuData":{"password":"…"}}`): the request body of the four
 * authorisation operations (startPaymentAuthorisation, updatePaymentPsuData and their cancellation
 * twins) is a `oneOf` whose first branch is the empty schema `{}`, which matches every body, so a
 * body that matches its own branch (updatePsuAuthentication, selectPsuAuthenticationMethod,
 * transactionAuthorisation) matches two and is refused; only a body matching none of the typed
 * branches could pass. The copy narrows that branch to what the file's examples call it ("Update
 * PSU identification": the empty body `{}`, i.e. `maxProperties: 0`). The same holds for the
 * answer to `PUT …/authorisations/{id}` (response OK_200_UpdatePsuData): a `oneOf` of five bodies,
 * three of which (updatePsuAuthenticationResponse, selectPsuAuthenticationMethodResponse,
 * scaStatusResponse) require only `scaStatus` and allow any other property, so every answer matches
 * at least three (measured: 500 "Response body must match exactly one schema in oneOf"); the copy
 * makes it an `anyOf`. Every other schema is the file's own, so Prism still checks each embedded
 * body against updatePsuAuthentication & co. and each answer's `scaStatus`, links and challenge.
 */
export function bgEmbeddedSpec(dir: string): string {
  const spec = JSON.parse(readFileSync(BG_SPEC, 'utf8'));
  const operations = [
    ['/v1/{payment-service}/{payment-product}/{paymentId}/authorisations', 'post'],
    ['/v1/{payment-service}/{payment-product}/{paymentId}/authorisations/{authorisationId}', 'put'],
    ['/v1/{payment-service}/{payment-product}/{paymentId}/cancellation-authorisations', 'post'],
    ['/v1/{payment-service}/{payment-product}/{paymentId}/cancellation-authorisations/{authorisationId}', 'put'],
  ] as const;
  for (const [path, method] of operations) {
    const branches = spec.paths[path][method].requestBody.content['application/json'].schema.oneOf as Record<string, unknown>[];
    const empty = branches.findIndex((branch) => Object.keys(branch).length === 0);
    if (empty < 0) throw new Error(`${method} ${path}: the file no longer has the empty oneOf branch`);
    branches[empty] = { type: 'object', maxProperties: 0 };
  }
  const answer = spec.components.responses.OK_200_UpdatePsuData.content['application/json'].schema;
  if (!answer.oneOf) throw new Error('OK_200_UpdatePsuData: the file no longer has the oneOf');
  answer.anyOf = answer.oneOf;
  delete answer.oneOf;
  const file = join(dir, 'psd2-api-1.3.12-embedded.json');
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

/** In front of Prism for a pain.001 bank: where each request went. */
export interface Pain001Front {
  url: string;
  /** Requests sent past Prism (the XML initiations), as `METHOD path`. */
  direct: string[];
  /** Requests Prism judged. */
  judged: string[];
  close(): Promise<void>;
}

/**
 * Prism cannot judge a pain.001 initiation: the 1.3.12 file's request body for `application/xml`
 * is a `oneOf` of four schemas that are all a bare `type: string` (SCT, SCT Inst, TARGET2,
 * cross-border), so every XML body matches all four and Prism refuses it (422 "must match exactly
 * one schema in oneOf"); the periodic multipart body fails the same way on `xml_sct`, and its
 * `json_standingorderType` part reaches the validator as text, not an object. This front sends
 * those initiations (POST to a `pain.001-…` product) straight to the simulator and every other
 * call — status reads as pain.002 or JSON, authorisations, cancellation — through Prism.
 */
export async function startPain001Front(simulatorUrl: string, prismUrl: string): Promise<Pain001Front> {
  const { createServer: createHttpServer } = await import('node:http');
  const direct: string[] = [];
  const judged: string[] = [];
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const xmlInitiation = request.method === 'POST' && /^\/v1\/[^/]+\/pain\.001-[^/]+$/.test(path.split('?')[0]!);
      (xmlInitiation ? direct : judged).push(`${request.method} ${path}`);
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers))
        if (value !== undefined && !['host', 'content-length', 'connection'].includes(name)) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${xmlInitiation ? simulatorUrl : prismUrl}${path}`, { method: request.method, headers, body, redirect: 'manual' })
        .then(async (answer) => {
          const out: Record<string, string> = {};
          answer.headers.forEach((value, name) => {
            if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name)) out[name] = value;
          });
          const bytes = Buffer.from(await answer.arrayBuffer());
          response.writeHead(answer.status, out);
          response.end(bytes);
        })
        .catch(() => {
          response.writeHead(502);
          response.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    direct,
    judged,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
