/** Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1, client and signing certificates. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  ca: { cert: string; key: string; certPath: string };
  server: { cert: string; key: string };
  client: { cert: string; key: string; certPath: string; keyPath: string };
  /** Signed by another CA: a client certificate the server must refuse. */
  stranger: { cert: string; key: string };
  signing: { cert: string; key: string; certPath: string; keyPath: string };
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, subject: string, caName: string, ext: string): void {
  openssl(dir, ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.crt`,
    '-CAkey',
    `${caName}.key`,
    '-set_serial',
    `0x${Math.floor(Math.random() * 2 ** 40).toString(16)}`,
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  ]);
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'payrail-pki-'));
  for (const ca of ['ca', 'otherca']) {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/C=DE/O=Payrail Test/CN=${ca} Test CA`,
    ]);
  }
  issue(dir, 'server', '/CN=127.0.0.1', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue(dir, 'client', '/C=DE/O=Payrail TPP/CN=tpp.example', 'ca', 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'stranger', '/CN=stranger', 'otherca', 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'signing', '/C=DE/O=Payrail TPP/CN=seal.tpp.example', 'ca', 'keyUsage=digitalSignature,nonRepudiation\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    ca: { cert: read('ca.crt'), key: read('ca.key'), certPath: join(dir, 'ca.crt') },
    server: { cert: read('server.crt'), key: read('server.key') },
    client: { cert: read('client.crt'), key: read('client.key'), certPath: join(dir, 'client.crt'), keyPath: join(dir, 'client.key') },
    stranger: { cert: read('stranger.crt'), key: read('stranger.key') },
    signing: { cert: read('signing.crt'), key: read('signing.key'), certPath: join(dir, 'signing.crt'), keyPath: join(dir, 'signing.key') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
