import { ProviderHttp } from '../http';
import type { OAuthProvider } from '../oauth';
import { describeOAuthError, postTokenForm, tokensFrom } from '../oauth-token';

export interface GoogleOAuthOptions {
  /** `https://accounts.google.com`, or the simulator's `/google`. */
  authorizeBaseUrl?: string | undefined;
  /** `https://oauth2.googleapis.com`, or the simulator's `/google`. */
  tokenBaseUrl?: string | undefined;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

/**
 * Google OAuth 2.0 for web server apps
 * (developers.google.com/identity/protocols/oauth2/web-server): authorize at
 * `/o/oauth2/v2/auth` with PKCE (S256), `access_type=offline` and `prompt=consent` so a refresh
 * token comes back every time; tokens at `POST /token` (form). Google does not rotate refresh
 * tokens: a refresh answer without one keeps the token refreshed with.
 */
export function googleOAuth(options: GoogleOAuthOptions = {}): OAuthProvider {
  const authorizeBase = options.authorizeBaseUrl ?? 'https://accounts.google.com';
  const http = new ProviderHttp({
    provider: 'google',
    baseUrl: options.tokenBaseUrl ?? 'https://oauth2.googleapis.com',
    maxRetries: 0,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    describeError: describeOAuthError,
  });

  return {
    supportsPkce: true,
    authorizeUrl(input) {
      const url = new URL('o/oauth2/v2/auth', authorizeBase.replace(/\/?$/, '/'));
      url.searchParams.set('client_id', input.client.clientId);
      url.searchParams.set('redirect_uri', input.redirectUri);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('scope', input.scopes.join(' '));
      url.searchParams.set('state', input.state);
      url.searchParams.set('access_type', 'offline');
      url.searchParams.set('prompt', 'consent');
      url.searchParams.set('include_granted_scopes', 'true');
      if (input.codeChallenge) {
        url.searchParams.set('code_challenge', input.codeChallenge);
        url.searchParams.set('code_challenge_method', 'S256');
      }
      return url.toString();
    },
    async exchangeCode(input) {
      const answer = await postTokenForm(http, '/token', {
        client_id: input.client.clientId,
        client_secret: input.client.clientSecret,
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
        code_verifier: input.codeVerifier,
      });
      return tokensFrom(answer, {}, 'google');
    },
    async refresh(input) {
      const answer = await postTokenForm(http, '/token', {
        client_id: input.client.clientId,
        client_secret: input.client.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: input.refreshToken,
      });
      const tokens = tokensFrom(answer, {}, 'google');
      return { ...tokens, refreshToken: tokens.refreshToken ?? input.refreshToken };
    },
  };
}
