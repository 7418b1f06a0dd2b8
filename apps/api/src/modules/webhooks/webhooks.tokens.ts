/** The base URL providers post webhooks to (WEBHOOK_PUBLIC_URL, else PUBLIC_URL). */
export const WEBHOOK_PUBLIC_BASE = Symbol('WEBHOOK_PUBLIC_BASE');
/** The verifiers and normalizers by provider name. */
export const WEBHOOK_PROVIDER_MAP = Symbol('WEBHOOK_PROVIDER_MAP');
