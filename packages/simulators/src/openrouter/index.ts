import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VendorSimulator } from '../server';

export interface OpenRouterModelPrice {
  /** USD (credits) per prompt token. */
  prompt: number;
  /** USD (credits) per completion token. */
  completion: number;
}

export interface OpenRouterSimulatorOptions {
  /** API keys accepted (more via `POST /_control/openrouter/keys`). */
  apiKeys?: string[];
  models?: Record<string, OpenRouterModelPrice>;
}

interface ScriptedAnswer {
  text?: string;
  json?: unknown;
  /** Answer as this model (a router may pick another model than asked). */
  model?: string;
  finishReason?: string;
}

interface ChatBody {
  model?: unknown;
  messages?: unknown;
  max_tokens?: unknown;
  response_format?: { type?: string; json_schema?: { schema?: Record<string, unknown> } };
}

/** Prices per token as OpenRouter lists them (openrouter.ai/models), a few defaults. */
const DEFAULT_MODELS: Record<string, OpenRouterModelPrice> = {
  'openai/gpt-4o-mini': { prompt: 0.00000015, completion: 0.0000006 },
  'openai/gpt-4o': { prompt: 0.0000025, completion: 0.00001 },
  'anthropic/claude-3.5-haiku': { prompt: 0.0000008, completion: 0.000004 },
  'meta-llama/llama-3.1-8b-instruct': { prompt: 0.00000002, completion: 0.00000003 },
};

/**
 * A deterministic token estimate: ~4 characters per token (OpenAI's rule of thumb), plus 4
 * tokens of framing per message. Real tokenizers differ; the simulator only needs stable counts.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * OpenRouter's OpenAI-compatible chat completions (openrouter.ai/docs/api-reference/chat-completion)
 * with usage accounting (`usage.cost` in credits, openrouter.ai/docs/use-cases/usage-accounting)
 * and its error shape `{ error: { code, message } }` (openrouter.ai/docs/errors).
 * Answers are scripted through the control API, else a deterministic echo.
 */
export function openRouterSimulator(options: OpenRouterSimulatorOptions = {}): VendorSimulator {
  const defaultKeys = options.apiKeys ?? ['sk-or-v1-simulator'];
  const defaultModels = { ...DEFAULT_MODELS, ...options.models };
  let keys = new Set(defaultKeys);
  let models = new Map(Object.entries(defaultModels));
  let script: ScriptedAnswer[] = [];
  /** Remaining credits per key; absent: unlimited. */
  let credits = new Map<string, number>();
  let requests: { key: string; body: unknown; headers: Record<string, unknown> }[] = [];

  const fail = (reply: FastifyReply, code: number, message: string) =>
    reply.code(code).send({ error: { code, message } });

  function keyOf(request: FastifyRequest): string | undefined {
    const header = request.headers.authorization ?? '';
    return header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  }

  function defaultAnswer(body: ChatBody): ScriptedAnswer {
    const schema = body.response_format?.json_schema?.schema;
    if (body.response_format?.type === 'json_schema' && schema) return { json: sample(schema) };
    if (body.response_format?.type === 'json_object') return { json: {} };
    const messages = body.messages as { role: string; content: string }[];
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    return { text: `Simulated reply to: ${(lastUser?.content ?? '').slice(0, 200)}` };
  }

  return {
    prefix: 'openrouter',

    errorBody(status, message) {
      return { error: { code: status, message } };
    },

    api(app: FastifyInstance) {
      app.post<{ Body: ChatBody }>('/api/v1/chat/completions', async (request, reply) => {
        const key = keyOf(request);
        if (key === undefined) return fail(reply, 401, 'No auth credentials found');
        if (!keys.has(key)) return fail(reply, 401, 'User not found.');
        const body = request.body;
        requests.push({ key, body, headers: { ...request.headers, authorization: '[redacted]' } });
        if (typeof body.model !== 'string' || body.model === '') {
          return fail(reply, 400, 'No models provided');
        }
        const asked = models.get(body.model);
        if (!asked) return fail(reply, 400, `${body.model} is not a valid model ID`);
        const messages = body.messages;
        if (
          !Array.isArray(messages) ||
          messages.length === 0 ||
          !messages.every(
            (m: unknown) =>
              typeof m === 'object' &&
              m !== null &&
              typeof (m as { content?: unknown }).content === 'string',
          )
        ) {
          return fail(reply, 400, 'Input required: specify "messages" with string contents');
        }
        const answer = script.shift() ?? defaultAnswer(body);
        const model = answer.model ?? body.model;
        const price = models.get(model) ?? asked;
        let content = answer.text ?? JSON.stringify(answer.json);
        let finishReason = answer.finishReason ?? 'stop';
        const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : undefined;
        if (maxTokens !== undefined && estimateTokens(content) > maxTokens) {
          content = content.slice(0, maxTokens * 4);
          finishReason = 'length';
        }
        const promptTokens = (messages as { content: string }[]).reduce(
          (sum, m) => sum + 4 + estimateTokens(m.content),
          0,
        );
        const completionTokens = estimateTokens(content);
        const cost = promptTokens * price.prompt + completionTokens * price.completion;
        const balance = credits.get(key);
        if (balance !== undefined) {
          if (balance < cost) {
            // openrouter.ai/docs/errors: 402 when the account is out of credits.
            return fail(
              reply,
              402,
              'Insufficient credits. Add more using https://openrouter.ai/credits',
            );
          }
          credits.set(key, balance - cost);
        }
        const created = Math.floor(Date.now() / 1000);
        return {
          id: `gen-${String(created)}-${randomBytes(10).toString('base64url').replace(/[-_]/g, 'x')}`,
          provider: model.split('/')[0] === 'openai' ? 'OpenAI' : 'Simulated',
          model,
          object: 'chat.completion',
          created,
          choices: [
            {
              index: 0,
              logprobs: null,
              finish_reason: finishReason,
              native_finish_reason: finishReason,
              message: { role: 'assistant', content, refusal: null, reasoning: null },
            },
          ],
          // openrouter.ai/docs/use-cases/usage-accounting
          usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completionTokens,
            total_tokens: promptTokens + completionTokens,
            cost: Number(cost.toFixed(10)),
            is_byok: false,
            prompt_tokens_details: { cached_tokens: 0 },
            cost_details: { upstream_inference_cost: null },
            completion_tokens_details: { reasoning_tokens: 0 },
          },
        };
      });
      return Promise.resolve();
    },

    control(app: FastifyInstance) {
      app.post<{ Body: { key: string; credits?: number } }>('/keys', (request) => {
        keys.add(request.body.key);
        if (request.body.credits !== undefined) credits.set(request.body.key, request.body.credits);
        return { key: `…${request.body.key.slice(-4)}`, credits: request.body.credits ?? null };
      });
      // The next answers, in order: `{ answers: [{ text } | { json }, …] }` (or one answer).
      app.post<{ Body: ScriptedAnswer | { answers: ScriptedAnswer[] } }>(
        '/responses',
        async (request, reply) => {
          const body = request.body;
          const answers = 'answers' in body ? body.answers : [body];
          script.push(...answers);
          return reply.code(201).send({ queued: script.length });
        },
      );
      app.post<{ Body: { id: string } & OpenRouterModelPrice }>('/models', (request) => {
        const { id, prompt, completion } = request.body;
        models.set(id, { prompt, completion });
        return { id, prompt, completion };
      });
      app.get('/requests', () => requests);
      return Promise.resolve();
    },

    reset() {
      keys = new Set(defaultKeys);
      models = new Map(Object.entries(defaultModels));
      script = [];
      credits = new Map();
      requests = [];
    },
  };
}

/** A minimal value of a JSON schema's shape (for answers nobody scripted). */
function sample(schema: Record<string, unknown>): unknown {
  if (schema.enum && Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, sample(v)]));
    }
    case 'array':
      return [];
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}
