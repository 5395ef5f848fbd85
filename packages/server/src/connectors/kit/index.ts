/** The connector kit: what a connector module is built against. */
export * from './types.ts';
export * from './descriptor.ts';
export * from './consent.ts';
export * from './oauth.ts';
