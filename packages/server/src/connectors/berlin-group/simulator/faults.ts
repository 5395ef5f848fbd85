/**
 * Injectable faults of the Berlin Group simulator: the kit's (kit/simulator/faults.ts) with
 * NextGenPSD2 1.3.12's operations and error codes.
 */
import { Faults as KitFaults, type Fault as KitFault, type FaultSpec as KitFaultSpec } from '../../kit/simulator/faults.ts';
import { statusForCode } from './codes.ts';

export { FAULT_KINDS, FaultError, type FaultKind } from '../../kit/simulator/faults.ts';

export const OPERATIONS = [
  'initiatePayment',
  'getPaymentInformation',
  'getPaymentInitiationStatus',
  'cancelPayment',
  'startPaymentAuthorisation',
  'getPaymentInitiationAuthorisation',
  'getPaymentInitiationScaStatus',
  'startPaymentInitiationCancellationAuthorisation',
  'getPaymentInitiationCancellationAuthorisationInformation',
  'getPaymentCancellationScaStatus',
  'updatePaymentPsuData',
] as const;
export type Operation = (typeof OPERATIONS)[number];
export type Fault = KitFault<Operation>;
export type FaultSpec = KitFaultSpec<Operation>;

export class Faults extends KitFaults<Operation> {
  constructor() {
    super({ standard: 'NextGenPSD2 1.3.12', operations: OPERATIONS, rejectStatus: statusForCode });
  }
}
