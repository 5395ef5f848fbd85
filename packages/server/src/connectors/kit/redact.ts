/**
 * Redaction of bank exchange bodies before they are logged: account numbers keep their country
 * and last four characters, names and PSU identifiers are replaced. Applied to every key and every
 * string, so an IBAN inside free text or an unexpected field is caught as well.
 */

const NAME_KEYS =
  /^(creditorName|debtorName|ultimateCreditor|ultimateDebtor|ultimateCreditorName|ultimateDebtorName|name|accountHolderName|ownerName|psuName|psuId|psu-id|psuCorporateId|label|creditorAddress|debtorAddress|matchedName)$/i;
/** Credentials and tokens: the payer's password and codes, OAuth codes, verifiers, secrets, assertions and tokens. */
const SECRET_KEYS =
  /^(password|encryptedPassword|additionalPassword|additionalEncryptedPassword|psu_password|pin|otp|sca_code|scaAuthenticationData|authenticationData|psuAuthenticationFactor|code_verifier|client_secret|client_assertion|access_token|refresh_token|id_token)$/i;
/** In a form body (a token request) the authorization code and a request object are secrets too. */
const FORM_SECRET_KEYS = /^(code|request)$/i;
const ACCOUNT_KEYS = /^(iban|bban|pan|maskedPan|msisdn|identification|accountNumber)$/i;
/** An IBAN in electronic or grouped form (2 letters, 2 digits, 11-30 alphanumerics). */
const IBAN_TEXT = /\b([A-Z]{2})(\d{2})((?:\s?[A-Z0-9]){11,30})\b/g;

export const REDACTED = '[redacted]';

export function maskAccount(value: string): string {
  const compact = value.replace(/\s+/g, '');
  const country = /^[A-Z]{2}\d{2}/.test(compact) ? compact.slice(0, 2) : '';
  return `${country}…${compact.slice(-4)}`;
}

export function redactText(text: string): string {
  return text.replace(IBAN_TEXT, (match) => maskAccount(match));
}

export function redactValue(value: unknown, key = '', depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (typeof value === 'string') {
    if (NAME_KEYS.test(key) || SECRET_KEYS.test(key)) return REDACTED;
    if (ACCOUNT_KEYS.test(key)) return maskAccount(value);
    return redactText(value);
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, key, depth + 1));
  if (value !== null && typeof value === 'object') {
    if (NAME_KEYS.test(key) || SECRET_KEYS.test(key)) return REDACTED; // e.g. an address object, psuData
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k, depth + 1)]));
  }
  return value;
}

/** ISO 20022 XML (pain.001, pain.002): names and postal addresses, with or without a namespace prefix. */
const XML_NAME_ELEMENTS = /<((?:[\w.-]+:)?(?:Nm|PstlAdr))(\s[^>]*)?>[\s\S]*?<\/\1\s*>/g;

/** XML text (a pain.001 or pain.002, or a multipart body holding one) with its names and addresses blanked. */
export function redactXml(text: string): string {
  return text.replace(XML_NAME_ELEMENTS, (_match, name: string, attributes: string | undefined) => `<${name}${attributes ?? ''}>${REDACTED}</${name}>`);
}

/** JSON text (a body serialised by the connector, e.g. to sign its exact bytes) is redacted as the value it holds; XML by element. */
function redactString(body: string): string {
  if (/^\s*[[{]/.test(body)) {
    try {
      return JSON.stringify(redactValue(JSON.parse(body)));
    } catch {
      // not JSON after all: redacted as text
    }
  }
  return redactText(body.includes('<') ? redactXml(body) : body);
}

/** The redacted body as stored in the exchange log (JSON text, or text), at most `max` characters. */
export function redactBody(body: unknown, max = 16_384): string | null {
  if (body === undefined || body === null || body === '') return null;
  const text = typeof body === 'string' ? redactString(body) : JSON.stringify(redactValue(body));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A form body (`application/x-www-form-urlencoded`) as logged: every secret blanked. */
export function redactForm(form: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(form).map(([k, v]) => [k, FORM_SECRET_KEYS.test(k) ? REDACTED : redactValue(v, k)]));
}

/** Header values to log: PSU identifiers redacted. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, /^psu-(id|corporate-id)$/i.test(k) ? REDACTED : v]));
}
