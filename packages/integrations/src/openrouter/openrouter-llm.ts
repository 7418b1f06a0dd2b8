import {
  ProviderError,
  type CallOptions,
  type Completion,
  type CompletionInput,
  type LlmPort,
  type PortResult,
} from '@maxai/core';
import OpenAI from 'openai';
import { kindOfStatus, parseRetryAfter } from '../http';
import { redactSecrets, withSdkRetries, type SdkRetryOptions } from '../sdk-retry';

export interface OpenRouterLlmOptions extends SdkRetryOptions {
  apiKey: string;
  /** Default `https://openrouter.ai/api/v1`; the simulator's `<base>/openrouter/api/v1`. */
  baseUrl?: string | undefined;
  /** Attribution headers (openrouter.ai/docs/api-reference/overview#headers). */
  appUrl?: string | undefined;
  appTitle?: string | undefined;
  /** Per attempt; default 60 s (completions are slow). */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

/** OpenRouter's `usage` (openrouter.ai/docs/use-cases/usage-accounting): OpenAI's plus `cost`. */
interface OpenRouterUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Credits charged; one credit is one US dollar. */
  cost?: number;
}

const FINISH_REASONS = new Set<Completion['finishReason']>([
  'stop',
  'length',
  'content_filter',
  'tool_calls',
  'error',
]);

/**
 * LlmPort on OpenRouter's OpenAI-compatible API through the official `openai` SDK with
 * `baseURL` (openrouter.ai/docs/quickstart). One instance per connection (API key). The SDK's
 * retries are off (`maxRetries: 0`); `withSdkRetries` retries transient and rate-limited
 * failures like every other adapter — a repeated completion has no side effect beyond its cost.
 */
export class OpenRouterLlm implements LlmPort {
  private readonly client: OpenAI;

  constructor(private readonly options: OpenRouterLlmOptions) {
    const headers: Record<string, string> = {};
    if (options.appUrl !== undefined) headers['HTTP-Referer'] = options.appUrl;
    if (options.appTitle !== undefined) headers['X-OpenRouter-Title'] = options.appTitle;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl ?? 'https://openrouter.ai/api/v1',
      maxRetries: 0,
      timeout: options.timeoutMs ?? 60_000,
      defaultHeaders: headers,
      organization: null,
      project: null,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async complete(input: CompletionInput, options?: CallOptions): Promise<PortResult<Completion>> {
    const response = await withSdkRetries(async () => {
      try {
        return await this.client.chat.completions.create(
          {
            model: input.model,
            messages: input.messages,
            temperature: input.temperature,
            // OpenRouter documents `max_tokens` (openrouter.ai/docs/api-reference/parameters).
            // eslint-disable-next-line @typescript-eslint/no-deprecated
            max_tokens: input.maxTokens,
            response_format: input.jsonSchema
              ? {
                  type: 'json_schema',
                  json_schema: {
                    name: input.jsonSchema.name,
                    schema: input.jsonSchema.schema,
                    strict: input.jsonSchema.strict ?? true,
                  },
                }
              : undefined,
          },
          { signal: options?.signal },
        );
      } catch (error) {
        throw mapOpenRouterError(error, [this.options.apiKey]);
      }
    }, this.options);

    const choice = response.choices[0];
    const text = choice?.message.content ?? '';
    const usage: OpenRouterUsage | undefined = response.usage;
    const tokens = {
      promptTokens: usage?.prompt_tokens ?? 0,
      completionTokens: usage?.completion_tokens ?? 0,
      totalTokens: usage?.total_tokens ?? 0,
    };
    const reason = choice?.finish_reason as Completion['finishReason'] | undefined;
    const completion: Completion = {
      id: response.id,
      text,
      model: response.model,
      finishReason: reason !== undefined && FINISH_REASONS.has(reason) ? reason : 'unknown',
      tokens,
    };
    if (input.jsonSchema) completion.json = parseJson(text, response.id);
    return {
      data: completion,
      usage: {
        provider: 'openrouter',
        operation: 'llm.complete',
        units: [
          { name: 'prompt_tokens', quantity: tokens.promptTokens },
          { name: 'completion_tokens', quantity: tokens.completionTokens },
        ],
        costUsd: usage?.cost,
        reference: response.id,
      },
    };
  }
}

function parseJson(text: string, id: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderError({
      kind: 'invalid',
      provider: 'openrouter',
      providerCode: 'invalid_json',
      message: `openrouter generation ${id} is not the JSON the schema asked for`,
    });
  }
}

/**
 * The SDK's errors to the port's classes. OpenRouter's body is `{ error: { code, message } }`
 * with the HTTP status as `code` (openrouter.ai/docs/errors): 400 bad request,
 * 401 bad key, 402 out of credits (→ invalid: retrying will not help), 403 moderation, 408
 * timeout, 429 rate limited, 502 model down, 503 no provider available.
 */
export function mapOpenRouterError(error: unknown, secrets: readonly string[] = []): unknown {
  if (error instanceof OpenAI.APIUserAbortError) return error;
  if (error instanceof OpenAI.APIConnectionError) {
    return new ProviderError({
      kind: 'transient',
      provider: 'openrouter',
      message:
        error instanceof OpenAI.APIConnectionTimeoutError
          ? 'openrouter did not answer in time'
          : 'openrouter could not be reached',
    });
  }
  if (!(error instanceof OpenAI.APIError)) return error;
  const { status, headers } = error as { status?: number; headers?: Headers };
  if (status === undefined) return error;
  const body = (error as { error?: { code?: unknown; message?: unknown } }).error;
  const code = body?.code;
  return new ProviderError({
    kind: kindOfStatus(status),
    provider: 'openrouter',
    status,
    providerCode: typeof code === 'string' || typeof code === 'number' ? String(code) : undefined,
    message: redactSecrets(
      `openrouter answered ${String(status)}${
        typeof body?.message === 'string' ? `: ${body.message}` : ''
      }`,
      secrets,
    ),
    retryAfterMs: parseRetryAfter(headers?.get('retry-after') ?? null),
  });
}
