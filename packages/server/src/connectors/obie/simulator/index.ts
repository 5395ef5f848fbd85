/** The UK Open Banking model bank (authorization server + payment initiation API): see server.ts. */
export { OPERATIONS, startObieSimulator, type ObieSimulator, type ObieSimulatorOptions, type Operation } from './server.ts';
export { MODEL_CLIENT_ID } from './keys.ts';
