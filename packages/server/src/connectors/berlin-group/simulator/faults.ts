/**
 * Injectable faults: how a real bank fails, so tests can reach every outcome of a bank call
 * (kit/faults.ts) with this standard's operations and error codes.
 */
import { type Fault as KitFault, FaultBook, type FaultSpec as KitFaultSpec } from '../../kit/faults.ts';
import { statusForCode } from './codes.ts';

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
] as const;
export type Operation = (typeof OPERATIONS)[number];

export { FAULT_KINDS, FaultError, type FaultKind } from '../../kit/faults.ts';
export type FaultSpec = KitFaultSpec<Operation>;
export type Fault = KitFault<Operation>;

/** The fault book of the Berlin Group simulator: its operations, `reject` codes from `MessageCode4xx_PIS`. */
export class Faults extends FaultBook<Operation> {
  constructor() {
    super({ operations: OPERATIONS, rejectStatus: statusForCode, codeName: 'NextGenPSD2 1.3.12 payment error code' });
  }
}
