/**
 * Content-Security-Policy values. Answers without one get API_CSP (security headers plugin); pages
 * (webview, test bank, bank return, API reference) send PAGE_CSP or a variant of it.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
