/**
 * The pain.001 XML payment products of NextGenPSD2 1.3.12 (`pain.001-sepa-credit-transfers`,
 * `pain.001-instant-sepa-credit-transfers`) and the pain.002 status answer, for banks that take
 * payments only as XML (profile `pain001`, docs/banks.md). The initiation is first built as the
 * JSON body (initiation.ts: the same checks and limits), then written as an ISO 20022
 * pain.001.001.03 message; a periodic payment is the multipart body the file defines (`xml_sct`
 * + `json_standingorderType`). fast-xml-parser writes (escaping every value) and reads the XML;
 * amounts stay decimal text end to end (numbers are never parsed).
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { formatMinorUnits, parseAmount } from '../../domain/money.ts';
import type { CalledProduct, PaymentProduct, PaymentService } from './initiation.ts';

export const PAIN001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03';
export const PAIN002_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.002.001.03';

/** The XML twin of a JSON product. */
export function xmlProduct(product: PaymentProduct): CalledProduct {
  return `pain.001-${product}`;
}

export function isXmlProduct(product: string | undefined): boolean {
  return product?.startsWith('pain.001-') === true;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What the message needs besides the JSON body: its id, Payrail's clock, the payer's name when known. */
export interface Pain001Meta {
  /** GrpHdr/MsgId and PmtInf/PmtInfId (at most 35 characters, unique per message). */
  messageId: string;
  /** Payrail's clock: CreDtTm, and the execution date when the payment names none. */
  now: number;
  /** `Dbtr/Nm`, when the payer's name is known. */
  debtorName?: string | null;
  /** `InitgPty/Nm`. */
  initiatingParty: string;
}

/** Elements that may repeat: always read as lists, so one element and many read alike. */
const LISTS = new Set(['PmtInf', 'CdtTrfTxInf', 'OrgnlPmtInfAndSts', 'TxInfAndSts', 'StsRsnInf', 'AddtlInf', 'Ustrd', 'AdrLine']);

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: false,
  // Amounts, dates and ids stay text: nothing becomes a JavaScript number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name) => LISTS.has(name.replace(/^[^:]*:/, '')),
});

/** XML 1.0 refuses these characters even escaped: removed from every value written. */
const xmlChar = (c: string) => {
  const n = c.codePointAt(0)!;
  return n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n !== 0xfffe && n !== 0xffff);
};
const clean = (value: string, max: number) => Array.from(value).filter(xmlChar).join('').slice(0, max);

/** Today (UTC) by Payrail's clock, as ISO 20022 `ISODate`. */
export function isoDate(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** The exact sum of decimal amount strings (minor units in between, never floating point). */
export function controlSum(amounts: string[], currency: string): string {
  let total = 0;
  for (const amount of amounts) total += parseAmount(amount, currency, 'amount');
  return formatMinorUnits(total, currency);
}

function postalAddress(address: unknown): Json | null {
  if (!isObject(address) || typeof address.country !== 'string') return null;
  const text = (key: string, max: number) => (typeof address[key] === 'string' && address[key] ? { [key]: clean(address[key] as string, max) } : {});
  // PostalAddress6, in the schema's order.
  const s = { ...text('streetName', 70), ...text('buildingNumber', 16), ...text('postCode', 16), ...text('townName', 35) };
  return {
    ...(s.streetName ? { StrtNm: s.streetName } : {}),
    ...(s.buildingNumber ? { BldgNb: s.buildingNumber } : {}),
    ...(s.postCode ? { PstCd: s.postCode } : {}),
    ...(s.townName ? { TwnNm: s.townName } : {}),
    Ctry: clean(address.country, 2),
  };
}

/** One `CdtTrfTxInf` from a JSON transfer (initiation.ts `element`), in the schema's order. */
function transaction(t: Json): Json {
  const amount = t.instructedAmount as { currency: string; amount: string };
  const creditorAccount = t.creditorAccount as { iban: string };
  const address = postalAddress(t.creditorAddress);
  return {
    PmtId: { EndToEndId: clean(String(t.endToEndIdentification ?? '') || 'NOTPROVIDED', 35) },
    Amt: { InstdAmt: { '@_Ccy': amount.currency, '#text': amount.amount } },
    ...(typeof t.creditorAgent === 'string' ? { CdtrAgt: { FinInstnId: { BIC: clean(t.creditorAgent, 11) } } } : {}),
    Cdtr: { Nm: clean(String(t.creditorName ?? ''), 70), ...(address ? { PstlAdr: address } : {}) },
    CdtrAcct: { Id: { IBAN: clean(creditorAccount.iban, 34) } },
    ...(typeof t.remittanceInformationUnstructured === 'string' && t.remittanceInformationUnstructured
      ? { RmtInf: { Ustrd: clean(t.remittanceInformationUnstructured, 140) } }
      : {}),
  };
}

/**
 * The pain.001.001.03 message of a JSON initiation body: one `PmtInf` (one debtor, one date) with
 * one `CdtTrfTxInf` per transfer (one for a single or periodic payment, each of `payments` for a bulk).
 */
export function pain001Xml(service: PaymentService, product: PaymentProduct, body: Json, meta: Pain001Meta): string {
  const transfers = service === 'bulk-payments' ? (body.payments as Json[]) : [body];
  const currency = (transfers[0]!.instructedAmount as { currency: string }).currency;
  const sum = controlSum(
    transfers.map((t) => (t.instructedAmount as { amount: string }).amount),
    currency,
  );
  const count = String(transfers.length);
  const date = service === 'periodic-payments' ? body.startDate : body.requestedExecutionDate;
  const debtor = body.debtorAccount as { iban: string } | undefined;
  const id = clean(meta.messageId, 35);
  const document = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    Document: {
      '@_xmlns': PAIN001_NAMESPACE,
      CstmrCdtTrfInitn: {
        GrpHdr: {
          MsgId: id,
          CreDtTm: new Date(meta.now).toISOString(),
          NbOfTxs: count,
          CtrlSum: sum,
          InitgPty: { Nm: clean(meta.initiatingParty, 70) },
        },
        PmtInf: {
          PmtInfId: id,
          PmtMtd: 'TRF',
          ...(service === 'bulk-payments' ? { BtchBookg: 'true' } : {}),
          NbOfTxs: count,
          CtrlSum: sum,
          PmtTpInf: {
            SvcLvl: { Cd: 'SEPA' },
            ...(product === 'instant-sepa-credit-transfers' ? { LclInstrm: { Cd: 'INST' } } : {}),
          },
          ReqdExctnDt: typeof date === 'string' ? date : isoDate(meta.now),
          // The EPC's SCT rules make Dbtr/Nm mandatory; when the payer's name is unknown, the usual word for "not provided" (the bank knows its own customer).
          Dbtr: { Nm: meta.debtorName ? clean(meta.debtorName, 70) : 'NOTPROVIDED' },
          ...(debtor ? { DbtrAcct: { Id: { IBAN: clean(debtor.iban, 34) } } } : {}),
          // No BIC: the EPC's word for "not provided".
          DbtrAgt: { FinInstnId: { Othr: { Id: 'NOTPROVIDED' } } },
          ChrgBr: 'SLEV',
          CdtTrfTxInf: transfers.map(transaction),
        },
      },
    },
  };
  return builder.build(document) as string;
}

/** The standing order's part of a periodic payment (`json_standingorderType`). */
export function standingOrderJson(body: Json): Json {
  const keys = ['startDate', 'endDate', 'executionRule', 'frequency', 'dayOfExecution', 'monthsOfExecution'];
  return Object.fromEntries(keys.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
}

/** `multipart/form-data` of a periodic payment: part 1 the pain.001, part 2 the standing order (JSON). */
export function periodicMultipart(xml: string, order: Json, boundary: string): { contentType: string; body: string } {
  const part = (name: string, type: string, content: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n`;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: `${part('xml_sct', 'application/xml', xml)}${part('json_standingorderType', 'application/json', JSON.stringify(order))}--${boundary}--\r\n`,
  };
}

export type ParsedXml = { ok: true; root: string; namespace: string | null; document: Json } | { ok: false; error: string };

/**
 * Reads an XML text with the one parser: well-formed, no DTD (a bank never needs one, and its
 * entities are how XML bombs work), the root element with its namespace.
 */
export function parseXml(text: string): ParsedXml {
  if (/<!DOCTYPE/i.test(text)) return { ok: false, error: 'a DOCTYPE is not accepted' };
  const valid = XMLValidator.validate(text);
  if (valid !== true) return { ok: false, error: `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})` };
  const parsed = parser.parse(text) as Json;
  const rootKey = Object.keys(parsed).find((k) => !k.startsWith('?'));
  if (!rootKey || !isObject(parsed[rootKey])) return { ok: false, error: 'no root element' };
  const root = parsed[rootKey] as Json;
  const prefix = rootKey.includes(':') ? rootKey.slice(0, rootKey.indexOf(':')) : null;
  const ns = root[prefix ? `@_xmlns:${prefix}` : '@_xmlns'];
  return { ok: true, root: rootKey.replace(/^[^:]*:/, ''), namespace: typeof ns === 'string' ? ns : null, document: stripPrefixes(root) as Json };
}

/** Element names without their namespace prefix (a bank may write `<ns2:Document>`). */
function stripPrefixes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripPrefixes);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith('@_xmlns'))
      .map(([k, v]) => [k.startsWith('@_') || k === '#text' ? k : k.replace(/^[^:]*:/, ''), stripPrefixes(v)]),
  );
}

/** A child element (an object, or an empty one when absent or text). */
export function child(node: unknown, name: string): Json {
  const value = isObject(node) ? node[name] : undefined;
  return isObject(value) ? value : {};
}

/** A repeated child element, as a list. */
export function children(node: unknown, name: string): Json[] {
  const value = isObject(node) ? node[name] : undefined;
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((v) => (isObject(v) ? v : { '#text': v }));
}

/** The text of a child element (`#text` when it has attributes), or null. */
export function text(node: unknown, name: string): string | null {
  const value = isObject(node) ? node[name] : undefined;
  const raw = isObject(value) ? value['#text'] : Array.isArray(value) ? value[0] : value;
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : null;
}

/** What a pain.002 status answer says, reduced to the one code the status table reads. */
export interface Pain002Status {
  /** The payment's status: GrpSts, else the payment information's, else the transactions' (mixed with a rejection: PART). */
  transactionStatus: string | null;
  /** The first ISO 20022 status reason code (`StsRsnInf/Rsn/Cd`), e.g. AM04. */
  reason: string | null;
  /** The bank's own words (`StsRsnInf/AddtlInf`), when it gave some. */
  reasonText: string | null;
  /** Per transaction, by `OrgnlEndToEndId`. */
  transactions: { endToEndId: string | null; status: string | null; reason: string | null }[];
}

const CODE = /^[A-Z]{4}$/;

function reasonOf(node: Json): { reason: string | null; text: string | null } {
  for (const info of children(node, 'StsRsnInf')) {
    const code = text(child(info, 'Rsn'), 'Cd') ?? text(child(info, 'Rsn'), 'Prtry');
    const words = children(info, 'AddtlInf')
      .map((t) => (typeof t['#text'] === 'string' ? t['#text'] : ''))
      .filter(Boolean)
      .join(' ');
    if (code || words) return { reason: code && /^[A-Z0-9]{1,35}$/.test(code) ? code : null, text: words ? words.slice(0, 500) : null };
  }
  return { reason: null, text: null };
}

/** Reads a pain.002.001.03 (`CstmrPmtStsRpt`); null when the text is not one. */
/** Transaction statuses of a pain.002 after which the transfer changes no more (rejected, or settled on the creditor's or the debtor's side). */
const TX_FINAL = new Set(['RJCT', 'ACSC', 'ACCC']);

export function readPain002(xml: string): Pain002Status | null {
  const parsed = parseXml(xml);
  if (!parsed.ok || parsed.root !== 'Document') return null;
  const report = child(parsed.document, 'CstmrPmtStsRpt');
  if (Object.keys(report).length === 0) return null;
  const group = child(report, 'OrgnlGrpInfAndSts');
  const infos = children(report, 'OrgnlPmtInfAndSts');
  const txs = infos.flatMap((i) => children(i, 'TxInfAndSts'));
  const transactions = txs.map((t) => ({ endToEndId: text(t, 'OrgnlEndToEndId'), status: text(t, 'TxSts'), reason: reasonOf(t).reason }));
  const code = (value: string | null) => (value && CODE.test(value.toUpperCase()) ? value.toUpperCase() : null);
  let status = code(text(group, 'GrpSts'));
  const infoStatuses = infos.map((i) => code(text(i, 'PmtInfSts'))).filter((s): s is string => s !== null);
  if (!status && infoStatuses.length > 0 && infoStatuses.every((s) => s === infoStatuses[0])) status = infoStatuses[0]!;
  const txStatuses = transactions.map((t) => code(t.status)).filter((s): s is string => s !== null);
  if (!status && txStatuses.length > 0) {
    if (txStatuses.every((s) => s === txStatuses[0])) status = txStatuses[0]!;
    // PART is final: only once every transaction is (rejected or settled). A rejection beside transfers
    // still on their way says nothing yet about the whole: no status, the next read asks again.
    else if (txStatuses.includes('RJCT') && txStatuses.every((s) => TX_FINAL.has(s))) status = 'PART';
  }
  // The reason where the bank put it: the group, the payment information, or a transaction.
  const found = [reasonOf(group), ...infos.map(reasonOf), ...txs.map(reasonOf)].find((r) => r.reason || r.text) ?? { reason: null, text: null };
  return { transactionStatus: status, reason: found.reason, reasonText: found.text, transactions };
}
