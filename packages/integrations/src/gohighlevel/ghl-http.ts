import { randomUUID } from 'node:crypto';
import { ProviderHttp } from '../http';
import type { AccessTokenSource } from '../oauth';

/** Per-connection options of every GoHighLevel adapter (a sub-account's Location token). */
export interface GhlAdapterOptions {
  /** `https://services.leadconnectorhq.com`, or the simulator's `/ghl`. */
  baseUrl: string;
  accessToken: AccessTokenSource;
  /** The sub-account (location) the token is for. */
  locationId: string;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  retryBaseMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

/**
 * API versions by resource (PROVIDERS.md; marketplace.gohighlevel.com/docs): `2021-07-28` for
 * contacts, opportunities and OAuth; `2021-04-15` for calendars and conversations.
 */
export const GHL_VERSION_CRM = '2021-07-28';
export const GHL_VERSION_CALENDARS = '2021-04-15';

/**
 * GoHighLevel answers errors NestJS-style: `{statusCode, message: string | string[], error}`
 * (e.g. `{"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"}`),
 * and OAuth errors as `{error, error_description}`.
 */
export function describeGhlError(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const message = Array.isArray(record.message)
    ? record.message.map(String).join('; ')
    : (record.error_description ?? record.message);
  return {
    ...(typeof record.error === 'string' ? { code: record.error } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

export function ghlHttp(options: GhlAdapterOptions, version: string): ProviderHttp {
  return new ProviderHttp({
    provider: 'gohighlevel',
    baseUrl: options.baseUrl,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    headers: async () => ({
      authorization: `Bearer ${await options.accessToken()}`,
      version,
    }),
    describeError: describeGhlError,
  });
}

/**
 * GoHighLevel takes no idempotency keys. A POST that is a read (search) or idempotent by nature
 * (upsert, add tags) is still safe to replay after a transient failure: such calls carry a key
 * (the caller's, or a fresh one) so that ProviderHttp retries them; GoHighLevel ignores the header.
 */
export function replaySafeKey(idempotencyKey: string | undefined): string {
  return idempotencyKey ?? `replay-safe-${randomUUID()}`;
}

export interface GhlContactBody {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  tags?: string[];
  customFields?: { id: string; value?: unknown }[];
  dateAdded?: string;
}
