/**
 * Route schemas: the one source of request validation, OpenAPI and (later) SDK types.
 * They check shape and bounds; the domain modules check the payment rules and name the field.
 */
import { Type, type TSchema } from 'typebox';
import { ACCOUNT_SCHEMES } from '../domain/accounts.ts';
import { IDENTITY_KINDS, IDENTITY_SCHEMES } from '../domain/identity.ts';
import { EXECUTION_DATE_TYPES, EXECUTION_FREQUENCIES, MAX_INSTRUCTIONS } from '../domain/payment-request.ts';
import { SCOPES } from '../domain/scopes.ts';
import { PAYMENT_STATES } from '../domain/states.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Opt = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));
const Enum = (values: readonly string[], options: Record<string, unknown> = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
const Text = (maxLength: number, options: Record<string, unknown> = {}) => Type.String({ maxLength, ...options });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Machine-readable error code (see docs/errors.md).' }),
    description: Type.String({ description: 'Technical description; names the offending field first when there is one.' }),
    message: Nullable(Type.String({ description: 'Text from the bank or provider meant for end users, if any.' })),
    request_id: Type.Integer({ description: 'Identifier of the request, for support and logs.' }),
    field: Type.Optional(Type.String({ description: 'The offending field, as a path such as instructions[0].amount.' })),
  },
  { $id: 'Error', title: 'Error' },
);

const errorResponses = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, { $ref: 'Error#' }]));

export const AccountRequest = Type.Object(
  {
    scheme_name: Enum(ACCOUNT_SCHEMES, { description: 'Account scheme.' }),
    identification: Text(64, { description: 'IBAN, or UK sort code followed by account number (14 digits).' }),
    label: Opt(Text(140, { description: 'Account holder name (required for a beneficiary).' })),
    issuer: Opt(Text(11, { description: 'BIC, with the iban scheme.' })),
  },
  { title: 'PaymentAccount' },
);

/** A beneficiary: a PaymentAccount with an optional postal address (Payrail extension, docs/compatibility.md). */
export const BeneficiaryRequest = Type.Object(
  {
    ...AccountRequest.properties,
    postal_address: Opt(
      Type.Object(
        {
          country: Text(2, { description: 'ISO 3166-1 alpha-2 code (required).' }),
          street_name: Opt(Text(70)),
          building_number: Opt(Text(16)),
          post_code: Opt(Text(16)),
          town_name: Opt(Text(35)),
        },
        {
          description:
            "Payrail extension: the beneficiary's postal address, sent to banks that ask for it (Berlin Group creditorAddress). Powens has no structured address on a PaymentAccount.",
        },
      ),
    ),
  },
  { title: 'BeneficiaryAccount' },
);

const identityProperties = {
  id_user: Opt(Type.Integer()),
  kind: Opt(Enum(IDENTITY_KINDS)),
  external_ref: Opt(Text(255)),
  first_name: Opt(Text(255)),
  last_name: Opt(Text(255)),
  birth_city: Opt(Text(255)),
  birth_country: Opt(Text(2, { description: 'ISO 3166-1 alpha-2.' })),
  birth_date: Opt(Type.String({ description: 'YYYY-MM-DD', maxLength: 10 })),
  nationality: Opt(Text(255)),
  postal_address: Opt(Text(512)),
  email: Opt(Text(255)),
  scheme_name: Opt(Enum(Object.keys(IDENTITY_SCHEMES))),
  identification: Opt(Text(255)),
  issuer: Opt(Text(255)),
  ultimate_owner_text: Opt(Text(1024)),
  ultimate_owner_extra_text: Opt(Text(4096)),
  pep: Opt(Type.Boolean()),
  org_name: Opt(Text(255)),
  org_legal_status: Opt(Text(128)),
  org_hq_address: Opt(Text(512)),
  org_business_address: Opt(Text(512)),
};
export const IdentityRequest = Type.Object(identityProperties, { title: 'Identity' });

// String first: the JSON parser hands amounts over as their exact decimal text, and Ajv must not coerce it to a float.
const Amount = Type.Union([Type.String({ maxLength: 40 }), Type.Number({ exclusiveMinimum: 0 })], {
  description: 'Amount as a decimal number (or decimal string) in the currency unit; no more decimals than the currency has.',
});

export const InstructionRequest = Type.Object(
  {
    reference_id: Opt(Text(31, { description: 'End-to-end id (≤ 31, ≤ 18 for UK); generated when absent.' })),
    amount: Amount,
    currency: Text(3, { description: 'ISO 4217 code.' }),
    label: Text(140, { description: 'Remittance information (≤ 140, ≤ 18 for UK accounts).' }),
    execution_date_type: Enum(EXECUTION_DATE_TYPES),
    execution_date: Opt(Type.String({ maxLength: 10, description: 'YYYY-MM-DD (UTC), future; deferred only.' })),
    beneficiary: BeneficiaryRequest,
    beneficiary_identity: Opt(IdentityRequest),
    start_date: Opt(Type.String({ maxLength: 10, description: 'periodic only.' })),
    end_date: Opt(Type.String({ maxLength: 10, description: 'periodic only.' })),
    frequency: Opt(Type.String({ maxLength: 20, description: `periodic only: ${EXECUTION_FREQUENCIES.join(', ')}` })),
  },
  { title: 'PaymentInstructionRequest' },
);

export const PaymentInitRequest = Type.Object(
  {
    client_redirect_uri: Text(2048, { description: 'Registered redirect URI, without query string.' }),
    client_state: Opt(Text(2000)),
    instructions: Type.Array(InstructionRequest, { minItems: 1, maxItems: MAX_INSTRUCTIONS }),
    connector_uuid: Opt(Text(64)),
    id_connector: Opt(Type.Integer({ description: 'Deprecated.' })),
    payer: Opt(AccountRequest),
    payer_identity: Opt(IdentityRequest),
    operator_identity: Opt(IdentityRequest),
  },
  { title: 'PaymentInitRequest' },
);

const CurrencyResponse = Type.Object({
  id: Type.String(),
  symbol: Type.String(),
  prefix: Type.Boolean(),
  crypto: Type.Boolean(),
  precision: Type.Integer(),
  marketcap: Type.Null(),
  datetime: Type.Null(),
  name: Type.String(),
});

const AccountResponse = Type.Object({
  id: Type.Integer({ description: "The account record's id: for a beneficiary its instruction's id, for the payer the payment's." }),
  scheme_name: Enum(ACCOUNT_SCHEMES),
  identification: Type.String(),
  label: Nullable(Type.String()),
  issuer: Nullable(Type.String({ description: 'BIC: as given, else from the IBAN/BIC directory (AT, BE, DE, ES, FR, LU, NL), else null.' })),
  bic: Nullable(Type.String({ description: 'Copy of issuer.' })),
  id_account: Type.Null(),
  disabled_date: Type.Null(),
  merchant_scheme_name: Type.Null(),
  merchant_identification: Type.Null(),
});

const IdentityResponse = Type.Object(Object.fromEntries(Object.entries(identityProperties).filter(([k]) => k !== 'id_user')), {
  description: 'Sensitive fields are only present with show_sensitive=true.',
});

const InstructionResponse = Type.Object({
  id: Type.Integer(),
  reference_id: Type.String(),
  amount: Type.Number({ description: 'Printed with 10 decimals, e.g. 50.9000000000.' }),
  currency: CurrencyResponse,
  label: Type.String(),
  execution_date_type: Enum(EXECUTION_DATE_TYPES),
  execution_date: Nullable(Type.String()),
  exec_date: Type.Null(),
  start_date: Nullable(Type.String()),
  end_date: Nullable(Type.String()),
  frequency: Nullable(Type.String()),
  beneficiary: AccountResponse,
  beneficiary_identity: Nullable(IdentityResponse),
  state: Nullable(Type.String({ description: 'pending, rejected, done or accepted (bulk).' })),
});

export const PaymentResponse = Type.Object(
  {
    id: Type.Integer(),
    state: Type.String({ description: `One of ${PAYMENT_STATES.join(', ')} (clients should accept new values).` }),
    state_detail: Nullable(Type.String()),
    action: Nullable(Type.String()),
    error_code: Nullable(Type.String()),
    error_description: Nullable(Type.String()),
    fields: Type.Array(Type.Object({ name: Type.String() }, { additionalProperties: true })),
    validate_uri: Nullable(Type.String()),
    connector_uuid: Nullable(Type.String()),
    id_connector: Nullable(Type.Integer()),
    id_connector_source: Nullable(Type.Integer()),
    validate_mechanism: Nullable(Type.String()),
    register_date: Type.String({ description: 'YYYY-MM-DD HH:MM:SS (UTC)' }),
    validate_date: Nullable(Type.String()),
    bank_payment_id: Nullable(Type.String()),
    website: Nullable(Type.String()),
    country: Type.String({ description: 'Country of the payer account if known, else of the first beneficiary.' }),
    client_redirect_uri: Nullable(Type.String()),
    client_state: Nullable(Type.String()),
    payer: Nullable(AccountResponse),
    payer_identity: Nullable(IdentityResponse),
    operator_identity: Nullable(IdentityResponse),
    instructions: Type.Array(InstructionResponse),
  },
  { $id: 'Payment', title: 'Payment' },
);

export const PaymentListResponse = Type.Object({
  payments: Type.Array({ $ref: 'Payment#' }),
  total: Type.Integer({ description: 'Number of payments matching the filters, before limit and offset.' }),
});

const ScopeParam = Type.Union([Type.String({ maxLength: 512 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 })], {
  description: `One scope or several (array, or a space-separated string). Known: ${SCOPES.join(', ')}.`,
});

export const TokenRequestBody = Type.Object({
  grant_type: Type.String({ maxLength: 64, description: 'client_credentials' }),
  client_id: Type.String({ maxLength: 200 }),
  client_secret: Type.String({ maxLength: 1024 }),
  scope: ScopeParam,
});

export const TokenResponse = Type.Object({
  token: Type.String(),
  scope: Type.String({ description: 'Granted scopes, space-separated.' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds (1800).' }),
});

export const ScopedTokenRequest = Type.Object({ scope: ScopeParam });
export const ScopedTokenResponse = Type.Object({
  token: Type.String(),
  scope: Type.String(),
  id_payment: Type.Integer(),
  expires_in: Type.Integer({ description: 'Seconds (604800 = 7 days).' }),
});

export const PaymentIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$', description: 'Payment id.' }) });
export const ShowSensitiveQuery = Type.Object({ show_sensitive: Type.Optional(Type.String({ description: 'true to include sensitive identity fields.' })) });

const q = (description: string) => Type.Optional(Type.String({ maxLength: 512, description }));
export const ListPaymentsQuery = Type.Object({
  show_sensitive: q('true to include sensitive identity fields.'),
  limit: q(
    'Maximum number of results (1–1000, default 1000). A page also stops at 5,000 instructions in all (bulk payments): continue at offset + payments.length.',
  ),
  offset: q('First result offset (default 0).'),
  reverse: q('true for descending order.'),
  filter: q('Which date min_date/max_date apply to: register_date (default) or validate_date.'),
  min_date: q('Inclusive lower bound, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC).'),
  max_date: q('Exclusive upper bound, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC).'),
  connector_uuid: q('Connector UUID; the literal null selects payments without a connector.'),
  id_connector: q('Connector id; null selects payments without a connector.'),
  id_connector_source: q('Connector source id; null selects payments without one.'),
  state: q('Payment state (comma-separated for several).'),
  error_code: q('Payment error code.'),
  bank_payment_id: q('Bank-side payment id.'),
  website: q('Value of the website field.'),
  payer_identification: q('payer.identification'),
  beneficiary_identification: q("An instruction's beneficiary.identification."),
  reference_id: q("An instruction's reference_id."),
  execution_date_type: q('Execution date type (comma-separated for several).'),
  order_by: q('id, register_date (default), validate_date, state, connectors, amount, instruction_count or execution_date_type.'),
  country: q('Comma-separated ISO 3166 alpha-2 codes.'),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Replays the first response for the same key and body for 24 hours.' })),
});

export { errorResponses };
