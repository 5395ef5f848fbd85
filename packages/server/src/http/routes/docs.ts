/** The OpenAPI document (`/2.0/openapi.json`) and a readable API reference page (`/2.0/docs`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { html, type SafeHtml } from '../html.ts';
import { PAGE_CSP } from '../csp.ts';

// biome-ignore lint/suspicious/noExplicitAny: walks arbitrary JSON Schema documents.
type Schema = Record<string, any>;

const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --get: #0969da; --post: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --get: #4493f8; --post: #3fb950; } }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); max-width: 64rem; margin: 0 auto; padding: 1rem; }
code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
nav ul { columns: 2; padding-left: 1.2rem; }
section.op { border-top: 1px solid var(--line); padding: .5rem 0 1rem; }
.method { font-weight: 700; text-transform: uppercase; margin-right: .5rem; }
.method.get { color: var(--get); } .method.post { color: var(--post); }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .25rem .5rem; vertical-align: top; }
ul.schema { list-style: none; padding-left: 1rem; border-left: 2px solid var(--line); }
.muted { color: var(--muted); } .req { color: #cf222e; font-size: .8em; }
`;

function resolve(doc: Schema, schema: Schema): Schema {
  if (schema?.$ref) {
    const name = String(schema.$ref)
      .replace(/^#\/components\/schemas\//, '')
      .replace(/#$/, '');
    return doc.components?.schemas?.[name] ?? schema;
  }
  return schema ?? {};
}

function typeOf(doc: Schema, schema: Schema): string {
  const s = resolve(doc, schema);
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map((x: Schema) => typeOf(doc, x)).join(' | ');
  if (s.enum) return s.enum.map((x: unknown) => JSON.stringify(x)).join(' | ');
  if (s.type === 'array') return `array of ${typeOf(doc, s.items)}`;
  return s.title ?? s.type ?? 'any';
}

function renderSchema(doc: Schema, schema: Schema, depth = 0): SafeHtml | string {
  const s = resolve(doc, schema);
  const object = s.type === 'array' ? resolve(doc, s.items) : s.anyOf ? resolve(doc, s.anyOf.find((x: Schema) => resolve(doc, x).properties) ?? {}) : s;
  if (!object.properties || depth > 4) return '';
  const required = new Set<string>(object.required ?? []);
  return html`<ul class="schema">${Object.entries(object.properties as Record<string, Schema>).map(
    ([name, prop]) =>
      html`<li><code>${name}</code> <span class="muted">${typeOf(doc, prop)}</span>${required.has(name) ? html` <span class="req">required</span>` : ''}${
        resolve(doc, prop).description ? html` — ${resolve(doc, prop).description}` : ''
      }${renderSchema(doc, prop, depth + 1)}</li>`,
  )}</ul>`;
}

export function renderReference(doc: Schema): string {
  const operations: { method: string; path: string; op: Schema }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {}) as [string, Schema][]) {
    for (const [method, op] of Object.entries(item)) operations.push({ method, path, op: op as Schema });
  }
  const anchor = (method: string, path: string) => `${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`;
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} reference</title><link rel="stylesheet" href="/2.0/assets/docs.css"></head>
<body><header><h1>${doc.info.title} <span class="muted">${doc.info.version}</span></h1><p>${doc.info.description}</p>
<p>Machine-readable: <a href="/2.0/openapi.json">/2.0/openapi.json</a> (OpenAPI ${doc.openapi}).</p></header>
<nav aria-label="Endpoints"><ul>${operations.map(({ method, path, op }) => html`<li><a href="#${anchor(method, path)}"><span class="method ${method}">${method}</span><code>${path}</code></a> ${op.summary ?? ''}</li>`)}</ul></nav>
<main>${operations.map(
    ({ method, path, op }) => html`<section class="op" id="${anchor(method, path)}" aria-labelledby="h-${anchor(method, path)}">
<h2 id="h-${anchor(method, path)}"><span class="method ${method}">${method}</span><code>${path}</code></h2>
<p><strong>${op.summary ?? ''}</strong></p><p>${op.description ?? ''}</p>
${
  op.parameters?.length
    ? html`<h3>Parameters</h3><table><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead><tbody>${(
        op.parameters as Schema[]
      ).map(
        (p) =>
          html`<tr><td><code>${p.name}</code>${p.required ? html` <span class="req">required</span>` : ''}</td><td>${p.in}</td><td>${typeOf(doc, p.schema)}</td><td>${p.description ?? p.schema?.description ?? ''}</td></tr>`,
      )}</tbody></table>`
    : ''
}
${op.requestBody ? html`<h3>Request body</h3>${Object.entries(op.requestBody.content ?? {}).map(([type, c]) => html`<p class="muted">${type}</p>${renderSchema(doc, (c as Schema).schema)}`)}` : ''}
<h3>Responses</h3><ul>${Object.entries(op.responses ?? {}).map(([status, r]) => html`<li><strong>${status}</strong> ${typeOf(doc, (r as Schema).content?.['application/json']?.schema ?? {})}${status === '200' ? renderSchema(doc, (r as Schema).content?.['application/json']?.schema ?? {}) : ''}</li>`)}</ul>
</section>`,
  )}</main></body></html>`;
  return page.value;
}

export const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  let reference: string | null = null;
  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) => {
    reference ??= renderReference(app.swagger() as Schema);
    return reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).header('cache-control', 'public, max-age=300').send(reference);
  });
  app.get('/assets/docs.css', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CSS),
  );
};
