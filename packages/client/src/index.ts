export { PayrailClient, type PayrailClientOptions } from './client.ts';
export { PayrailError, PayrailNetworkError } from './errors.ts';
export { signWebhookPayload, verifyWebhook, WebhookVerificationError, type VerifyOptions, type WebhookErrorReason } from './webhooks.ts';
export type * from './types.ts';
export type { components, paths } from './openapi.ts';
