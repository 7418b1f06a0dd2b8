import { ProviderError } from '@maxai/core';
import { OpenRouterLlm, mapOpenRouterError } from '@maxai/integrations';
import {
  createSimulatorServer,
  openRouterSimulator,
  type SimulatorServer,
} from '@maxai/simulators';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runLlmContract } from './contracts/llm.contract';

const KEY = 'sk-or-v1-contract-0123456789abcdef';
const MODEL = 'openai/gpt-4o-mini';
let server: SimulatorServer;
let base: string;

async function control(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

function llm(options: Partial<ConstructorParameters<typeof OpenRouterLlm>[0]> = {}) {
  return new OpenRouterLlm({
    apiKey: KEY,
    baseUrl: `${base}/openrouter/api/v1`,
    timeoutMs: 2000,
    sleep: () => Promise.resolve(),
    ...options,
  });
}

const hello = { model: MODEL, messages: [{ role: 'user' as const, content: 'hello' }] };

beforeAll(async () => {
  server = await createSimulatorServer({ vendors: [openRouterSimulator({ apiKeys: [KEY] })] });
  base = await server.listen(0);
});
afterAll(() => server.close());

runLlmContract('OpenRouterLlm on the OpenRouter simulator', () => ({
  llm: llm(),
  model: MODEL,
  scriptAnswer: async (answer) => {
    await control('/_control/openrouter/responses', answer);
  },
}));

describe('OpenRouterLlm', () => {
  afterEach(() => control('/_control/reset', {}));

  it('sends attribution headers and reports the model that answered', async () => {
    await control('/_control/openrouter/responses', {
      answers: [{ text: 'routed', model: 'anthropic/claude-3.5-haiku', finishReason: 'weird' }],
    });
    const { data, usage } = await llm({ appUrl: 'https://maxai.test', appTitle: 'MaxAI' }).complete(
      hello,
    );
    expect(data).toMatchObject({ model: 'anthropic/claude-3.5-haiku', finishReason: 'unknown' });
    expect(usage?.costUsd).toBeGreaterThan(0);
    const requests = (await (await fetch(`${base}/_control/openrouter/requests`)).json()) as {
      headers: Record<string, string>;
    }[];
    expect(requests.at(-1)?.headers).toMatchObject({
      'http-referer': 'https://maxai.test',
      'x-openrouter-title': 'MaxAI',
      authorization: '[redacted]',
    });
  });

  it('retries a 503, then answers', async () => {
    await control('/_control/faults', { vendor: 'openrouter', status: 503, remaining: 1 });
    const { data } = await llm().complete(hello);
    expect(data.text).toContain('hello');
  });

  it('gives up on repeated 502s as transient', async () => {
    await control('/_control/faults', { vendor: 'openrouter', status: 502 });
    await expect(llm({ maxRetries: 1 }).complete(hello)).rejects.toMatchObject({
      kind: 'transient',
      status: 502,
      providerCode: '502',
    });
  });

  it('maps 429 with Retry-After to rate_limited', async () => {
    await control('/_control/faults', { vendor: 'openrouter', status: 429, retryAfterS: 90 });
    await expect(llm().complete(hello)).rejects.toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 90_000,
    });
  });

  it('maps a wrong key to auth and an exhausted balance (402) to invalid', async () => {
    await expect(llm({ apiKey: 'sk-or-v1-wrong' }).complete(hello)).rejects.toMatchObject({
      kind: 'auth',
      status: 401,
    });
    await control('/_control/openrouter/keys', { key: 'sk-or-v1-poor', credits: 0 });
    await expect(llm({ apiKey: 'sk-or-v1-poor' }).complete(hello)).rejects.toMatchObject({
      kind: 'invalid',
      status: 402,
      providerCode: '402',
      message: expect.stringContaining('credits') as unknown,
    });
  });

  it('maps 404 to not_found and a timeout to transient', async () => {
    await control('/_control/faults', { vendor: 'openrouter', status: 404, remaining: 1 });
    await expect(llm().complete(hello)).rejects.toMatchObject({ kind: 'not_found' });
    await control('/_control/faults', { vendor: 'openrouter', latencyMs: 800 });
    await expect(llm({ timeoutMs: 100, maxRetries: 0 }).complete(hello)).rejects.toMatchObject({
      kind: 'transient',
      message: 'openrouter did not answer in time',
    });
  });

  it('never leaks the API key', async () => {
    const secret = 'sk-or-v1-leakcheck-a1b2c3d4e5f6';
    const errors = [
      await llm({ apiKey: secret })
        .complete(hello)
        .catch((e: unknown) => e),
    ];
    await control('/_control/faults', { vendor: 'openrouter', status: 500 });
    errors.push(
      await llm({ apiKey: secret, maxRetries: 0 })
        .complete(hello)
        .catch((e: unknown) => e),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      const e = error as ProviderError;
      for (const text of [e.message, JSON.stringify(e), String(e.stack)]) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('passes an aborted signal through as the abort', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await llm()
      .complete(hello, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
  });
});

describe('mapOpenRouterError', () => {
  it('passes through what is not an SDK status error, and reads missing bodies', () => {
    const plain = new Error('x');
    expect(mapOpenRouterError(plain)).toBe(plain);
    expect(mapOpenRouterError(new OpenAI.APIConnectionError({}))).toMatchObject({
      kind: 'transient',
      message: 'openrouter could not be reached',
    });
    const odd = new OpenAI.APIError(undefined, undefined, 'odd', undefined);
    expect(mapOpenRouterError(odd)).toBe(odd);
    const bare = new OpenAI.APIError(500, undefined, undefined, new Headers());
    expect(mapOpenRouterError(bare)).toMatchObject({
      kind: 'transient',
      providerCode: undefined,
      message: 'openrouter answered 500',
    });
  });

  it('reads a response without choices or usage as empty', async () => {
    const stub: typeof fetch = () =>
      Promise.resolve(
        new Response(JSON.stringify({ id: 'gen-empty', model: MODEL, choices: [] }), {
          headers: { 'content-type': 'application/json' },
        }),
      );
    const { data, usage } = await new OpenRouterLlm({ apiKey: KEY, fetch: stub }).complete(hello);
    expect(data).toMatchObject({ text: '', finishReason: 'unknown', tokens: { totalTokens: 0 } });
    expect(usage?.costUsd).toBeUndefined();
  });

  it('builds a client with the public defaults', () => {
    expect(new OpenRouterLlm({ apiKey: KEY, fetch })).toBeInstanceOf(OpenRouterLlm);
  });
});
