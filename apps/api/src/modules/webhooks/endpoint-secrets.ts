import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookProviderName, WebhookSecrets } from '@maxai/integrations';
import { z } from 'zod';
import { ProblemError } from '../../platform/errors/problem';

/**
 * What an endpoint stores (sealed) for its verifier. Twilio and Retell sign with the account's
 * own credential, so an endpoint may point at its connection instead of holding a copy: a
 * credential rotated on the connection then applies to its webhooks at once.
 */
export const storedSecretsSchema = z.union([
  z.object({ fromConnection: z.literal(true) }),
  z.object({ provider: z.literal('stripe'), signingSecrets: z.array(z.string()).min(1) }),
  z.object({ provider: z.literal('twilio'), authToken: z.string() }),
  z.object({ provider: z.literal('retell'), apiKey: z.string() }),
  z.object({
    provider: z.literal('gohighlevel'),
    ed25519PublicKeyPem: z.string(),
    rsaPublicKeyPem: z.string().optional(),
  }),
  z.object({
    provider: z.literal('google'),
    channelToken: z.string(),
    channelIds: z.array(z.string()),
  }),
  z.object({ provider: z.literal('n8n'), secret: z.string() }),
]);
export type StoredSecrets = z.infer<typeof storedSecretsSchema>;

/** The key material a caller may give when creating or rotating an endpoint. */
export interface SecretsInput {
  signingSecrets?: string[] | undefined;
  authToken?: string | undefined;
  apiKey?: string | undefined;
  ed25519PublicKeyPem?: string | undefined;
  rsaPublicKeyPem?: string | undefined;
  secret?: string | undefined;
  channelIds?: string[] | undefined;
}

export interface GhlKeys {
  ed25519PublicKeyPem: string;
  rsaPublicKeyPem?: string | undefined;
}

export interface SecretsContext {
  connectionProvider?: string | undefined;
  /** GoHighLevel's published keys (configured, or the sandbox simulator's). */
  ghlKeys: () => Promise<GhlKeys | undefined>;
}

/** Material the caller must copy into the provider's settings; shown once. */
export type EndpointSetup =
  { channelToken: string; channelIds: string[] } | { secret: string } | Record<string, never>;

const missing = (what: string) =>
  new ProblemError('unprocessable-content', `A ${what} is required for this provider.`, {
    errors: [{ field: 'body.secrets', message: `${what} required` }],
  });

/** Builds what to store for a new endpoint (or a rotation), and what to show the caller once. */
export async function buildSecrets(
  provider: WebhookProviderName,
  input: SecretsInput,
  context: SecretsContext,
): Promise<{ stored: StoredSecrets; setup: EndpointSetup }> {
  const fromConnection = context.connectionProvider === provider;
  switch (provider) {
    case 'stripe':
      if (!input.signingSecrets?.length) throw missing('Stripe endpoint signing secret (whsec_…)');
      return { stored: { provider, signingSecrets: input.signingSecrets }, setup: {} };
    case 'twilio':
      if (input.authToken) return { stored: { provider, authToken: input.authToken }, setup: {} };
      if (fromConnection) return { stored: { fromConnection: true }, setup: {} };
      throw missing('Twilio auth token (or a Twilio connection)');
    case 'retell':
      if (input.apiKey) return { stored: { provider, apiKey: input.apiKey }, setup: {} };
      if (fromConnection) return { stored: { fromConnection: true }, setup: {} };
      throw missing('Retell API key (or a Retell connection)');
    case 'gohighlevel': {
      const keys = input.ed25519PublicKeyPem
        ? { ed25519PublicKeyPem: input.ed25519PublicKeyPem, rsaPublicKeyPem: input.rsaPublicKeyPem }
        : await context.ghlKeys();
      if (!keys) throw missing('GoHighLevel webhook public key');
      return { stored: { provider, ...keys }, setup: {} };
    }
    case 'google': {
      const channelToken = randomBytes(32).toString('base64url');
      const channelIds = input.channelIds?.length ? input.channelIds : [randomUUID()];
      return {
        stored: { provider, channelToken, channelIds },
        setup: { channelToken, channelIds },
      };
    }
    case 'n8n': {
      const secret = input.secret ?? randomBytes(32).toString('base64url');
      return { stored: { provider, secret }, setup: { secret } };
    }
  }
}

/** The verifier's secrets from what is stored (resolving a connection's credential). */
export function verifierSecrets(
  provider: WebhookProviderName,
  stored: StoredSecrets,
  connectionSecrets: Record<string, string> | undefined,
): WebhookSecrets | undefined {
  if (!('fromConnection' in stored)) return stored;
  if (provider === 'twilio' && connectionSecrets?.authToken) {
    return { provider, authToken: connectionSecrets.authToken };
  }
  if (provider === 'retell' && connectionSecrets?.apiKey) {
    return { provider, apiKey: connectionSecrets.apiKey };
  }
  return undefined;
}
