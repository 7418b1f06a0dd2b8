import type { WebhookProvider, WebhookProviderName } from './contract';

/** Placeholder until the vendor verifiers land. */
export const WEBHOOK_PROVIDER_REGISTRY: Partial<Record<WebhookProviderName, WebhookProvider>> = {};
