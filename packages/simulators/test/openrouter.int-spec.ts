import {
  createSimulatorServer,
  estimateTokens,
  openRouterSimulator,
  type SimulatorServer,
} from '@maxai/simulators';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'sk-or-v1-fidelity';
let server: SimulatorServer;
let base: string;

async function chat(
  body: unknown,
  key: string | null = KEY,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}/openrouter/api/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function control(path: string, body: unknown): Promise<void> {
  await fetch(`${base}/_control/openrouter${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const user = (content: string) => ({ role: 'user', content });

beforeAll(async () => {
  server = await createSimulatorServer({
    vendors: [
      openRouterSimulator({
        apiKeys: [KEY],
        models: { 'test/cheap': { prompt: 0.000001, completion: 0.000002 } },
      }),
    ],
  });
  base = await server.listen(0);
});
afterAll(() => server.close());
afterEach(() => fetch(`${base}/_control/reset`, { method: 'POST' }));

describe('OpenRouter simulator (openrouter.ai/docs/api-reference/chat-completion)', () => {
  it('answers an OpenAI-shaped completion with usage accounting and cost', async () => {
    const res = await chat({ model: 'test/cheap', messages: [user('12345678')] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      object: 'chat.completion',
      model: 'test/cheap',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }],
    });
    expect(res.body.id).toMatch(/^gen-\d+-/);
    const content = (res.body.choices as { message: { content: string } }[])[0]!.message.content;
    expect(content).toBe('Simulated reply to: 12345678');
    const usage = res.body.usage as Record<string, number>;
    const prompt = 4 + estimateTokens('12345678');
    const completion = estimateTokens(content);
    expect(usage).toMatchObject({
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(usage.cost).toBeCloseTo(prompt * 0.000001 + completion * 0.000002, 10);
  });

  it('uses scripted answers in order, and samples JSON schemas otherwise', async () => {
    await control('/responses', { answers: [{ text: 'one' }, { json: { a: 1 } }] });
    const texts = [];
    for (let i = 0; i < 2; i += 1) {
      const res = await chat({ model: 'test/cheap', messages: [user('x')] });
      texts.push((res.body.choices as { message: { content: string } }[])[0]!.message.content);
    }
    expect(texts).toEqual(['one', '{"a":1}']);
    const schema = {
      type: 'object',
      properties: {
        s: { type: 'string' },
        n: { type: 'number' },
        i: { type: 'integer' },
        b: { type: 'boolean' },
        l: { type: 'array' },
        e: { enum: ['x', 'y'] },
        o: { type: 'object' },
        z: {},
      },
    };
    const sampled = await chat({
      model: 'test/cheap',
      messages: [{ role: 'system', content: 'no user here' }],
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
    });
    const json: unknown = JSON.parse(
      (sampled.body.choices as { message: { content: string } }[])[0]!.message.content,
    );
    expect(json).toEqual({ s: '', n: 0, i: 0, b: false, l: [], e: 'x', o: {}, z: null });
    const object = await chat({
      model: 'test/cheap',
      messages: [user('x')],
      response_format: { type: 'json_object' },
    });
    expect((object.body.choices as { message: { content: string } }[])[0]!.message.content).toBe(
      '{}',
    );
  });

  it('prices models added by control, even when the answering model is unknown', async () => {
    await control('/models', { id: 'test/new', prompt: 0, completion: 0 });
    await control('/responses', { text: 'hi', model: 'elsewhere/unknown' });
    const res = await chat({ model: 'test/new', messages: [user('x')] });
    expect(res.body).toMatchObject({ model: 'elsewhere/unknown', usage: { cost: 0 } });
    const system = await chat({ model: 'test/new', messages: [{ role: 'system', content: 's' }] });
    expect((system.body.choices as { message: { content: string } }[])[0]!.message.content).toBe(
      'Simulated reply to: ',
    );
  });

  it('answers errors in OpenRouter’s shape', async () => {
    const cases: [unknown, string | null, number][] = [
      [{ model: 'test/cheap', messages: [user('x')] }, null, 401],
      [{ model: 'test/cheap', messages: [user('x')] }, 'sk-or-v1-other', 401],
      [{ messages: [user('x')] }, KEY, 400],
      [{ model: 'no/such', messages: [user('x')] }, KEY, 400],
      [{ model: 'test/cheap', messages: [] }, KEY, 400],
      [{ model: 'test/cheap', messages: [{ role: 'user' }] }, KEY, 400],
      [{ model: 'test/cheap', messages: [null] }, KEY, 400],
    ];
    for (const [body, key, status] of cases) {
      const res = await chat(body, key);
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({
        error: { code: status, message: expect.any(String) as unknown },
      });
    }
    expect(openRouterSimulator().errorBody(429, 'slow down')).toEqual({
      error: { code: 429, message: 'slow down' },
    });
  });

  it('spends credits per key and answers 402 when they run out', async () => {
    await control('/keys', { key: 'sk-or-v1-budget', credits: 0.0001 });
    await control('/keys', { key: 'sk-or-v1-unlimited' });
    const first = await chat({ model: 'test/cheap', messages: [user('x')] }, 'sk-or-v1-budget');
    expect(first.status).toBe(200);
    const big = { model: 'test/cheap', messages: [user('x'.repeat(1000))] };
    const broke = await chat(big, 'sk-or-v1-budget');
    expect(broke.status).toBe(402);
    expect(broke.body).toMatchObject({ error: { code: 402 } });
    expect((await chat(big, 'sk-or-v1-unlimited')).status).toBe(200);
  });
});
