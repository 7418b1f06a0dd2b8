import type { ProviderName } from '@maxai/core';
import type { PortName } from '@maxai/db';
import { z } from 'zod';

/**
 * What the platform knows about each provider: how it authenticates, which ports it can serve,
 * where its API lives (live, or the simulator's prefix in sandbox mode) and how a proxied call
 * carries the connection's credentials.
 */
export interface ProviderSpec {
  name: ProviderName;
  authType: 'oauth2' | 'api_key';
  ports: readonly PortName[];
  liveBaseUrl: string;
  simulatorPrefix: string;
  /** For API-key providers: the credentials a tenant submits (validated, then sealed). */
  credentials?: z.ZodType<Record<string, string>>;
  /** OAuth scopes asked at connect time. */
  scopes?: readonly string[];
  /** Headers that authenticate a proxied request with the stored credentials. */
  authHeaders(credentials: Record<string, string>): Record<string, string>;
  /** Extra fixed headers the provider's API requires (GoHighLevel's `Version`). */
  fixedHeaders?: Record<string, string>;
}

const bearer = (token: string | undefined) => ({ authorization: `Bearer ${token ?? ''}` });
const secret = (min = 8) => z.string().trim().min(min).max(500);

export const PROVIDER_SPECS: Record<ProviderName, ProviderSpec> = {
  gohighlevel: {
    name: 'gohighlevel',
    authType: 'oauth2',
    ports: ['crm', 'calendar', 'messaging'],
    liveBaseUrl: 'https://services.leadconnectorhq.com',
    simulatorPrefix: 'ghl',
    scopes: [
      'contacts.readonly',
      'contacts.write',
      'calendars.readonly',
      'calendars/events.write',
      'conversations/message.write',
      'opportunities.write',
    ],
    authHeaders: (c) => bearer(c.accessToken),
    // https://marketplace.gohighlevel.com/docs/ — every v2 call names its API version.
    fixedHeaders: { version: '2021-07-28' },
  },
  google: {
    name: 'google',
    authType: 'oauth2',
    ports: ['calendar'],
    liveBaseUrl: 'https://www.googleapis.com',
    simulatorPrefix: 'google',
    scopes: ['https://www.googleapis.com/auth/calendar'],
    authHeaders: (c) => bearer(c.accessToken),
  },
  retell: {
    name: 'retell',
    authType: 'api_key',
    ports: ['voice'],
    liveBaseUrl: 'https://api.retellai.com',
    simulatorPrefix: 'retell',
    credentials: z.object({ apiKey: secret() }),
    authHeaders: (c) => bearer(c.apiKey),
  },
  twilio: {
    name: 'twilio',
    authType: 'api_key',
    ports: ['messaging'],
    liveBaseUrl: 'https://api.twilio.com',
    simulatorPrefix: 'twilio',
    credentials: z.object({
      accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, { error: 'expected AC + 32 hex' }),
      authToken: secret(),
    }),
    authHeaders: (c) => ({
      authorization: `Basic ${Buffer.from(`${c.accountSid ?? ''}:${c.authToken ?? ''}`).toString('base64')}`,
    }),
  },
  openrouter: {
    name: 'openrouter',
    authType: 'api_key',
    ports: ['llm'],
    liveBaseUrl: 'https://openrouter.ai',
    simulatorPrefix: 'openrouter',
    credentials: z.object({ apiKey: secret() }),
    authHeaders: (c) => bearer(c.apiKey),
  },
  stripe: {
    name: 'stripe',
    authType: 'api_key',
    ports: ['payments'],
    liveBaseUrl: 'https://api.stripe.com',
    simulatorPrefix: 'stripe',
    credentials: z.object({
      secretKey: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/, {
        error: 'expected a secret or restricted key (sk_… / rk_…)',
      }),
    }),
    authHeaders: (c) => bearer(c.secretKey),
  },
  n8n: {
    name: 'n8n',
    authType: 'api_key',
    ports: ['workflow'],
    // Self-hosted: the tenant's own n8n (its base URL is an attribute of the connection).
    liveBaseUrl: '',
    simulatorPrefix: 'n8n',
    credentials: z.object({
      headerName: z.string().trim().min(1).max(100),
      headerValue: secret(1),
    }),
    authHeaders: (c) => ({ [c.headerName ?? 'authorization']: c.headerValue ?? '' }),
  },
};

export function providerSpec(name: string): ProviderSpec | undefined {
  return Object.hasOwn(PROVIDER_SPECS, name) ? PROVIDER_SPECS[name as ProviderName] : undefined;
}

/** The API root a connection's calls go to: the simulator in sandbox mode. */
export function baseUrlOf(
  spec: ProviderSpec,
  mode: { providers: 'sandbox' | 'live'; simulatorsUrl: string },
  attributes: Record<string, string>,
): string {
  if (mode.providers === 'sandbox') {
    return `${mode.simulatorsUrl.replace(/\/+$/, '')}/${spec.simulatorPrefix}`;
  }
  return attributes.baseUrl ?? spec.liveBaseUrl;
}
