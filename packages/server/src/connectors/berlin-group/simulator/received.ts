/** What the Berlin Group simulator received: the kit's record (kit/simulator/received.ts) over its operations. */
import { Received as KitReceived, type ReceivedCall as KitReceivedCall } from '../../kit/simulator/received.ts';
import type { Operation } from './faults.ts';

export { hashBody, psuContextOf, type ReceivedInitiation } from '../../kit/simulator/received.ts';
export type ReceivedCall = KitReceivedCall<Operation>;
export class Received extends KitReceived<Operation> {}
