import {
  ProviderError,
  type CallAnalysis,
  type CallOptions,
  type OutboundCallInput,
  type PortResult,
  type ProviderUsage,
  type VoiceAgent,
  type VoiceAgentInput,
  type VoiceCall,
  type VoicePort,
} from '@maxai/core';
import Retell, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'retell-sdk';
import { kindOfStatus, parseRetryAfter } from '../http';

export interface RetellVoiceOptions {
  apiKey: string;
  /** `https://api.retellai.com` live; the simulator's `/retell` prefix in sandbox mode. */
  baseUrl?: string | undefined;
  /** Model of the Retell LLM holding an agent's prompt. */
  model?: string | undefined;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  retryBaseMs?: number | undefined;
  maxRetryAfterMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

type AgentResponse = Retell.AgentResponse;
type CallResponse = Retell.CallResponse;
interface RequestOptions {
  signal?: AbortSignal | undefined;
}

const TERMINAL: ReadonlySet<string> = new Set(['ended', 'not_connected', 'error']);
const SENTIMENTS: Record<string, CallAnalysis['sentiment']> = {
  Positive: 'positive',
  Neutral: 'neutral',
  Negative: 'negative',
  Unknown: 'unknown',
};

/**
 * Retell AI as a `VoicePort`, one instance per connection (workspace API key), through the
 * official `retell-sdk` (its `baseURL` points at the simulator in sandbox mode). An agent's
 * prompt lives in a Retell LLM the agent's `response_engine` references, as Retell requires
 * (docs.retellai.com/api-references/create-agent). The SDK's own retries are off: ours follow
 * the platform's policy (only reads and 429s are retried — Retell takes no idempotency key —
 * honouring `Retry-After` up to a cap).
 */
export class RetellVoice implements VoicePort {
  private readonly client: Retell;

  constructor(private readonly options: RetellVoiceOptions) {
    this.client = new Retell({
      apiKey: options.apiKey,
      baseURL: options.baseUrl ?? 'https://api.retellai.com',
      timeout: options.timeoutMs ?? 10_000,
      maxRetries: 0,
      logLevel: 'off',
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async createAgent(
    input: VoiceAgentInput,
    options: CallOptions = {},
  ): Promise<PortResult<VoiceAgent>> {
    const llm = await this.call(
      'POST',
      (o) =>
        this.client.llm.create(
          {
            general_prompt: input.prompt,
            // "" makes the agent wait for the caller (docs.retellai.com/api-references/create-retell-llm).
            begin_message: input.beginMessage ?? '',
            ...(this.options.model
              ? { model: this.options.model as Retell.LlmCreateParams['model'] }
              : {}),
          },
          o,
        ),
      options,
    );
    try {
      const agent = await this.call(
        'POST',
        (o) =>
          this.client.agent.create(
            {
              response_engine: { type: 'retell-llm', llm_id: llm.llm_id },
              voice_id: input.voiceId,
              agent_name: input.name,
              webhook_url: input.webhookUrl ?? null,
              ...(input.language
                ? { language: input.language as Retell.AgentCreateParams['language'] }
                : {}),
            },
            o,
          ),
        options,
      );
      return { data: toAgent(agent) };
    } catch (error) {
      // Do not leave the prompt's LLM behind (best effort: the original error is what matters).
      await this.client.llm.delete(llm.llm_id).catch(() => undefined);
      throw error;
    }
  }

  async updateAgent(
    agentId: string,
    patch: Partial<VoiceAgentInput>,
    options: CallOptions = {},
  ): Promise<PortResult<VoiceAgent>> {
    let agent: AgentResponse | undefined;
    if (patch.prompt !== undefined || patch.beginMessage !== undefined) {
      const current = await this.call(
        'GET',
        (o) => this.client.agent.retrieve(agentId, null, o),
        options,
      );
      const engine = current.response_engine;
      if (engine.type !== 'retell-llm') {
        throw new ProviderError({
          kind: 'invalid',
          provider: 'retell',
          message: `retell agent ${agentId} does not use a Retell LLM; its prompt cannot be set`,
        });
      }
      await this.call(
        'PATCH',
        (o) =>
          this.client.llm.update(
            engine.llm_id,
            {
              ...(patch.prompt !== undefined ? { general_prompt: patch.prompt } : {}),
              ...(patch.beginMessage !== undefined ? { begin_message: patch.beginMessage } : {}),
            },
            o,
          ),
        options,
      );
      agent = current;
    }
    const body: Retell.AgentUpdateParams = {};
    if (patch.name !== undefined) body.agent_name = patch.name;
    if (patch.voiceId !== undefined) body.voice_id = patch.voiceId;
    if (patch.webhookUrl !== undefined) body.webhook_url = patch.webhookUrl;
    if (patch.language !== undefined)
      body.language = patch.language as Retell.AgentUpdateParams['language'];
    if (Object.keys(body).length > 0 || !agent) {
      agent = await this.call('PATCH', (o) => this.client.agent.update(agentId, body, o), options);
    }
    return { data: toAgent(agent) };
  }

  async startCall(
    input: OutboundCallInput,
    options: CallOptions = {},
  ): Promise<PortResult<VoiceCall>> {
    const call = await this.call(
      'POST',
      (o) =>
        this.client.call.createPhoneCall(
          {
            from_number: input.fromNumber,
            to_number: input.toNumber,
            override_agent_id: input.agentId,
            metadata: input.metadata,
            retell_llm_dynamic_variables: input.dynamicVariables,
          },
          o,
        ),
      options,
    );
    return { data: toCall(call) };
  }

  async getCall(callId: string, options: CallOptions = {}): Promise<PortResult<VoiceCall>> {
    const call = await this.call('GET', (o) => this.client.call.retrieve(callId, o), options);
    return { data: toCall(call), usage: usageOf(call) };
  }

  /** One SDK call with the platform's retry policy and failures mapped to `ProviderError`. */
  private async call<T>(
    method: 'GET' | 'POST' | 'PATCH',
    run: (options: RequestOptions) => PromiseLike<T>,
    options: CallOptions,
  ): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 2;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await run({ signal: options.signal });
      } catch (raw) {
        if (raw instanceof APIUserAbortError) throw raw;
        const error = toProviderError(raw);
        const replayable =
          error.kind === 'rate_limited' || (error.kind === 'transient' && method === 'GET');
        if (attempt >= maxRetries || !replayable) throw error;
        const cap = this.options.maxRetryAfterMs ?? 30_000;
        if (error.retryAfterMs !== undefined && error.retryAfterMs > cap) throw error;
        const base = this.options.retryBaseMs ?? 200;
        const delay = error.retryAfterMs ?? Math.random() * Math.min(cap, base * 2 ** attempt);
        await (this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(delay);
      }
    }
  }
}

/** An SDK failure as a `ProviderError` (never the SDK's message: it may echo the request). */
export function toProviderError(error: unknown): ProviderError {
  if (
    error instanceof APIConnectionError ||
    !(error instanceof APIError) ||
    error.status === undefined
  ) {
    const timedOut = error instanceof APIConnectionTimeoutError;
    return new ProviderError({
      kind: 'transient',
      provider: 'retell',
      message: timedOut ? 'retell did not answer in time' : 'retell could not be reached',
      cause: error,
    });
  }
  const apiError = error as APIError<number, Headers | undefined, object | undefined>;
  const body = (apiError.error ?? {}) as { message?: unknown };
  const detail = typeof body.message === 'string' ? `: ${body.message}` : '';
  return new ProviderError({
    kind: kindOfStatus(apiError.status),
    provider: 'retell',
    status: apiError.status,
    message: `retell answered ${String(apiError.status)}${detail}`,
    retryAfterMs: parseRetryAfter(apiError.headers?.get('retry-after') ?? null),
  });
}

function toAgent(agent: AgentResponse): VoiceAgent {
  return {
    id: agent.agent_id,
    name: agent.agent_name ?? '',
    voiceId: agent.voice_id,
    webhookUrl: agent.webhook_url ?? undefined,
  };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function toCall(call: CallResponse): VoiceCall {
  const analysis = call.call_analysis;
  const duration =
    call.duration_ms ??
    (call.start_timestamp !== undefined && call.end_timestamp !== undefined
      ? call.end_timestamp - call.start_timestamp
      : undefined);
  return {
    id: call.call_id,
    agentId: call.agent_id,
    status: call.call_status,
    // A web call has no direction: the user reached the agent.
    direction: call.call_type === 'phone_call' ? call.direction : 'inbound',
    fromNumber: call.call_type === 'phone_call' ? call.from_number : undefined,
    toNumber: call.call_type === 'phone_call' ? call.to_number : undefined,
    startedAt: iso(call.start_timestamp),
    endedAt: iso(call.end_timestamp),
    durationMs: duration,
    transcript: call.transcript,
    recordingUrl: call.recording_url,
    disconnectionReason: call.disconnection_reason,
    analysis: analysis
      ? {
          summary: analysis.call_summary,
          sentiment: analysis.user_sentiment ? SENTIMENTS[analysis.user_sentiment] : undefined,
          successful: analysis.call_successful,
          custom:
            typeof analysis.custom_analysis_data === 'object' &&
            analysis.custom_analysis_data !== null
              ? (analysis.custom_analysis_data as Record<string, unknown>)
              : undefined,
        }
      : undefined,
  };
}

/** Once a call is over: its seconds and Retell's cost (`call_cost.combined_cost`, in cents). */
function usageOf(call: CallResponse): ProviderUsage | undefined {
  if (!TERMINAL.has(call.call_status) || !call.call_cost) return undefined;
  return {
    provider: 'retell',
    operation: 'voice.call',
    units: [{ name: 'call_seconds', quantity: call.call_cost.total_duration_seconds }],
    costUsd: call.call_cost.combined_cost / 100,
    reference: call.call_id,
  };
}
