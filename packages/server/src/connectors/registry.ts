/** The connectors Payrail knows, by UUID and by numeric id. */
import { testConnector } from './test-connector.ts';
import type { Connector, ConnectorDescriptor } from './types.ts';

const CONNECTORS: readonly Connector[] = [testConnector];

export function allConnectors(): readonly Connector[] {
  return CONNECTORS;
}

export function connectorByUuid(uuid: string): Connector | undefined {
  const wanted = uuid.toLowerCase();
  return CONNECTORS.find((c) => c.descriptor.uuid === wanted);
}

export function connectorById(id: number): Connector | undefined {
  return CONNECTORS.find((c) => c.descriptor.id === id);
}

export function isPayConnector(connector: ConnectorDescriptor): boolean {
  return connector.products.includes('pay');
}
