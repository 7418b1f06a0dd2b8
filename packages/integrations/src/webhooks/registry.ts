import { gohighlevelWebhooks } from '../gohighlevel/webhook';
import { googleWebhooks } from '../google/webhook';
import { n8nWebhooks } from '../n8n/webhook';
import { retellWebhooks } from '../retell/webhook';
import { stripeWebhooks } from '../stripe/webhook';
import { twilioWebhooks } from '../twilio/webhook';
import { WEBHOOK_PROVIDERS, type WebhookProvider, type WebhookProviderName } from './contract';

/** Every provider's verifier and normalizer, by the name in the ingress route. */
export const WEBHOOK_PROVIDER_REGISTRY: Readonly<Record<WebhookProviderName, WebhookProvider>> = {
  stripe: stripeWebhooks,
  twilio: twilioWebhooks,
  retell: retellWebhooks,
  gohighlevel: gohighlevelWebhooks,
  google: googleWebhooks,
  n8n: n8nWebhooks,
};

/**
 * The provider for a name taken from a URL; `undefined` for anything else (including
 * `__proto__`, `toString`… which a plain index would find on the prototype).
 */
export function webhookProvider(name: string): WebhookProvider | undefined {
  return (WEBHOOK_PROVIDERS as readonly string[]).includes(name)
    ? WEBHOOK_PROVIDER_REGISTRY[name as WebhookProviderName]
    : undefined;
}
