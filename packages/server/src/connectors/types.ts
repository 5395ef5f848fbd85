/** Moved to `connectors/kit/` (the connector contract); kept so older imports still work. */
export * from './kit/types.ts';
