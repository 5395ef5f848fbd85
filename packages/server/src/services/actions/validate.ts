/**
 * created → validating: the payer chose a bank (PaymentValidateRequest, docs/reference/powens-pay-api.md §4.2). CHECK (pure,
 * payment-checks.ts) → claim and open a new attempt (the writer) → ATTEMPT (the connector's bank
 * calls) → APPLY. An initiation is claimed before it is sent, so two processes never send the same
 * one; an unknown initiation is never re-sent (a fresh one, where the bank allows it, is a new attempt).
 */
import { invalid, missing } from '../../domain/errors.ts';
import type { AccountInput } from '../../domain/accounts.ts';
import type { Connector, PsuHttp } from '../../connectors/kit/types.ts';
import type { InstructionRow, PaymentRow } from '../../store/schema.ts';
import type { Attempted } from '../attempts.ts';
import { claimInitiation, releaseInitiation } from '../payment-changes.ts';
import { checkCanInitiate, checkCompatible, checkConnectorFields, checkMechanism, checkPayer, checkWebviewUrl, psuIpAddress } from '../payment-checks.ts';
import { getPayment, type PaymentRecord } from '../payments.ts';
import { applyAttemptRecord } from './apply.ts';
import type { Turn } from '../turns.ts';
import { type ActionEnvironment, atBank, connectorPayment, takeTurn } from './context.ts';

export interface ValidateBody {
  validate_mechanism?: string | null;
  validation_mechanism?: string | null;
  webview_url?: string | null;
  connector_uuid?: string | null;
  id_connector?: number | null;
  fields?: Record<string, unknown> | null;
  website?: string | null;
  payer?: AccountInput | null;
  validated?: boolean | null;
}

async function chosenConnector(env: ActionEnvironment, payment: PaymentRow, body: ValidateBody): Promise<Connector> {
  let connector: Connector | undefined;
  if (body.connector_uuid) {
    connector = await env.connectors.byUuid(body.connector_uuid);
    if (!connector) throw invalid('connector_uuid', 'unknown connector');
  } else if (body.id_connector !== undefined && body.id_connector !== null) {
    connector = await env.connectors.byId(body.id_connector);
    if (!connector) throw invalid('id_connector', 'unknown connector');
  } else if (payment.connector_uuid) {
    connector = await env.connectors.byUuid(payment.connector_uuid);
  }
  if (!connector) throw missing('connector_uuid');
  if (payment.connector_uuid && payment.connector_uuid !== connector.descriptor.uuid)
    throw invalid('connector_uuid', 'the payment was created for another connector');
  return connector;
}

/**
 * `psu`: the payer's address and browser request, from our webview only (`http` is passed to the
 * connector for the bank's `PSU-*` headers and never stored). `read`: the payment as the caller has just
 * read it in its turn (services/turns.ts; the claim is guarded by that version, so a stale read only
 * makes it fail), to read it once per request: the work before the bank call goes on in that turn,
 * and the work after it in a turn of the other lane. Answers the payment and its instructions as
 * the validation left them (what `POST /2.0/payments/{id}` answers, without reading them again).
 */
export async function validatePayment(
  env: ActionEnvironment,
  domainId: number,
  paymentId: number,
  body: ValidateBody,
  redirectUris: readonly string[],
  psu: { ip: string | null; http?: PsuHttp | null } | null = null,
  read?: { record: PaymentRecord; turn: Turn },
): Promise<{ payment: PaymentRow; instructions: readonly InstructionRow[] }> {
  // The work before the bank call, in this validation's turn (services/turns.ts): the caller's, when it read the payment in it.
  const before = read?.turn ?? (await takeTurn(env, 'before'));
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(env, domainId, paymentId, body, redirectUris, psu, read?.record);
  } catch (error) {
    before.end();
    throw error;
  }
  const { record, connector, claimed, snapshot, fields, mechanism, webview_url, payer, payerJson, withPayer } = prepared;
  const { payment } = record;
  let attempted: Attempted;
  try {
    // The turn goes on until the first bank call's record is written, just before the call leaves.
    attempted = await atBank(
      env,
      connector,
      snapshot,
      claimed.attempt,
      (ctx) => connector.start(snapshot, { fields, validate_mechanism: mechanism }, ctx),
      () => before.end(),
    );
  } catch (error) {
    before.end();
    // Nothing reached the bank: release the claim.
    await releaseInitiation(env.db, payment, claimed.payment, claimed.attempt);
    throw error;
  }
  before.end(); // a connector that made no bank call (the test bank) ends it here
  // APPLY, in a turn of the other lane
  const after = await takeTurn(env, 'after');
  try {
    const applied = await applyAttemptRecord(
      env,
      claimed.payment,
      claimed.attempt,
      attempted,
      'initiate',
      {
        connector_uuid: connector.descriptor.uuid,
        id_connector: connector.descriptor.id,
        validate_mechanism: mechanism,
        webview_url,
        payer: payerJson,
        payer_identification: payer?.identification ?? payment.payer_identification,
        website: typeof body.website === 'string' ? body.website.slice(0, 255) : payment.website,
        psu_ip_address: withPayer.payment.psu_ip_address,
      },
      record.instructions,
    );
    return { payment: applied.payment, instructions: applied.instructions ?? record.instructions };
  } finally {
    after.end();
  }
}

/** CHECK (pure), then claim the payment and open its attempt: what is done before the bank call. */
async function prepare(
  env: ActionEnvironment,
  domainId: number,
  paymentId: number,
  body: ValidateBody,
  redirectUris: readonly string[],
  psu: { ip: string | null; http?: PsuHttp | null } | null,
  read: PaymentRecord | undefined,
) {
  const record = read ?? (await getPayment(env.db, domainId, paymentId));
  const { payment } = record;
  // CHECK
  const connector = await chosenConnector(env, payment, body).catch((error) => {
    checkCanInitiate(payment, null, env.clock.now()); // the state error first, as before
    throw error;
  });
  checkCanInitiate(payment, connector, env.clock.now());
  const webview_url = checkWebviewUrl(body.webview_url, env.baseUrl, redirectUris);
  const mechanism = body.validate_mechanism ?? body.validation_mechanism ?? 'webauth';
  checkMechanism(connector, mechanism);
  const payer = checkPayer(payment, body.payer, connector);
  const payerJson = payer ? JSON.stringify(payer) : payment.payer;
  const withPayer: PaymentRecord = { ...record, payment: { ...payment, payer: payerJson, psu_ip_address: psuIpAddress(psu?.ip) } };
  checkCompatible(withPayer, connector, env.clock.now());
  const fields = checkConnectorFields(connector, body.fields);

  // ATTEMPT, after claiming the payment and opening its attempt
  const claimed = await claimInitiation(env.db, env.clock, payment, {
    connector_uuid: connector.descriptor.uuid,
    bank_id: connector.bank?.id ?? null,
    claimed_by: env.instanceId ?? null,
  });
  const snapshot = connectorPayment(withPayer, claimed.attempt);
  snapshot.state_detail = null;
  snapshot.psu_http = psu?.http ?? null;
  return { record, connector, claimed, snapshot, fields, mechanism, webview_url, payer, payerJson, withPayer };
}
