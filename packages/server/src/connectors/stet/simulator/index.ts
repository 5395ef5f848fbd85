/** The STET PSD2 bank simulator: see server.ts. */
export { startStetSimulator, OPERATIONS, type Operation, type StetSimulator, type StetSimulatorOptions } from './server.ts';
export type { SimulatedPayment } from './ledger.ts';
