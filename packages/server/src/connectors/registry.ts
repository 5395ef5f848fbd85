/**
 * The connectors Payrail knows. The test connector carries Powens' UUID so that client code
 * written against the Powens sandbox runs unchanged. (Its bank behaviour comes with the webview work.)
 */
export interface ConnectorDescriptor {
  id: number;
  uuid: string;
  name: string;
  slug: string;
  products: readonly string[];
  countries: readonly string[];
}

export const TEST_CONNECTOR: ConnectorDescriptor = Object.freeze({
  id: 40,
  uuid: '338178e6-3d01-564f-9a7b-52ca442459bf',
  name: 'Connecteur de test',
  slug: 'test',
  products: ['pay'],
  countries: ['FR', 'DE', 'ES', 'IT', 'NL', 'BE', 'PT', 'GB'],
});

const CONNECTORS: readonly ConnectorDescriptor[] = [TEST_CONNECTOR];

export function findConnectorByUuid(uuid: string): ConnectorDescriptor | undefined {
  const wanted = uuid.toLowerCase();
  return CONNECTORS.find((c) => c.uuid === wanted);
}

export function findConnectorById(id: number): ConnectorDescriptor | undefined {
  return CONNECTORS.find((c) => c.id === id);
}

export function isPayConnector(connector: ConnectorDescriptor): boolean {
  return connector.products.includes('pay');
}
