/**
 * The example shop: a checkout that creates a payment and sends the payer to the webview, a return
 * page that reads the payment, a webhook endpoint that verifies signatures and updates the order,
 * and an orders page. Uses only @payrail/client. Orders live in memory.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { PayrailClient, verifyWebhook, WebhookVerificationError, type Payment, type PaymentState } from '@payrail/client';

export interface ShopOptions {
  payrailUrl: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  /** Where payers reach the shop, e.g. http://127.0.0.1:8080 (its /return must be registered on the client). */
  publicUrl: string;
}

interface Order {
  id: string;
  item: string;
  amount: string;
  paymentId: number | null;
  state: PaymentState | 'new';
  updatedBy: string;
  webhooks: number;
}

const PRODUCT = { item: 'Payrail mug', amount: '12.90' };
const CSS = `body { font: 16px/1.5 system-ui, sans-serif; margin: 0; } main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
.table { overflow-x: auto; } table { border-collapse: collapse; } th, td { padding: .25rem .5rem; border-bottom: 1px solid #ccc; text-align: left; }
button { font: inherit; padding: .6rem 1rem; min-height: 44px; }`;
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><link rel="stylesheet" href="/style.css"></head>
<body><main><h1>${esc(title)}</h1>${body}<p><a href="/">Shop</a> · <a href="/orders">Orders</a></p></main></body></html>`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function createShop(options: ShopOptions) {
  const payrail = new PayrailClient({ baseUrl: options.payrailUrl, clientId: options.clientId, clientSecret: options.clientSecret });
  const orders = new Map<string, Order>();
  const returnUrl = `${options.publicUrl}/return`;
  const byPayment = (id: number) => [...orders.values()].find((o) => o.paymentId === id);
  const update = (payment: Payment, by: string) => {
    const order = byPayment(payment.id);
    if (!order) return;
    Object.assign(order, { state: payment.state, updatedBy: by });
    if (by === 'webhook') order.webhooks++;
  };

  const server = createServer(async (request, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', options.publicUrl);
    const html = (status: number, body: string) =>
      response
        .writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': `default-src 'none'; style-src 'self'; form-action 'self' ${new URL(options.payrailUrl).origin}`,
        })
        .end(body);
    try {
      if (request.method === 'GET' && url.pathname === '/style.css') {
        return void response.writeHead(200, { 'content-type': 'text/css' }).end(CSS);
      }
      if (request.method === 'GET' && url.pathname === '/') {
        return html(
          200,
          page(
            'Payrail example shop',
            `<p>${esc(PRODUCT.item)}: ${esc(PRODUCT.amount)} EUR</p><form method="post" action="/checkout"><button type="submit">Buy and pay by bank</button></form>`,
          ),
        );
      }
      if (request.method === 'POST' && url.pathname === '/checkout') {
        const order: Order = { id: randomBytes(6).toString('hex'), ...PRODUCT, paymentId: null, state: 'new', updatedBy: 'checkout', webhooks: 0 };
        orders.set(order.id, order);
        const payment = await payrail.createPayment(
          {
            client_redirect_uri: returnUrl,
            client_state: order.id,
            instructions: [
              {
                label: `Order ${order.id}`,
                amount: order.amount,
                currency: 'EUR',
                execution_date_type: 'instant',
                beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'Example Shop' },
              },
            ],
          },
          { idempotencyKey: `order-${order.id}` },
        );
        Object.assign(order, { paymentId: payment.id, state: payment.state });
        const { token } = await payrail.createScopedToken(payment.id);
        response.writeHead(303, { location: payrail.webviewUrl({ paymentId: payment.id, code: token, redirectUri: returnUrl, state: order.id }) }).end();
        return;
      }
      if (request.method === 'GET' && url.pathname === '/return') {
        const id = Number(url.searchParams.get('id_payment'));
        if (!Number.isSafeInteger(id) || id <= 0) return html(400, page('Unknown payment', '<p>This return link is incomplete.</p>'));
        const order = byPayment(id);
        if (!order) return html(404, page('Unknown order', '<p>No order for this payment.</p>'));
        // Never trust the query string: read the payment.
        const payment = await payrail.getPayment(id);
        update(payment, 'return page');
        const cancelled = url.searchParams.get('error') === 'cancelled';
        return html(
          200,
          page(
            cancelled ? 'Payment cancelled' : 'Thank you',
            `<p>Order <strong>${esc(order.id)}</strong>: payment <span id="state">${esc(payment.state)}</span>.</p>`,
          ),
        );
      }
      if (request.method === 'POST' && url.pathname === '/webhooks/payrail') {
        const raw = await readBody(request);
        try {
          const payment = verifyWebhook<Payment>(raw, request.headers, options.webhookSecret, { path: '/webhooks/payrail' });
          update(payment, 'webhook');
          response.writeHead(204).end();
        } catch (error) {
          if (error instanceof WebhookVerificationError) return void response.writeHead(400).end(error.reason);
          throw error;
        }
        return;
      }
      if (request.method === 'GET' && url.pathname === '/orders') {
        const rows = [...orders.values()]
          .map(
            (o) =>
              `<tr><td>${esc(o.id)}</td><td>${esc(o.item)}</td><td>${esc(o.amount)} EUR</td><td>${esc(o.paymentId ?? '')}</td><td class="state">${esc(o.state)}</td><td>${esc(o.updatedBy)}</td><td class="webhooks">${o.webhooks}</td></tr>`,
          )
          .join('');
        return html(
          200,
          page(
            'Orders',
            `<div class="table"><table><thead><tr><th scope="col">Order</th><th scope="col">Item</th><th scope="col">Amount</th><th scope="col">Payment</th><th scope="col">State</th><th scope="col">Last update from</th><th scope="col">Webhooks received</th></tr></thead><tbody>${rows}</tbody></table></div>`,
          ),
        );
      }
      html(404, page('Not found', ''));
    } catch (error) {
      console.error(error);
      html(502, page('Payment service error', `<p>${esc((error as Error).message)}</p>`));
    }
  });
  return { server, orders };
}
