/**
 * What differs between the two UK Open Banking versions Payrail speaks (spec/obie/, the v4.0.0 and
 * v3.1.11 OpenAPI files): status words (v3) or ISO 20022 codes (v4), error codes (`UK.OBIE.*` or
 * U000–U042), the shape of `RemittanceInformation`, the Risk block's names and the payment
 * context codes. A bank speaks one version (`api_version` in its profile).
 */
export const API_VERSIONS = ['4.0', '3.1.11'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export const isV4 = (version: ApiVersion): boolean => version === '4.0';

/** The resource kinds Payrail initiates: single immediate, single future-dated, standing order. */
export type ResourceKind = 'domestic' | 'scheduled' | 'standing-order';

export interface ResourcePaths {
  consents: string;
  payments: string;
  /** The payment resource's id field in answers. */
  idField: string;
}

export const RESOURCES: Record<ResourceKind, ResourcePaths> = {
  domestic: { consents: '/domestic-payment-consents', payments: '/domestic-payments', idField: 'DomesticPaymentId' },
  scheduled: { consents: '/domestic-scheduled-payment-consents', payments: '/domestic-scheduled-payments', idField: 'DomesticScheduledPaymentId' },
  'standing-order': { consents: '/domestic-standing-order-consents', payments: '/domestic-standing-orders', idField: 'DomesticStandingOrderId' },
};

/** Consent statuses: v3 words, v4 codes (OBInternalConsentStatus). */
export const CONSENT_STATUS = {
  '3.1.11': { awaiting: 'AwaitingAuthorisation', authorised: 'Authorised', consumed: 'Consumed', rejected: 'Rejected' },
  '4.0': { awaiting: 'AWAU', authorised: 'AUTH', consumed: 'COND', rejected: 'RJCT' },
} as const;

/** `Risk.PaymentContextCode` values each version's file allows. */
export const PAYMENT_CONTEXT_CODES: Record<ApiVersion, readonly string[]> = {
  '4.0': [
    'BillingGoodsAndServicesInAdvance',
    'BillingGoodsAndServicesInArrears',
    'EcommerceMerchantInitiatedPayment',
    'FaceToFacePointOfSale',
    'TransferToSelf',
    'TransferToThirdParty',
  ],
  '3.1.11': [
    'BillingGoodsAndServicesInAdvance',
    'BillingGoodsAndServicesInArrears',
    'PispPayee',
    'EcommerceMerchantInitiatedPayment',
    'FaceToFacePointOfSale',
    'TransferToSelf',
    'TransferToThirdParty',
    'BillPayment',
    'EcommerceGoods',
    'EcommerceServices',
    'Other',
    'PartyToParty',
  ],
};

/** An e-commerce purchase, in each version's words. */
export const DEFAULT_PAYMENT_CONTEXT: Record<ApiVersion, string> = { '4.0': 'BillingGoodsAndServicesInAdvance', '3.1.11': 'EcommerceGoods' };

/** The API root a bank serves a version under (the official files' `servers`). */
export const API_ROOT: Record<ApiVersion, string> = { '4.0': '/open-banking/v4.0/pisp', '3.1.11': '/open-banking/v3.1/pisp' };
