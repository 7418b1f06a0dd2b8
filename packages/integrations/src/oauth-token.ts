import { ProviderError } from '@maxai/core';
import type { ProviderHttp } from './http';
import type { OAuthTokens } from './oauth';

/** An OAuth token endpoint's JSON answer (RFC 6749 §5.1), with vendor extras. */
export type TokenAnswer = Record<string, unknown>;

/**
 * Posts a form to a token endpoint. An `invalid_grant` (used, revoked or expired code or refresh
 * token; RFC 6749 §5.2) is an `auth` failure: the connection needs the user to authorize again.
 */
export async function postTokenForm(
  http: ProviderHttp,
  path: string,
  form: Record<string, string | undefined>,
  headers?: Record<string, string>,
): Promise<TokenAnswer> {
  try {
    const res = await http.request<TokenAnswer>('POST', path, {
      form,
      ...(headers ? { headers } : {}),
    });
    return res.body;
  } catch (error) {
    if (error instanceof ProviderError && error.providerCode === 'invalid_grant') {
      throw new ProviderError({
        kind: 'auth',
        provider: error.provider,
        status: error.status,
        providerCode: error.providerCode,
        message: error.message,
        cause: error,
      });
    }
    throw error;
  }
}

/** Reads `error` / `error_description` (RFC 6749 §5.2) out of a token endpoint's error body. */
export function describeOAuthError(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const { error, error_description: description } = body as Record<string, unknown>;
  return {
    ...(typeof error === 'string' ? { code: error } : {}),
    ...(typeof description === 'string' ? { message: description } : {}),
  };
}

export function tokensFrom(
  answer: TokenAnswer,
  attributes: Record<string, string>,
  provider: 'gohighlevel' | 'google',
  now = Date.now(),
): OAuthTokens {
  const accessToken = answer.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new ProviderError({
      kind: 'transient',
      provider,
      message: `${provider} token endpoint answered without an access_token`,
    });
  }
  const expiresIn = answer.expires_in;
  return {
    accessToken,
    refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : undefined,
    expiresAt:
      typeof expiresIn === 'number' ? new Date(now + expiresIn * 1000).toISOString() : undefined,
    scope: typeof answer.scope === 'string' ? answer.scope : undefined,
    attributes,
  };
}
