import type { ProviderName } from '@maxai/core';
import { ghlOAuth, googleOAuth } from '@maxai/integrations';
import type { AppConfig } from '../../platform/config/config.schema';
import type { OAuthApp } from './connections.service';

/**
 * Our OAuth client at each OAuth provider, pointed at the simulators in sandbox mode. The
 * providers' endpoint implementations live in packages/integrations/<vendor>/.
 */
export function oauthApps(config: AppConfig): Partial<Record<ProviderName, OAuthApp>> {
  const sandbox = config.PROVIDERS === 'sandbox';
  const simulator = (prefix: string) => `${config.SIMULATORS_URL.replace(/\/+$/, '')}/${prefix}`;
  // https://highlevel.stoplight.io/docs/integrations/ — authorize on the marketplace, tokens
  // from the API host.
  const ghl = ghlOAuth({
    authorizeBaseUrl: sandbox ? simulator('ghl') : 'https://marketplace.gohighlevel.com',
    tokenBaseUrl: sandbox ? simulator('ghl') : 'https://services.leadconnectorhq.com',
  });
  return {
    gohighlevel: {
      provider: ghl,
      client: { clientId: config.GHL_CLIENT_ID, clientSecret: config.GHL_CLIENT_SECRET },
      locationToken: (input) => ghl.locationToken(input),
    },
    google: {
      provider: googleOAuth(
        sandbox ? { authorizeBaseUrl: simulator('google'), tokenBaseUrl: simulator('google') } : {},
      ),
      client: { clientId: config.GOOGLE_CLIENT_ID, clientSecret: config.GOOGLE_CLIENT_SECRET },
    },
  };
}
