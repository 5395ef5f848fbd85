/**
 * The simulator's pain.001 XML products (`payrail bank simulate --standard berlin-group --pain001`):
 * a bank that takes payments only as pain.001.001.03 (payments and bulk-payments as
 * `application/xml`, periodic-payments as the file's multipart `xml_sct` + `json_standingorderType`)
 * and answers status as pain.002.001.03 when asked with `Accept: application/xml`. The message is
 * read with the connector's parser (fast-xml-parser), checked as a bank would (namespace, counts and
 * control sums, one payment information, dates), then turned into the JSON body of the same
 * payment so the simulator's one set of checks (validate.ts) and its ledger apply to both.
 */
import { XMLBuilder } from 'fast-xml-parser';
import { parseAmount } from '../../../domain/money.ts';
import { child, children, controlSum, PAIN001_NAMESPACE, PAIN002_NAMESPACE, parseXml, text } from '../pain.ts';
import type { SimulatedPayment } from './ledger.ts';
import { type PaymentProduct, type PaymentService, Refusal } from './validate.ts';

type Json = Record<string, unknown>;

export const XML_PRODUCTS = ['pain.001-sepa-credit-transfers', 'pain.001-instant-sepa-credit-transfers'] as const;

export function isXmlProduct(product: string): boolean {
  return (XML_PRODUCTS as readonly string[]).includes(product);
}

/** The JSON product whose rules an XML product follows. */
export function jsonTwin(product: PaymentProduct): PaymentProduct {
  return (isXmlProduct(product) ? product.slice('pain.001-'.length) : product) as PaymentProduct;
}

const format = (path: string, message: string) => new Refusal(400, 'FORMAT_ERROR', message, path);
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

export interface XmlInitiation {
  /** The same payment as the JSON body of the product's twin (validate.ts checks it, the ledger keeps it). */
  body: Json;
  /** The pain.001 as received. */
  xml: string;
  messageId: string;
  paymentInformationId: string;
}

/** Reads an XML initiation (the body of a `pain.001-…` product); throws a `Refusal` for what a bank refuses. */
export async function readXmlInitiation(service: PaymentService, contentType: string, raw: Buffer): Promise<XmlInitiation> {
  let xml: string;
  let order: Json | null = null;
  if (service === 'periodic-payments') {
    if (!/^multipart\/form-data\b/i.test(contentType))
      throw new Refusal(415, 'FORMAT_ERROR', 'A periodic payment is multipart/form-data (xml_sct, json_standingorderType).');
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw format('', 'The multipart body cannot be read.');
    }
    const part = form.get('xml_sct');
    const json = form.get('json_standingorderType');
    if (part === null) throw format('xml_sct', 'The part xml_sct (the pain.001) is missing.');
    if (json === null) throw format('json_standingorderType', 'The part json_standingorderType is missing.');
    xml = typeof part === 'string' ? part : await part.text();
    try {
      const parsed: unknown = JSON.parse(typeof json === 'string' ? json : await json.text());
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      order = parsed as Json;
    } catch {
      throw format('json_standingorderType', 'json_standingorderType must be a JSON object.');
    }
  } else {
    if (!/^(application|text)\/xml\b/i.test(contentType)) throw new Refusal(415, 'FORMAT_ERROR', 'A pain.001 product takes an application/xml body.');
    xml = raw.toString('utf8');
  }
  const read = pain001Body(service, xml);
  if (order) {
    for (const key of ['startDate', 'endDate', 'executionRule', 'frequency', 'dayOfExecution', 'monthsOfExecution'])
      if (order[key] !== undefined) read.body[key] = order[key];
    // The pain.001's date is the standing order's first execution.
    if (read.body.requestedExecutionDate !== order.startDate)
      throw new Refusal(400, 'PARAMETER_NOT_CONSISTENT', 'ReqdExctnDt of the pain.001 must be the startDate of the standing order.', 'ReqdExctnDt');
    delete read.body.requestedExecutionDate;
  }
  return { ...read, xml };
}

function pain001Body(service: PaymentService, xml: string): Omit<XmlInitiation, 'xml'> {
  const parsed = parseXml(xml);
  if (!parsed.ok) throw format('', `The pain.001 cannot be read: ${parsed.error}.`);
  if (parsed.root !== 'Document' || parsed.namespace !== PAIN001_NAMESPACE) throw format('Document', `The body must be a Document of ${PAIN001_NAMESPACE}.`);
  const initiation = child(parsed.document, 'CstmrCdtTrfInitn');
  const header = child(initiation, 'GrpHdr');
  const messageId = text(header, 'MsgId');
  if (!messageId || messageId.length > 35) throw format('GrpHdr.MsgId', 'MsgId is required (at most 35 characters).');
  const created = text(header, 'CreDtTm');
  if (!created || !DATE_TIME.test(created)) throw format('GrpHdr.CreDtTm', 'CreDtTm must be an ISO date and time.');
  if (Object.keys(child(header, 'InitgPty')).length === 0) throw format('GrpHdr.InitgPty', 'InitgPty is required.');
  const infos = children(initiation, 'PmtInf');
  if (infos.length !== 1) throw new Refusal(400, 'PARAMETER_NOT_SUPPORTED', 'This bank takes exactly one PmtInf per message.', 'PmtInf');
  const info = infos[0]!;
  const paymentInformationId = text(info, 'PmtInfId');
  if (!paymentInformationId || paymentInformationId.length > 35) throw format('PmtInf.PmtInfId', 'PmtInfId is required (at most 35 characters).');
  if (text(info, 'PmtMtd') !== 'TRF') throw format('PmtInf.PmtMtd', 'PmtMtd must be TRF.');
  if (text(child(child(info, 'PmtTpInf'), 'SvcLvl'), 'Cd') !== 'SEPA') throw format('PmtInf.PmtTpInf.SvcLvl.Cd', 'The service level must be SEPA.');
  const date = text(info, 'ReqdExctnDt');
  if (!date) throw format('PmtInf.ReqdExctnDt', 'ReqdExctnDt is required.');
  const transactions = children(info, 'CdtTrfTxInf');
  if (transactions.length === 0) throw format('PmtInf.CdtTrfTxInf', 'At least one CdtTrfTxInf is required.');
  if (service !== 'bulk-payments' && transactions.length !== 1)
    throw new Refusal(400, 'PARAMETER_NOT_CONSISTENT', `A ${service} message holds exactly one CdtTrfTxInf.`, 'PmtInf.CdtTrfTxInf');
  const transfers = transactions.map((t, i) => transfer(t, `PmtInf.CdtTrfTxInf[${i}]`));
  // NbOfTxs and CtrlSum, of the group and of the payment information, must add up exactly.
  const count = String(transfers.length);
  const currency = (transfers[0]!.instructedAmount as { currency: string }).currency;
  let sum: string;
  try {
    sum = controlSum(
      transfers.map((t) => (t.instructedAmount as { amount: string }).amount),
      currency,
    );
  } catch {
    throw format('PmtInf.CdtTrfTxInf.Amt.InstdAmt', 'InstdAmt must be a decimal amount with at most 2 decimals.');
  }
  for (const [where, node] of [
    ['GrpHdr', header],
    ['PmtInf', info],
  ] as const) {
    if (text(node, 'NbOfTxs') !== count) throw new Refusal(400, 'PARAMETER_NOT_CONSISTENT', `${where}.NbOfTxs must be ${count}.`, `${where}.NbOfTxs`);
    const given = text(node, 'CtrlSum');
    if (given !== null && !sameAmount(given, sum, currency))
      throw new Refusal(400, 'PARAMETER_NOT_CONSISTENT', `${where}.CtrlSum must be the sum of the amounts (${sum}).`, `${where}.CtrlSum`);
  }
  const debtor = text(child(child(info, 'DbtrAcct'), 'Id'), 'IBAN');
  const common = { ...(debtor ? { debtorAccount: { iban: debtor } } : {}), requestedExecutionDate: date };
  const body = service === 'bulk-payments' ? { ...common, payments: transfers } : { ...transfers[0]!, ...common };
  return { body, messageId, paymentInformationId };
}

function sameAmount(a: string, b: string, currency: string): boolean {
  try {
    return parseAmount(a, currency, 'CtrlSum') === parseAmount(b, currency, 'CtrlSum');
  } catch {
    return false;
  }
}

/** One `CdtTrfTxInf` as the JSON transfer of initiation.ts. */
function transfer(t: Json, path: string): Json {
  const amount = child(child(t, 'Amt'), 'InstdAmt');
  const currency = typeof amount['@_Ccy'] === 'string' ? amount['@_Ccy'] : null;
  const value = typeof amount['#text'] === 'string' ? amount['#text'] : null;
  if (!currency || !value) throw format(`${path}.Amt.InstdAmt`, 'InstdAmt with its Ccy is required.');
  const creditor = child(t, 'Cdtr');
  const address = child(creditor, 'PstlAdr');
  const iban = text(child(child(t, 'CdtrAcct'), 'Id'), 'IBAN');
  const bic = text(child(child(t, 'CdtrAgt'), 'FinInstnId'), 'BIC');
  const remittance = children(child(t, 'RmtInf'), 'Ustrd')
    .map((u) => (typeof u['#text'] === 'string' ? u['#text'] : ''))
    .join(' ')
    .trim();
  const name = text(creditor, 'Nm');
  const endToEnd = text(child(t, 'PmtId'), 'EndToEndId');
  return {
    ...(endToEnd ? { endToEndIdentification: endToEnd } : {}),
    instructedAmount: { currency, amount: value },
    // validate.ts names the missing field: an account without an IBAN is refused there.
    creditorAccount: iban ? { iban } : {},
    ...(bic ? { creditorAgent: bic } : {}),
    ...(name ? { creditorName: name } : {}),
    ...(Object.keys(address).length > 0
      ? {
          creditorAddress: {
            ...(text(address, 'StrtNm') ? { streetName: text(address, 'StrtNm') } : {}),
            ...(text(address, 'BldgNb') ? { buildingNumber: text(address, 'BldgNb') } : {}),
            ...(text(address, 'PstCd') ? { postCode: text(address, 'PstCd') } : {}),
            ...(text(address, 'TwnNm') ? { townName: text(address, 'TwnNm') } : {}),
            ...(text(address, 'Ctry') ? { country: text(address, 'Ctry') } : {}),
          },
        }
      : {}),
    ...(remittance ? { remittanceInformationUnstructured: remittance } : {}),
  };
}

/** `TransactionIndividualStatus3Code` of pain.002.001.03. */
const TX_STATUSES = new Set(['ACTC', 'RJCT', 'PDNG', 'ACCP', 'ACSP', 'ACSC', 'ACWC']);

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });

/**
 * The payment's status as a pain.002.001.03. CANC is not a group status of that version: a
 * cancelled payment reads RJCT with reason DS02 (order cancelled); a refusal for want of funds
 * carries AM04.
 */
export function pain002Xml(payment: SimulatedPayment, status: string, now: number): string {
  const cancelled = status === 'CANC';
  const code = cancelled ? 'RJCT' : status;
  const reason = cancelled ? 'DS02' : status === 'RJCT' && payment.fundsAvailable === false ? 'AM04' : null;
  const reasonInfo = reason ? { StsRsnInf: { Rsn: { Cd: reason } } } : {};
  const xml = payment.xml;
  const transfers = payment.service === 'bulk-payments' ? (payment.body.payments as Json[]) : [payment.body];
  const amounts = transfers.map((t) => (t.instructedAmount as { amount: string }).amount);
  const sum = controlSum(amounts, 'EUR');
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    Document: {
      '@_xmlns': PAIN002_NAMESPACE,
      CstmrPmtStsRpt: {
        GrpHdr: { MsgId: `STS-${payment.paymentId.replaceAll('-', '').slice(0, 30)}`, CreDtTm: new Date(now).toISOString() },
        OrgnlGrpInfAndSts: {
          OrgnlMsgId: xml?.messageId ?? payment.paymentId,
          OrgnlMsgNmId: 'pain.001.001.03',
          OrgnlNbOfTxs: String(transfers.length),
          OrgnlCtrlSum: sum,
          GrpSts: code,
          ...reasonInfo,
        },
        OrgnlPmtInfAndSts: {
          OrgnlPmtInfId: xml?.paymentInformationId ?? payment.paymentId,
          PmtInfSts: code,
          TxInfAndSts: transfers.map((t, i) => ({
            StsId: String(i + 1),
            ...(typeof t.endToEndIdentification === 'string' ? { OrgnlEndToEndId: t.endToEndIdentification } : {}),
            // TxSts has no RCVD in this version: a received payment's transactions carry none.
            ...(TX_STATUSES.has(code) ? { TxSts: code === 'PART' ? 'ACSC' : code } : code === 'PART' ? { TxSts: 'ACSC' } : {}),
          })),
        },
      },
    },
  }) as string;
}
