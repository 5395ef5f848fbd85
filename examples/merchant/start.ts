/**
 * Starts the example shop against a local Payrail (`npm start` at the repository root). On the first
 * run it registers the shop with Payrail through the `payrail` CLI (a client whose redirect URI is
 * the shop's /return, and a webhook endpoint) and keeps the credentials in .merchant.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createShop } from './shop.ts';

const port = Number(process.env.PORT ?? 8080);
const publicUrl = process.env.SHOP_URL ?? `http://127.0.0.1:${port}`;
const payrailUrl = process.env.PAYRAIL_URL ?? 'http://127.0.0.1:3000';
const dataDir = process.env.PAYRAIL_DATA_DIR ?? new URL('../../.payrail', import.meta.url).pathname;
const saved = new URL('./.merchant.json', import.meta.url);
const bin = new URL('../../packages/server/bin/payrail.js', import.meta.url).pathname;

if (!existsSync(saved)) {
  const cli = (args: string[]) => JSON.parse(execFileSync(process.execPath, [bin, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
  const client = cli(['client', 'create', '--name', 'Example shop', '--redirect-uri', `${publicUrl}/return`]);
  const hook = cli(['webhook', 'add', '--url', `${publicUrl}/webhooks/payrail`, '--event', 'PAYMENT_STATE_UPDATED']);
  writeFileSync(saved, JSON.stringify({ clientId: client.client_id, clientSecret: client.client_secret, webhookSecret: hook.secret_key }, null, 2));
}
const credentials = JSON.parse(readFileSync(saved, 'utf8'));
const { server } = createShop({ payrailUrl, publicUrl, ...credentials });
server.listen(port, '127.0.0.1', () => console.log(`Example shop on ${publicUrl} (Payrail at ${payrailUrl})`));
