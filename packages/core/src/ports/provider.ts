/**
 * What every port shares: the failure classes adapters map vendor errors to, and the usage
 * metadata of calls a provider charges for (the usage issue attributes it tenant → client →
 * agent).
 */
export const PROVIDER_ERROR_KINDS = [
  'transient',
  'auth',
  'invalid',
  'not_found',
  'rate_limited',
] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

export const PROVIDERS = [
  'gohighlevel',
  'google',
  'retell',
  'twilio',
  'openrouter',
  'stripe',
  'n8n',
] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** A provider call that failed, classified. Only `transient` and `rate_limited` are retried. */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly provider: ProviderName;
  /** The provider's HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** The provider's own error code (e.g. Twilio 21211, Stripe `card_declined`). */
  readonly providerCode: string | undefined;
  /** For `rate_limited` (and some `transient`): when the provider said to come back. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    kind: ProviderErrorKind;
    provider: ProviderName;
    message: string;
    status?: number | undefined;
    providerCode?: string | undefined;
    retryAfterMs?: number | undefined;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'ProviderError';
    this.kind = init.kind;
    this.provider = init.provider;
    this.status = init.status;
    this.providerCode = init.providerCode;
    this.retryAfterMs = init.retryAfterMs;
  }

  get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'rate_limited';
  }
}

/** One priced quantity of a call: SMS segments, call seconds, tokens, a payment. */
export interface UsageUnit {
  name: string;
  quantity: number;
}

/** What a provider will bill for one call, as far as the call's response tells. */
export interface ProviderUsage {
  provider: ProviderName;
  /** The port operation, e.g. `messaging.send_sms`, `llm.complete`. */
  operation: string;
  units: UsageUnit[];
  /** The provider's own figure, when it reports one (OpenRouter `usage.cost`, Retell call cost). */
  costUsd?: number | undefined;
  /** The provider's id of the billed object (message SID, call id, generation id). */
  reference?: string | undefined;
}

/** Every port method answers its data and, for charged calls, the usage. */
export interface PortResult<T> {
  data: T;
  usage?: ProviderUsage | undefined;
}

/** Per-call options every port method accepts. */
export interface CallOptions {
  /** Passed to providers that honour one (Stripe `Idempotency-Key`); checked by us elsewhere. */
  idempotencyKey?: string | undefined;
  signal?: AbortSignal | undefined;
}
