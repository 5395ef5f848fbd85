import { EventEmitter } from 'node:events';

/** Local state changes wake this process's job loop without waiting for its next poll. */
export const jobSignals = new EventEmitter();
jobSignals.setMaxListeners(100);
