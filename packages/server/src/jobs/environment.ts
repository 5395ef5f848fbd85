/**
 * What every background job gets: the database and its dialect, the time, a log, the lease length
 * (store/lease.ts), and what webhook delivery needs (keyring, timeouts, private addresses, SMTP).
 */
import type { DeliveryEnvironment } from '../webhooks/delivery.ts';

export type JobEnvironment = DeliveryEnvironment;
