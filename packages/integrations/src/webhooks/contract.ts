/**
 * The contract between webhook ingress (apps/api modules/webhooks) and each vendor's verifier and
 * normalizer (packages/integrations/src/<vendor>/webhook.ts). Ingress owns routing, storage,
 * dedupe and dispatch; a vendor module owns only "is this really from the provider?" and "what
 * happened, in our words?". Both are pure functions of the request bytes (and the clock).
 */

export const WEBHOOK_PROVIDERS = [
  'stripe',
  'twilio',
  'retell',
  'gohighlevel',
  'google',
  'n8n',
] as const;
export type WebhookProviderName = (typeof WEBHOOK_PROVIDERS)[number];

/** One inbound request exactly as received. */
export interface InboundWebhook {
  /** The exact body bytes (never re-serialized: signatures cover these bytes). */
  rawBody: Buffer;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string | undefined>>;
  /**
   * The URL the provider posted to, as the provider knows it: the configured public base URL +
   * path + query string (Twilio signs this URL; behind a proxy it differs from the local one).
   */
  publicUrl: string;
}

/** Key material a verifier needs, decrypted from the webhook endpoint's stored secret. */
export type WebhookSecrets =
  /** `whsec_…` endpoint secrets; more than one while a secret is being rolled. */
  | { provider: 'stripe'; signingSecrets: string[] }
  | { provider: 'twilio'; authToken: string }
  | { provider: 'retell'; apiKey: string }
  /** GoHighLevel's published public keys (PEM, SPKI); the RSA one only for the legacy header. */
  | { provider: 'gohighlevel'; ed25519PublicKeyPem: string; rsaPublicKeyPem?: string | undefined }
  /** The token we set on the watch channel(s), and the channel ids we created. */
  | { provider: 'google'; channelToken: string; channelIds: string[] }
  | { provider: 'n8n'; secret: string };

export type VerificationFailure =
  | 'missing_signature'
  | 'malformed_signature'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'unknown_channel';

export type VerificationResult =
  { valid: true; scheme: string } | { valid: false; reason: VerificationFailure };

/** Where inside the payload the provider says whom the event concerns (ingress maps these). */
export interface WebhookAttribution {
  /** Retell `call.agent_id`. */
  retellAgentId?: string | undefined;
  /** The number of ours that was called or texted (Twilio `To` on inbound, `From` on status). */
  phoneNumber?: string | undefined;
  /** GoHighLevel `locationId`. */
  ghlLocationId?: string | undefined;
}

/** One CloudEvent body-to-be: ingress adds id, source, time default, tenant/client extensions. */
export interface NormalizedEvent {
  /** `maxai.<domain>.<entity>.<happened>`, one of EVENT_TYPES. */
  type: string;
  /** The provider resource the event is about (call id, message sid, invoice id…). */
  subject?: string | undefined;
  /** When the provider says it happened, ISO 8601 UTC; ingress uses receipt time if absent. */
  time?: string | undefined;
  /** Conforms to the published JSON Schema of `type`. */
  data: Record<string, unknown>;
}

export type NormalizationResult =
  | {
      ok: true;
      /** The provider's unique id for this delivery's event: the dedupe key (see each vendor). */
      providerEventId: string;
      /** The provider's own event type, e.g. `invoice.paid`, `call_ended`, `InboundMessage`. */
      providerEventType: string;
      attribution: WebhookAttribution;
      /** Usually one; empty when the provider event is known but maps to nothing of ours. */
      events: NormalizedEvent[];
    }
  | {
      ok: false;
      /** Present when the id could still be read (for dedupe of repeated bad deliveries). */
      providerEventId?: string | undefined;
      providerEventType?: string | undefined;
      /** `unparseable` or `unknown_type`, and a short human detail. */
      reason: 'unparseable' | 'unknown_type';
      detail: string;
    };

/** What the provider expects back on success (Twilio wants empty TwiML). */
export interface WebhookAcknowledgement {
  status: number;
  contentType?: string | undefined;
  body: string;
}

export interface WebhookProvider {
  readonly name: WebhookProviderName;
  /**
   * Accepted media types (without parameters); anything else → 415. Empty: any type or none is
   * accepted (Google's push notifications have an empty body whatever Content-Type they send).
   */
  readonly contentTypes: readonly string[];
  readonly acknowledgement: WebhookAcknowledgement;
  verify(request: InboundWebhook, secrets: WebhookSecrets, now: number): VerificationResult;
  normalize(request: InboundWebhook): NormalizationResult;
}
