/**
 * API paths, relative to the bank's base URL (everything before `/v1`). They are always built from
 * our own record of service, product and ids, never taken from links the bank returns (§4): a link
 * may carry another host, a wrong prefix or a missing product segment.
 */
import type { CalledProduct, PaymentService } from './initiation.ts';

export interface PaymentRef {
  service: PaymentService;
  product: CalledProduct;
  paymentId: string;
}

const seg = (value: string) => encodeURIComponent(value);

export const paths = {
  initiate: (service: PaymentService, product: CalledProduct) => `/v1/${service}/${product}`,
  payment: (p: PaymentRef) => `/v1/${p.service}/${p.product}/${seg(p.paymentId)}`,
  status: (p: PaymentRef) => `${paths.payment(p)}/status`,
  authorisations: (p: PaymentRef) => `${paths.payment(p)}/authorisations`,
  authorisation: (p: PaymentRef, authorisationId: string) => `${paths.authorisations(p)}/${seg(authorisationId)}`,
  cancellationAuthorisations: (p: PaymentRef) => `${paths.payment(p)}/cancellation-authorisations`,
  cancellationAuthorisation: (p: PaymentRef, authorisationId: string) => `${paths.cancellationAuthorisations(p)}/${seg(authorisationId)}`,
};

/**
 * The authorisation id in a `scaStatus` link (`…/authorisations/{id}`): only the id is taken, the
 * URL we call is built by `paths`. Null when the link has no such segment.
 */
export function authorisationIdFromLink(href: string | null): string | null {
  if (!href) return null;
  const m = /\/(?:cancellation-)?authorisations\/([^/?#]+)/.exec(href);
  if (!m) return null;
  try {
    const id = decodeURIComponent(m[1]!);
    return /^[\w.:~-]{1,200}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}
