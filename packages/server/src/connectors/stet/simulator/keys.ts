/**
 * The TPP keys the STET simulator generates for `payrail bank add`: an RSA signing key and its
 * self-signed certificate (the QSealC of a real TPP), written as PEM files whose absolute paths go
 * into the printed command. Made with the `openssl` command line (a development tool's dependency,
 * not Payrail's): Node has no X.509 writer.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface TppKeys {
  keyPath: string;
  certPath: string;
  key: string;
  cert: string;
}

export function generateTppKeys(dir: string, organisationId: string): TppKeys {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  const keyPath = resolve(abs, 'stet-tpp-qseal.key');
  const certPath = resolve(abs, 'stet-tpp-qseal.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '365',
        '-subj',
        `/CN=Payrail STET simulator TPP/organizationIdentifier=${organisationId}`,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(`the STET simulator needs the openssl command to make its TPP keys: ${(error as Error).message.split('\n')[0]}`);
  }
  return { keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}
