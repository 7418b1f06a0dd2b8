import { ProviderError, type ProviderErrorKind, type ProviderName } from '@maxai/core';

export interface ProviderHttpOptions {
  provider: ProviderName;
  /** The provider's API root (the simulator's prefix in sandbox mode). */
  baseUrl: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Retries after the first attempt, for retryable failures only. */
  maxRetries?: number;
  retryBaseMs?: number;
  /** A `Retry-After` longer than this is not waited for: the error goes to the caller. */
  maxRetryAfterMs?: number;
  /** Auth and other headers, computed per request (a refreshed token is picked up). */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Reads the provider's error code and message out of an error body. */
  describeError?: (body: unknown) => { code?: string; message?: string };
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface ProviderRequest {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  /** Form-encoded body (Twilio, Stripe); arrays repeat the key. */
  form?: Record<string, string | number | boolean | string[] | undefined>;
  headers?: Record<string, string>;
  /** Makes a POST safe to retry; sent as `Idempotency-Key` where the provider honours it. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ProviderResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * The HTTP client every fetch-based adapter shares: a timeout per attempt, failures mapped to
 * the port's classes, and retries with exponential backoff and full jitter — only for
 * `transient` and `rate_limited`, honouring `Retry-After` up to a cap. A POST is retried after a
 * transient failure only when it carries an idempotency key (else the provider may have acted);
 * a 429 is always safe to retry, the request was refused unprocessed.
 */
export class ProviderHttp {
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ProviderHttpOptions) {
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async request<T>(
    method: string,
    path: string,
    request: ProviderRequest = {},
  ): Promise<ProviderResponse<T>> {
    const maxRetries = this.options.maxRetries ?? 2;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.attempt<T>(method, path, request);
      } catch (error) {
        if (!(error instanceof ProviderError) || attempt >= maxRetries) throw error;
        const delay = this.retryDelay(error, method, request, attempt);
        if (delay === undefined) throw error;
        await this.sleep(delay);
      }
    }
  }

  private retryDelay(
    error: ProviderError,
    method: string,
    request: ProviderRequest,
    attempt: number,
  ): number | undefined {
    if (!error.retryable) return undefined;
    const replayable =
      error.kind === 'rate_limited' ||
      SAFE_METHODS.has(method.toUpperCase()) ||
      request.idempotencyKey !== undefined;
    if (!replayable) return undefined;
    const cap = this.options.maxRetryAfterMs ?? 30_000;
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs <= cap ? error.retryAfterMs : undefined;
    }
    const base = this.options.retryBaseMs ?? 200;
    return Math.random() * Math.min(cap, base * 2 ** attempt);
  }

  private async attempt<T>(
    method: string,
    path: string,
    request: ProviderRequest,
  ): Promise<ProviderResponse<T>> {
    const url = new URL(path.replace(/^\//, ''), this.options.baseUrl.replace(/\/?$/, '/'));
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(await this.options.headers?.()),
      ...request.headers,
    };
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = encodeForm(request.form);
    }
    if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;

    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body, signal });
    } catch (cause) {
      if (request.signal?.aborted) throw cause;
      const timedOut = timeout.aborted;
      throw new ProviderError({
        kind: 'transient',
        provider: this.options.provider,
        message: timedOut
          ? `${this.options.provider} did not answer within ${String(this.options.timeoutMs ?? 10_000)} ms`
          : `${this.options.provider} could not be reached`,
        cause,
      });
    }
    const text = await res.text();
    const parsed = parseBody(text, res.headers.get('content-type'));
    if (res.ok) return { status: res.status, headers: res.headers, body: parsed as T };
    const described = this.options.describeError?.(parsed) ?? {};
    throw new ProviderError({
      kind: kindOfStatus(res.status),
      provider: this.options.provider,
      status: res.status,
      providerCode: described.code,
      message: `${this.options.provider} answered ${String(res.status)}${
        described.message ? `: ${described.message}` : ''
      }`,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    });
  }
}

/** The failure class of an HTTP status, the same for every provider. */
export function kindOfStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 408 || status >= 500) return 'transient';
  return 'invalid';
}

/** `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function encodeForm(form: NonNullable<ProviderRequest['form']>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  return params.toString();
}
