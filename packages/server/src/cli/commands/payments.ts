/** `payrail payments list|get|cancel`: the payments of a domain, read straight from the database. */
import type { Command } from 'commander';
import { ApiError } from '../../domain/errors.ts';
import { isFinal } from '../../domain/states.ts';
import { formatMinorUnits } from '../../domain/money.ts';
import { cancelPaymentByClient } from '../../services/payment-actions.ts';
import { getPayment, type ListQuery, listPayments, paymentView } from '../../services/payments.ts';
import { cliActionEnvironment } from '../action-environment.ts';
import { jsonOption, printData, table } from '../output.ts';
import { examples } from '../runtime.ts';
import { domainIdOf, domainOption, parseId, storeOptions, withStore } from '../store-options.ts';

/** The filters of `GET /2.0/payments`, as --flags (same names with dashes, same values). */
const LIST_FILTERS: (keyof ListQuery)[] = [
  'limit',
  'offset',
  'reverse',
  'filter',
  'min_date',
  'max_date',
  'state',
  'connector_uuid',
  'id_connector',
  'id_connector_source',
  'error_code',
  'bank_payment_id',
  'website',
  'payer_identification',
  'beneficiary_identification',
  'reference_id',
  'execution_date_type',
  'order_by',
  'country',
];

function sub(parent: Command, name: string, description: string): Command {
  return jsonOption(domainOption(storeOptions(parent.command(name).description(description)))).option(
    '--show-sensitive',
    'include payer and beneficiary identities',
  );
}

type View = Record<string, unknown>;

function summaryRows(views: View[], records: { payment: { total_minor: number; currency: string } }[]): string {
  return table(
    ['ID', 'STATE', 'AMOUNT', 'CLIENT_STATE', 'REGISTERED'],
    views.map((v, i) => {
      const { total_minor, currency } = records[i]!.payment;
      return [v.id as number, v.state as string, `${formatMinorUnits(total_minor, currency)} ${currency}`, v.client_state as string, v.register_date as string];
    }),
  );
}

export function registerPayments(program: Command): void {
  const payments = program.command('payments').description('list, read and cancel payments');
  examples(payments, 'payrail payments list --state done --limit 20', 'payrail payments get 42 --json', 'payrail payments cancel 42');

  const list = sub(payments, 'list', 'list payments with the filters of GET /2.0/payments');
  for (const filter of LIST_FILTERS) list.option(`--${filter.replaceAll('_', '-')} <VALUE>`, `the API's ${filter} parameter`);
  list.action(async (options: Record<string, string | boolean | undefined>, cmd: Command) => {
    const query: ListQuery = {};
    for (const filter of LIST_FILTERS) {
      const value = options[filter.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
      if (typeof value === 'string') query[filter] = value;
    }
    const result = await withStore(cmd, async (store) => listPayments(store.db, await domainIdOf(cmd, store), query));
    const views = result.records.map((r) => paymentView(r.payment, r.instructions, Boolean(options.showSensitive)));
    printData(
      cmd,
      { payments: views, total: result.total },
      (data) => `${summaryRows(data.payments, result.records)}${data.payments.length} of ${data.total} payments\n`,
    );
  });
  examples(
    list,
    'payrail payments list',
    'payrail payments list --state done,rejected --order-by amount --reverse true --limit 20',
    'payrail payments list --min-date 2026-12-01 --json | jq ".payments[].id"',
  );

  const get = sub(payments, 'get', 'show one payment (the API view)')
    .argument('<ID>', 'the payment id', parseId('ID'))
    .action(async (id: number, options: { showSensitive?: boolean }, cmd: Command) => {
      const record = await withStore(cmd, async (store) => getPayment(store.db, await domainIdOf(cmd, store), id));
      printData(cmd, paymentView(record.payment, record.instructions, Boolean(options.showSensitive)));
    });
  examples(get, 'payrail payments get 42', 'payrail payments get 42 --json | jq .state');

  const cancel = sub(
    payments,
    'cancel',
    'cancel a payment as the client would: created or validating → rejected (CancelledByClient); pending → at its bank, where the bank allows it',
  )
    .argument('<ID>', 'the payment id', parseId('ID'))
    .action(async (id: number, options: { showSensitive?: boolean }, cmd: Command) => {
      const view = await withStore(cmd, async (store, config) => {
        const domainId = await domainIdOf(cmd, store);
        const before = await getPayment(store.db, domainId, id);
        if (isFinal(before.payment.state)) throw new ApiError('invalidState', `the payment is ${before.payment.state} and cannot be cancelled`);
        // Pending payments are cancelled at their bank; one that needs the payer's approval sends them back to the payment's own redirect URI.
        await cancelPaymentByClient(await cliActionEnvironment(store, config), before, { client_redirect_uri: before.payment.client_redirect_uri });
        const record = await getPayment(store.db, domainId, id);
        return paymentView(record.payment, record.instructions, Boolean(options.showSensitive));
      });
      printData(cmd, view, (v) => `payment ${v.id} is ${v.state} (${v.error_code})`);
    });
  examples(cancel, 'payrail payments cancel 42', 'payrail payments cancel 42 --json');
}
