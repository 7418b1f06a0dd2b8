/** Tokens of an OAuth 2.0 connection as a provider's token endpoint answers them. */
export interface OAuthTokens {
  accessToken: string;
  refreshToken?: string | undefined;
  /** RFC 3339; absent when the provider does not say. */
  expiresAt?: string | undefined;
  scope?: string | undefined;
  /**
   * Non-secret facts the token endpoint returned that the platform keeps on the connection
   * (GoHighLevel: `userType` Company|Location, `companyId`, `locationId`; Google: none).
   */
  attributes: Record<string, string>;
}

export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * The OAuth 2.0 endpoints of a provider, as the connections service drives them: the authorize
 * URL (with PKCE where the provider supports it), the code exchange and the refresh. Rotating
 * refresh tokens (GoHighLevel's are single use) come back in every refresh answer: store them.
 */
export interface OAuthProvider {
  readonly supportsPkce: boolean;
  authorizeUrl(input: {
    client: OAuthClientCredentials;
    redirectUri: string;
    state: string;
    scopes: string[];
    codeChallenge?: string | undefined;
  }): string;
  exchangeCode(input: {
    client: OAuthClientCredentials;
    code: string;
    redirectUri: string;
    codeVerifier?: string | undefined;
  }): Promise<OAuthTokens>;
  refresh(input: { client: OAuthClientCredentials; refreshToken: string }): Promise<OAuthTokens>;
}

/** Where an OAuth adapter gets a current access token (the connections service refreshes). */
export type AccessTokenSource = () => Promise<string>;
