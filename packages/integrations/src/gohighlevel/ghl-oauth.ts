import { ProviderHttp } from '../http';
import type { OAuthClientCredentials, OAuthProvider, OAuthTokens } from '../oauth';
import { postTokenForm, tokensFrom, type TokenAnswer } from '../oauth-token';
import { GHL_VERSION_CRM, describeGhlError } from './ghl-http';

export interface GhlOAuthOptions {
  /** `https://marketplace.gohighlevel.com` (white-label: the agency's domain), or the simulator's `/ghl`. */
  authorizeBaseUrl: string;
  /** `https://services.leadconnectorhq.com`, or the simulator's `/ghl`. */
  tokenBaseUrl: string;
  /** Sent as `user_type` on token requests (`Location` for sub-account apps). */
  userType?: 'Company' | 'Location' | undefined;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

export interface GhlOAuthProvider extends OAuthProvider {
  /** A sub-account (Location) token from an agency (Company) token: POST /oauth/locationToken. */
  locationToken(input: {
    companyAccessToken: string;
    companyId: string;
    locationId: string;
  }): Promise<OAuthTokens>;
}

function attributesOf(answer: TokenAnswer): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const key of ['userType', 'companyId', 'locationId'] as const) {
    const value = answer[key];
    if (typeof value === 'string' && value !== '') attributes[key] = value;
  }
  return attributes;
}

/**
 * GoHighLevel marketplace OAuth 2.0 (marketplace.gohighlevel.com/docs/Authorization/OAuth2.0;
 * PROVIDERS.md): authorize at `/oauth/chooselocation`, tokens at `POST /oauth/token` (form),
 * access tokens live ~1 day, refresh tokens are single use (each refresh answers the next one),
 * no PKCE. The token answer's `userType`, `companyId` and `locationId` become attributes.
 */
export function ghlOAuth(options: GhlOAuthOptions): GhlOAuthProvider {
  const http = new ProviderHttp({
    provider: 'gohighlevel',
    baseUrl: options.tokenBaseUrl,
    maxRetries: 0,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    describeError: describeGhlError,
  });
  const token = async (form: Record<string, string | undefined>) => {
    const answer = await postTokenForm(http, '/oauth/token', {
      ...form,
      user_type: options.userType,
    });
    return tokensFrom(answer, attributesOf(answer), 'gohighlevel');
  };
  const client = (c: OAuthClientCredentials) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
  });

  return {
    supportsPkce: false,
    authorizeUrl(input) {
      const url = new URL('oauth/chooselocation', options.authorizeBaseUrl.replace(/\/?$/, '/'));
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('redirect_uri', input.redirectUri);
      url.searchParams.set('client_id', input.client.clientId);
      url.searchParams.set('scope', input.scopes.join(' '));
      url.searchParams.set('state', input.state);
      return url.toString();
    },
    exchangeCode: (input) =>
      token({
        ...client(input.client),
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
      }),
    refresh: (input) =>
      token({
        ...client(input.client),
        grant_type: 'refresh_token',
        refresh_token: input.refreshToken,
      }),
    async locationToken(input) {
      const answer = await postTokenForm(
        http,
        '/oauth/locationToken',
        { companyId: input.companyId, locationId: input.locationId },
        { authorization: `Bearer ${input.companyAccessToken}`, version: GHL_VERSION_CRM },
      );
      return tokensFrom(answer, attributesOf(answer), 'gohighlevel');
    },
  };
}
