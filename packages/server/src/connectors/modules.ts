/**
 * The connector modules Payrail ships, one per standard. The built-in test bank is not a module
 * with banks of its own: it is switched on or off (`--test-bank`).
 */
import { berlinGroupModule } from './berlin-group/index.ts';
import type { ConnectorModule } from './kit/types.ts';
import { obieModule } from './obie/index.ts';
import { stetModule } from './stet/index.ts';

export const CONNECTOR_MODULES: readonly ConnectorModule[] = [berlinGroupModule, stetModule, obieModule];
