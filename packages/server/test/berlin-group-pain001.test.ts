/**
 * Issue 22, items 4 and 6: the pain.001 XML payment products (profile `pain001`) against the
 * simulator in its `pain001` mode, with `prism proxy --errors` between connector and simulator,
 * through the core's bank HTTP client (call rows, exchange log) on every database. The bodies are
 * read back as the simulator received them and parsed here on their own: amounts, names, IBANs,
 * dates of single, periodic and bulk payments; pain.002 status answers map to Payrail's states.
 *
 * What Prism checks: every call after the initiation — the status reads on the pain.001 product
 * paths (answered as pain.002 XML, or JSON), the authorisation and cancellation calls — their
 * headers, and the answers' status codes, content types and JSON bodies. What it cannot check:
 * the initiation itself, which bypasses it (startPain001Front in test/support/prism.ts: the file's
 * XML request body is a `oneOf` of four identical `type: string` schemas, so Prism refuses every
 * pain.001 body, and the periodic multipart body likewise); and no XML content anywhere — the file
 * types pain.001 and pain.002 as bare strings and names no XSD. The simulator's own checks
 * (simulator/pain.ts) and this test's own parsing of what the simulator received stand in for it.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBerlinGroupConnector, type BgData } from '../src/connectors/berlin-group/connector.ts';
import { BERLIN_GROUP_SETTINGS } from '../src/connectors/berlin-group/index.ts';
import { pain001Xml, readPain002 } from '../src/connectors/berlin-group/pain.ts';
import { checkOptions } from '../src/connectors/berlin-group/profile.ts';
import { startBerlinGroupSimulator, type BerlinGroupSimulator } from '../src/connectors/berlin-group/simulator/index.ts';
import { createBankHttp, createBankTransport, type BankTransport, type CallRecord } from '../src/connectors/kit/http.ts';
import type { ConfiguredBank, Connector, ConnectorContext, ConnectorOutcome, ConnectorPayment } from '../src/connectors/kit/index.ts';
import { attemptRecorder, settleCalls } from '../src/services/attempts.ts';
import { connectorPayment } from '../src/services/payment-actions.ts';
import { getPayment } from '../src/services/payments.ts';
import { decideOnPage } from './support/bg-requests.ts';
import { describeEachDb, guideBody } from './support/helpers.ts';
import { startPain001Front, startPrismProxy, type Pain001Front, type Prism } from './support/prism.ts';

const PAYER = 'DE02100100109307118603';
const CREDITOR = 'FR7630006000011234567890189';
const RETURN = { ok: 'https://payrail.example/2.0/bank-return/ok?state=7.sig', nok: 'https://payrail.example/2.0/bank-return/nok?state=7.sig' };
const SETTLE_MS = 4_000;
const NS = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03';
/** This test's own reading of the XML: every value text, lists where ISO 20022 repeats. */
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  isArray: (name) => name === 'CdtTrfTxInf',
});
type Node = Record<string, any>;

describeEachDb('Berlin Group pain.001 XML products against the simulator, Prism between', (ctx) => {
  let sim: BerlinGroupSimulator;
  let prism: Prism;
  let front: Pain001Front;
  const transports: BankTransport[] = [];

  beforeAll(async () => {
    sim = await startBerlinGroupSimulator({ clock: ctx().clock, settleAfterMs: SETTLE_MS, pain001: true });
    prism = await startPrismProxy(sim.url);
    front = await startPain001Front(sim.url, prism.url);
  }, 240_000);
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await front?.close();
    await prism?.stop();
    await sim?.close();
  });
  let mark = 0;
  beforeEach(() => {
    sim.faults.clear();
    sim.settings.pain002 = true;
    mark = prism.mark();
  });
  /** Prism logs a response's validation just after answering. */
  async function prismSilent() {
    await new Promise((r) => setTimeout(r, 150));
    expect(prism.problems(mark), prism.log().slice(mark)).toEqual([]);
  }

  let nextBankId = 300;
  function bank(profile: Record<string, unknown> = { pain001: true }): { connector: Connector; transport: BankTransport } {
    const configured: ConfiguredBank = {
      id: nextBankId++,
      uuid: crypto.randomUUID(),
      name: 'Cooperative bank',
      standard: 'berlin-group',
      base_url: front.url,
      country: 'DE',
      bic: null,
      sca_approach: 'redirect',
      profile: { ...checkOptions({ timeout_ms: 5_000, bulk: true, execution_date_types: ['first_open_day', 'instant', 'periodic'], ...profile }, 'redirect') },
      has_client_cert: false,
      has_ca: false,
      has_signing_key: false,
      created_at: 0,
    };
    const transport = createBankTransport(configured, {});
    transports.push(transport);
    return { connector: createBerlinGroupConnector(configured, BERLIN_GROUP_SETTINGS), transport };
  }

  type Instruction = Record<string, unknown>;
  async function payment(instructions?: Instruction[]): Promise<ConnectorPayment> {
    const body = guideBody('first_open_day', { payer: { scheme_name: 'iban', identification: PAYER, label: 'Germaine Michu' } });
    if (instructions) body.instructions = instructions.map((i) => ({ ...body.instructions[0]!, ...i }));
    const id = await ctx().createPayment(body);
    const domain = await ctx().store.db.selectFrom('payments').select('domain_id').where('id', '=', id).executeTakeFirstOrThrow();
    return { ...connectorPayment(await getPayment(ctx().store.db, domain.domain_id, id)), psu_ip_address: '198.51.100.23' };
  }

  const clients: { calls: CallRecord[] }[] = [];
  function context(p: ConnectorPayment, transport: BankTransport): ConnectorContext {
    const c = ctx();
    const http = createBankHttp({ transport, recorder: attemptRecorder(c.store.db), clock: c.clock, paymentId: p.id });
    clients.push(http);
    return { now: c.clock.now(), clock: c.clock, baseUrl: 'https://payrail.example', testStepMs: 1000, sign: (v) => `sig-${v}`, returnUrls: RETURN, http };
  }
  function applied(p: ConnectorPayment, o: ConnectorOutcome | null): ConnectorPayment {
    if (!o) return p;
    const state = o.kind === 'state' ? o.state : o.kind === 'refused' ? 'rejected' : o.kind === 'unknown' ? p.state : 'validating';
    return { ...p, state, data: o.data, bank_payment_id: o.bank_reference ?? p.bank_payment_id, state_detail: o.kind === 'state' ? null : p.state_detail };
  }
  const onPage = async (url: string, decision: 'approve' | 'refuse') => (await decideOnPage(url, decision)).location;
  const simPayment = (p: ConnectorPayment) => sim.payments.get((p.data as BgData).payment_id!)!;
  /** The pain.001 as the simulator received it, parsed here. */
  const received = (p: ConnectorPayment): Node => xmlParser.parse(simPayment(p).xml!.text).Document;
  const exchanges = async (p: ConnectorPayment) => {
    for (const http of clients.splice(0)) await settleCalls(ctx().store.db, http.calls, null);
    return ctx()
      .store.db.selectFrom('bank_calls')
      .innerJoin('bank_exchanges', 'bank_exchanges.call_id', 'bank_calls.id')
      .select(['bank_calls.operation', 'bank_exchanges.path', 'bank_exchanges.request_body', 'bank_exchanges.response_body'])
      .where('bank_calls.payment_id', '=', p.id)
      .orderBy('bank_calls.started_at')
      .execute();
  };
  const start = (connector: Connector, p: ConnectorPayment, transport: BankTransport) =>
    connector.start(p, { fields: {}, validate_mechanism: 'webauth' }, context(p, transport));

  it('single payment: pain.001 on pain.001-sepa-credit-transfers, approved, pain.002 status until ACSC → done; names redacted in the exchange log', async () => {
    const { connector, transport } = bank();
    let p = await payment();
    const started = await start(connector, p, transport);
    expect(started).toMatchObject({ kind: 'redirect' });
    p = applied(p, started);
    const at = simPayment(p);
    expect([at.service, at.product]).toEqual(['payments', 'pain.001-sepa-credit-transfers']);
    const doc = received(p);
    expect(doc['@xmlns']).toBe(NS);
    const { GrpHdr, PmtInf } = doc.CstmrCdtTrfInitn;
    expect(GrpHdr.MsgId).toMatch(/^[0-9a-f]{32}$/);
    expect(GrpHdr).toMatchObject({ CreDtTm: new Date(ctx().clock.now()).toISOString(), NbOfTxs: '1', CtrlSum: '50.90', InitgPty: { Nm: 'Payrail' } });
    expect(PmtInf).toMatchObject({
      PmtInfId: GrpHdr.MsgId,
      PmtMtd: 'TRF',
      NbOfTxs: '1',
      CtrlSum: '50.90',
      PmtTpInf: { SvcLvl: { Cd: 'SEPA' } },
      ReqdExctnDt: '2026-01-15',
      Dbtr: { Nm: 'Germaine Michu' },
      DbtrAcct: { Id: { IBAN: PAYER } },
      ChrgBr: 'SLEV',
    });
    expect(PmtInf.CdtTrfTxInf).toEqual([
      {
        PmtId: { EndToEndId: expect.stringMatching(/^.{1,35}$/) },
        Amt: { InstdAmt: { '#text': '50.90', '@Ccy': 'EUR' } },
        CdtrAgt: { FinInstnId: { BIC: 'AGRIFRPPXXX' } },
        Cdtr: { Nm: 'ACME Corp.' },
        CdtrAcct: { Id: { IBAN: CREDITOR } },
        RmtInf: { Ustrd: 'Test' },
      },
    ]);

    expect(await onPage((started as { validate_uri: string }).validate_uri, 'approve')).toBe(RETURN.ok);
    const back = await connector.bankReturn(p, { result: 'ok' }, context(p, transport));
    expect(back).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACTC' });
    p = applied(p, back);
    ctx().clock.advance(SETTLE_MS);
    expect(await connector.status(p, context(p, transport))).toMatchObject({ kind: 'state', state: 'done', bank_status: 'ACSC' });

    // The initiation went past Prism, the status reads through it.
    expect(front.direct.at(-1)).toBe('POST /v1/payments/pain.001-sepa-credit-transfers');
    expect(front.judged.filter((c) => c.includes(at.paymentId))).toEqual(
      Array(2).fill(`GET /v1/payments/pain.001-sepa-credit-transfers/${at.paymentId}/status`),
    );
    const log = await exchanges(p);
    expect(log.map((e) => `${e.operation} ${e.path}`)).toEqual([
      'initiate /v1/payments/pain.001-sepa-credit-transfers',
      `status /v1/payments/pain.001-sepa-credit-transfers/${at.paymentId}/status`,
      `status /v1/payments/pain.001-sepa-credit-transfers/${at.paymentId}/status`,
    ]);
    // The XML as sent and as answered is in the exchange log, with names and accounts masked.
    expect(log[0]!.request_body).toContain('<Nm>[redacted]</Nm>');
    expect(log[0]!.request_body).not.toContain('ACME');
    expect(log[0]!.request_body).not.toContain('Germaine');
    expect(log[0]!.request_body).not.toContain(PAYER);
    expect(log[2]!.response_body).toContain('<GrpSts>ACSC</GrpSts>');
    await prismSilent();
  });

  it('hostile names stay text; amounts exact in a bulk (CtrlSum 0.10 + 0.20 + 9999999.99), instant product with LclInstrm INST', async () => {
    const { connector, transport } = bank();
    const hostile = 'Evil</Nm><Nm>x & "Sons" ]]> <!-- <![CDATA[';
    const bulk = await payment([
      { amount: '0.10', label: 'first </Ustrd>', beneficiary: { scheme_name: 'iban', identification: CREDITOR, label: hostile } },
      { amount: '0.20', label: 'second' },
      { amount: '9999999.99', label: 'third' },
    ]);
    const started = await start(connector, bulk, transport);
    expect(started).toMatchObject({ kind: 'redirect' });
    const p = applied(bulk, started);
    expect([simPayment(p).service, simPayment(p).product]).toEqual(['bulk-payments', 'pain.001-sepa-credit-transfers']);
    const { GrpHdr, PmtInf } = received(p).CstmrCdtTrfInitn;
    expect([GrpHdr.NbOfTxs, GrpHdr.CtrlSum, PmtInf.NbOfTxs, PmtInf.CtrlSum, PmtInf.BtchBookg]).toEqual(['3', '10000000.29', '3', '10000000.29', 'true']);
    expect(PmtInf.CdtTrfTxInf.map((t: Node) => t.Amt.InstdAmt['#text'])).toEqual(['0.10', '0.20', '9999999.99']);
    // SEPA text (kit/sepa-text.ts) keeps what the scheme allows; nothing of it is markup.
    expect(PmtInf.CdtTrfTxInf[0].Cdtr).toEqual({ Nm: 'Evil /Nm Nm x + Sons -- CDATA' });
    expect(PmtInf.CdtTrfTxInf[0].CdtrAcct.Id.IBAN).toBe(CREDITOR);
    expect(PmtInf.CdtTrfTxInf[0].RmtInf.Ustrd).toBe('first /Ustrd');
    expect(simPayment(p).body.payments).toHaveLength(3);

    const { connector: c2, transport: t2 } = bank();
    const inst = await payment();
    const q = applied(inst, await c2.start({ ...inst, execution_date_type: 'instant' }, { fields: {}, validate_mechanism: 'webauth' }, context(inst, t2)));
    expect(simPayment(q).product).toBe('pain.001-instant-sepa-credit-transfers');
    expect(received(q).CstmrCdtTrfInitn.PmtInf.PmtTpInf).toEqual({ SvcLvl: { Cd: 'SEPA' }, LclInstrm: { Cd: 'INST' } });
    await prismSilent();
  });

  it('periodic payment: multipart xml_sct + json_standingorderType; ReqdExctnDt is the start date', async () => {
    const { connector, transport } = bank();
    let p = await payment([{ execution_date_type: 'periodic', start_date: '2026-02-01', end_date: '2026-12-01', frequency: 'monthly', amount: '19.99' }]);
    const started = await start(connector, p, transport);
    expect(started).toMatchObject({ kind: 'redirect' });
    p = applied(p, started);
    const at = simPayment(p);
    expect([at.service, at.product]).toEqual(['periodic-payments', 'pain.001-sepa-credit-transfers']);
    expect(at.body).toMatchObject({
      startDate: '2026-02-01',
      endDate: '2026-12-01',
      frequency: 'Monthly',
      instructedAmount: { amount: '19.99', currency: 'EUR' },
    });
    const { PmtInf } = received(p).CstmrCdtTrfInitn;
    expect([PmtInf.ReqdExctnDt, PmtInf.CtrlSum, PmtInf.CdtTrfTxInf[0].Amt.InstdAmt['#text']]).toEqual(['2026-02-01', '19.99', '19.99']);
    const [initiation] = await exchanges(p);
    expect(initiation!.request_body).toContain('name="json_standingorderType"');
    expect(initiation!.request_body).toContain('"frequency":"Monthly"');
    await onPage((started as { validate_uri: string }).validate_uri, 'approve');
    expect(await connector.bankReturn(p, { result: 'ok' }, context(p, transport))).toMatchObject({ kind: 'state', state: 'pending', bank_status: 'ACTC' });
    await prismSilent();
  });

  it('pain.002 mapped to Powens codes: AM04 → insufficientFunds, refusal on the page → CancelledByUser, cancellation (RJCT DS02) → CancelledByClient; a JSON status answer is read too', async () => {
    const { connector, transport } = bank();
    let funds = await payment();
    funds = applied(funds, await start(connector, funds, transport));
    sim.ledger.force(simPayment(funds), 'RJCT', false);
    expect(await connector.status(funds, context(funds, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'insufficientFunds',
      bank_status: 'RJCT',
    });

    let refused = await payment();
    const started = await start(connector, refused, transport);
    refused = applied(refused, started);
    expect(await onPage((started as { validate_uri: string }).validate_uri, 'refuse')).toBe(RETURN.nok);
    expect(await connector.bankReturn(refused, { result: 'nok' }, context(refused, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'CancelledByUser',
    });

    let cancelled = await payment();
    cancelled = applied(cancelled, await start(connector, cancelled, transport));
    expect(await connector.cancel(cancelled, context(cancelled, transport))).toMatchObject({
      kind: 'state',
      state: 'rejected',
      error_code: 'CancelledByClient',
      bank_status: 'RJCT',
    });
    const log = await exchanges(cancelled);
    expect(log.at(-1)!.response_body).toMatch(/<Cd>DS02<\/Cd>/);

    sim.settings.pain002 = false;
    let json = await payment();
    const jsonStart = await start(connector, json, transport);
    json = applied(json, jsonStart);
    await onPage((jsonStart as { validate_uri: string }).validate_uri, 'approve');
    expect(await connector.bankReturn(json, { result: 'ok' }, context(json, transport))).toMatchObject({
      kind: 'state',
      state: 'pending',
      bank_status: 'ACTC',
    });
    expect((await exchanges(json)).at(-1)!.response_body).toContain('"transactionStatus":"ACTC"');
    await prismSilent();
  });

  it('the simulator in pain001 mode refuses JSON products, and pain.001 messages that do not add up', async () => {
    const json = bank({});
    const p = await payment();
    expect(await start(json.connector, p, json.transport)).toMatchObject({ kind: 'refused' });
    expect(sim.received.calls.at(-1)).toMatchObject({ path: '/v1/payments/sepa-credit-transfers' });

    const xml = (body: string) =>
      fetch(`${sim.url}/v1/payments/pain.001-sepa-credit-transfers`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/xml', 'X-Request-ID': crypto.randomUUID(), 'PSU-IP-Address': '198.51.100.23', 'TPP-Redirect-URI': RETURN.ok },
        body,
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as { tppMessages: { code: string; path?: string }[] } }));
    const good = simPayment(applied(p, await start(bank().connector, p, transports.at(-1)!))).xml!.text;
    expect((await xml(good)).status).toBe(201);
    expect((await xml(good.replace('Ccy="EUR">50.90<', 'Ccy="EUR">50,90<'))).json.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR' });
    expect((await xml(good.replaceAll('<CtrlSum>50.90</CtrlSum>', '<CtrlSum>50.91</CtrlSum>'))).json.tppMessages[0]).toMatchObject({
      code: 'PARAMETER_NOT_CONSISTENT',
      path: 'GrpHdr.CtrlSum',
    });
    expect((await xml(good.replace(NS, 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'))).json.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR' });
    expect((await xml(`<!DOCTYPE d [<!ENTITY a "aaaa">]>${good.replace('<?xml version="1.0" encoding="UTF-8"?>', '')}`)).status).toBe(400);
    expect((await xml(good.replace(/<IBAN>FR[^<]+<\/IBAN>|<IBAN>(?!DE02)[^<]+<\/IBAN>/, '<IBAN>DE00123</IBAN>'))).json.tppMessages[0]).toMatchObject({
      code: 'FORMAT_ERROR',
    });
  });
});

describe('pain.001 writing', () => {
  it('every value is escaped by the library: markup, entities and CDATA in a name or a reference stay text; XML-illegal characters are dropped', () => {
    const hostile = 'A</Nm><Nm>B & "C" \'D\' <![CDATA[x]]> &amp; \u0001\u0008';
    const xml = pain001Xml(
      'payments',
      'sepa-credit-transfers',
      {
        endToEndIdentification: '<E2E>&',
        instructedAmount: { currency: 'EUR', amount: '0.01' },
        creditorAccount: { iban: CREDITOR },
        creditorName: hostile,
        remittanceInformationUnstructured: ']]></Ustrd>',
        debtorAccount: { iban: PAYER },
      },
      { messageId: 'm-1', now: Date.UTC(2026, 0, 15, 10), debtorName: '<Dbtr/>', initiatingParty: 'Payrail & Co' },
    );
    expect(xml).toContain('<Nm>A&lt;/Nm&gt;&lt;Nm&gt;B &amp;');
    expect([xml.includes('\u0001'), xml.includes('\u0008')]).toEqual([false, false]);
    const doc = xmlParser.parse(xml).Document.CstmrCdtTrfInitn;
    expect(doc.GrpHdr).toMatchObject({ CreDtTm: '2026-01-15T10:00:00.000Z', CtrlSum: '0.01', InitgPty: { Nm: 'Payrail & Co' } });
    expect(doc.PmtInf.Dbtr).toEqual({ Nm: '<Dbtr/>' });
    expect(doc.PmtInf.CdtTrfTxInf[0]).toMatchObject({
      PmtId: { EndToEndId: '<E2E>&' },
      Cdtr: { Nm: 'A</Nm><Nm>B & "C" \'D\' <![CDATA[x]]> &amp;' },
      RmtInf: { Ustrd: ']]></Ustrd>' },
    });
  });
});

describe('pain.002 reading', () => {
  const report = (inner: string, prefix = '') =>
    `<?xml version="1.0"?><${prefix}Document xmlns${prefix ? `:${prefix.slice(0, -1)}` : ''}="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><${prefix}CstmrPmtStsRpt>${inner}</${prefix}CstmrPmtStsRpt></${prefix}Document>`;

  it('group status first, then the payment information, then the transactions (mixed with a rejection: PART)', () => {
    expect(readPain002(report('<OrgnlGrpInfAndSts><GrpSts>ACSP</GrpSts></OrgnlGrpInfAndSts>'))).toMatchObject({ transactionStatus: 'ACSP', reason: null });
    expect(readPain002(report('<OrgnlPmtInfAndSts><PmtInfSts>ACTC</PmtInfSts></OrgnlPmtInfAndSts>'))?.transactionStatus).toBe('ACTC');
    const mixed = report(
      '<OrgnlPmtInfAndSts><TxInfAndSts><OrgnlEndToEndId>a</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts>' +
        '<TxInfAndSts><OrgnlEndToEndId>b</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>Account closed</AddtlInf></StsRsnInf></TxInfAndSts></OrgnlPmtInfAndSts>',
    );
    expect(readPain002(mixed)).toMatchObject({
      transactionStatus: 'PART',
      reason: 'AC04',
      reasonText: 'Account closed',
      transactions: [
        { endToEndId: 'a', status: 'ACSC', reason: null },
        { endToEndId: 'b', status: 'RJCT', reason: 'AC04' },
      ],
    });
    // A rejection beside a transfer still on its way is not yet PART (a final state): no status, asked again.
    const pending = report(
      '<OrgnlPmtInfAndSts><TxInfAndSts><OrgnlEndToEndId>a</OrgnlEndToEndId><TxSts>ACSP</TxSts></TxInfAndSts>' +
        '<TxInfAndSts><OrgnlEndToEndId>b</OrgnlEndToEndId><TxSts>RJCT</TxSts></TxInfAndSts></OrgnlPmtInfAndSts>',
    );
    expect(readPain002(pending)?.transactionStatus).toBeNull();
  });

  it('a namespace prefix is read like the default namespace; a DOCTYPE, a bad code or another document is not a pain.002', () => {
    expect(
      readPain002(
        report('<p:OrgnlGrpInfAndSts><p:GrpSts>RJCT</p:GrpSts><p:StsRsnInf><p:Rsn><p:Cd>AM04</p:Cd></p:Rsn></p:StsRsnInf></p:OrgnlGrpInfAndSts>', 'p:'),
      ),
    ).toMatchObject({
      transactionStatus: 'RJCT',
      reason: 'AM04',
    });
    expect(readPain002(`<!DOCTYPE x [<!ENTITY e "e">]>${report('<OrgnlGrpInfAndSts><GrpSts>ACSC</GrpSts></OrgnlGrpInfAndSts>')}`)).toBeNull();
    expect(readPain002(report('<OrgnlGrpInfAndSts><GrpSts>1.5</GrpSts></OrgnlGrpInfAndSts>'))?.transactionStatus).toBeNull();
    expect(readPain002('<html><body>Service unavailable</body></html>')).toBeNull();
    expect(readPain002('<Document><CstmrPmtStsRpt>')).toBeNull();
  });
});
