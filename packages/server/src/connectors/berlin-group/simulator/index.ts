/** The Berlin Group NextGenPSD2 bank simulator: see server.ts. */
export { startBerlinGroupSimulator, type BerlinGroupSimulator, type BerlinGroupSimulatorOptions } from './server.ts';
export { OPERATIONS, type Fault, type FaultSpec, type Operation } from './faults.ts';
export type { SimulatedPayment } from './ledger.ts';
