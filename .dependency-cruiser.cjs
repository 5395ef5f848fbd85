/**
 * The server's layers, enforced by `npm run lint` (dependency-cruiser; docs/architecture-layers.md
 * describes them). From the bottom up:
 *
 *   domain → connectors/kit → store → telemetry → connectors → webhooks → services → jobs
 *   → http, webview, admin, config, cli (the top: they assemble and serve the rest)
 *
 * A module may import its own layer and the layers below it, never one above, and no import circle
 * exists anywhere. Type-only imports count: a type shared across layers lives in the lower one.
 * Each rule below names what it forbids and why.
 */
const SRC = '^packages/server/src/';
const layer = (...folders) => `${SRC}(${folders.join('|')})/`;

/** The three services the webhook feature builds on: each imports only domain and store (rule below). */
const LEAF_SERVICES = `${SRC}services/(config|secret-box|payment-view)[.]ts$`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circle: a circle makes the load order decide behaviour and hides which module owns what.',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: 'domain-imports-only-domain',
      comment: 'domain/ is the pure rules (money, dates, states, validation): it knows no database, bank, HTTP or job.',
      severity: 'error',
      from: { path: layer('domain') },
      to: { path: SRC, pathNot: layer('domain') },
    },
    {
      name: 'store-imports-only-domain-and-kit',
      comment:
        'store/ (schema, dialects, migrations, repositories, the backlog query) is reached by services; it never calls back into them. ' +
        "Its JSON columns hold what the connector kit defines (a bank's profile, a connector's fields), so it may import the kit.",
      severity: 'error',
      from: { path: layer('store') },
      to: { path: SRC, pathNot: layer('domain', 'connectors/kit', 'store') },
    },
    {
      name: 'telemetry-imports-only-store',
      comment: 'telemetry/ (metrics) is imported from every layer that observes something, so it may only read the store.',
      severity: 'error',
      from: { path: layer('telemetry') },
      to: { path: SRC, pathNot: layer('domain', 'connectors/kit', 'store', 'telemetry') },
    },
    {
      name: 'connector-kit-imports-only-domain',
      comment:
        'connectors/kit/ is the contract every bank standard builds on: domain types only, so a connector never reaches the core. ' +
        "Its simulator/ folder is the simulators' shared toolbox and follows their rule below.",
      severity: 'error',
      from: { path: layer('connectors/kit'), pathNot: `${SRC}connectors/kit/simulator/` },
      to: { path: SRC, pathNot: layer('domain', 'connectors/kit') },
    },
    {
      name: 'connectors-import-domain-and-kit',
      comment:
        'Connectors are stateless translators (design of the bank boundary): no database, no service, no HTTP server. ' +
        'The registry reads banks through the BankSource interface that services/banks.ts implements.',
      severity: 'error',
      from: { path: layer('connectors'), pathNot: `${SRC}connectors/[^/]+/simulator/` },
      to: { path: SRC, pathNot: layer('domain', 'connectors') },
    },
    {
      name: 'simulators-are-tools',
      comment:
        "A bank simulator is a bank's far side, run by `payrail bank simulate` and the tests: it may use connectors, domain and the HTML helper, " +
        'and only the CLI starts one. connectors/kit/simulator/ holds what every simulator shares (faults, pages, received calls).',
      severity: 'error',
      from: { path: `${SRC}connectors/[^/]+/simulator/` },
      to: { path: SRC, pathNot: [layer('domain', 'connectors'), `${SRC}http/html[.]ts$`] },
    },
    {
      name: 'only-the-cli-starts-simulators',
      comment: 'The core never depends on a simulated bank.',
      severity: 'error',
      from: { path: SRC, pathNot: [layer('cli'), `${SRC}connectors/[^/]+/simulator/`] },
      to: { path: `${SRC}connectors/[^/]+/simulator/` },
    },
    {
      name: 'webhooks-below-services',
      comment:
        'webhooks/ (endpoints, outbox, auth providers, delivery) is announced to by the payment services, so it must not import them; ' +
        'it builds on domain, store, telemetry and three leaf services (config, sealing, the payment view).',
      severity: 'error',
      from: { path: layer('webhooks') },
      to: { path: SRC, pathNot: [layer('domain', 'connectors/kit', 'store', 'telemetry', 'webhooks'), LEAF_SERVICES] },
    },
    {
      name: 'leaf-services-import-only-domain-and-store',
      comment: 'What webhooks/ may use of services/ must itself stay below webhooks/ (domain, kit, store), or a circle through the layers opens.',
      severity: 'error',
      from: { path: LEAF_SERVICES },
      to: { path: SRC, pathNot: [layer('domain', 'connectors/kit', 'store'), LEAF_SERVICES] },
    },
    {
      name: 'services-below-jobs-and-http',
      comment:
        'services/ is the core (payments, attempts, tokens, banks…): it never imports the jobs, HTTP, pages or CLI that drive it. ' +
        'Jobs are woken through the WorkNotifier handed in the environment.',
      severity: 'error',
      from: { path: layer('services') },
      to: { path: SRC, pathNot: layer('domain', 'store', 'telemetry', 'connectors', 'webhooks', 'services') },
    },
    {
      name: 'jobs-below-http',
      comment: 'jobs/ (status sync, webhook delivery, expiry, purge) run beside the HTTP server and without it (in tests): no HTTP, pages or CLI.',
      severity: 'error',
      from: { path: layer('jobs') },
      to: { path: SRC, pathNot: layer('domain', 'store', 'telemetry', 'connectors', 'webhooks', 'services', 'jobs') },
    },
    {
      name: 'pages-use-http-helpers-only',
      comment:
        'The webview and the dashboard are registered by http/app.ts: they may use http/ helpers (html, csp, errors…), not the app, its plugins or its routes.',
      severity: 'error',
      from: { path: layer('webview', 'admin') },
      to: { path: [`${SRC}http/app[.]ts$`, `${SRC}http/(plugins|routes)/`] },
    },
    {
      name: 'pages-are-separate',
      comment: 'The payer webview and the operator dashboard share nothing but lower layers.',
      severity: 'error',
      from: { path: layer('webview') },
      to: { path: layer('admin') },
    },
    {
      name: 'pages-are-separate-2',
      comment: 'The operator dashboard and the payer webview share nothing but lower layers.',
      severity: 'error',
      from: { path: layer('admin') },
      to: { path: layer('webview') },
    },
    {
      name: 'only-the-cli-assembles',
      comment: 'cli/ and config/ are the entry points (flags, files, processes): nothing in the server imports them.',
      severity: 'error',
      from: { path: SRC, pathNot: layer('cli', 'config') },
      to: { path: layer('cli', 'config') },
    },
  ],
  options: {
    includeOnly: SRC,
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'packages/server/tsconfig.json' },
    // Type-only imports are dependencies too (a circle of types is still a circle).
    tsPreCompilationDeps: true,
    cache: false,
  },
};
