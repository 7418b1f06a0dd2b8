import { ProviderError } from '@maxai/core';
import { RetellVoice, toProviderError } from '@maxai/integrations';
import {
  createSimulatorServer,
  RETELL_SIM_WORKSPACE,
  retellSimulator,
  type SimulatorServer,
} from '@maxai/simulators';
import { APIConnectionTimeoutError } from 'retell-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runVoiceContract } from './contracts/voice.contract';

let server: SimulatorServer;
let root: string;
let baseUrl: string;

beforeAll(async () => {
  server = await createSimulatorServer({ vendors: [retellSimulator()] });
  root = await server.listen(0);
  baseUrl = `${root}/retell`;
});
afterAll(async () => {
  // A socket a timed-out client opened but never sent a request on is not "idle" to Node: it
  // would hold close() until headersTimeout (60 s).
  server.app.server.closeAllConnections();
  await server.close();
});

async function control<T = unknown>(path: string, body?: unknown, method = 'POST'): Promise<T> {
  const res = await fetch(`${root}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await res.json()) as T;
}

const adapter = (overrides: Partial<ConstructorParameters<typeof RetellVoice>[0]> = {}) =>
  new RetellVoice({ apiKey: RETELL_SIM_WORKSPACE.apiKey, baseUrl, retryBaseMs: 1, ...overrides });

runVoiceContract('RetellVoice against the Retell simulator', () =>
  Promise.resolve({
    adapter: adapter(),
    fromNumber: RETELL_SIM_WORKSPACE.phoneNumber,
    finishCall: async (callId: string, outcome: 'answered' | 'no_answer') => {
      await control(`/_control/retell/calls/${callId}/progress`, {
        outcome,
        durationMs: 42_000,
        webhooks: false,
      });
    },
  }),
);

interface State {
  llms: { llm_id: string; general_prompt: string; begin_message: string; model: string }[];
  agents: { agent_id: string; language: string }[];
}

describe('RetellVoice', () => {
  const fromNumber = RETELL_SIM_WORKSPACE.phoneNumber;
  const input = { name: 'Desk', prompt: 'Be brief.', voiceId: '11labs-Adrian' };

  beforeEach(async () => {
    await control('/_control/reset', {});
  });

  it('keeps the prompt in a Retell LLM the agent references; no begin message → waits', async () => {
    const { data } = await adapter({ model: 'gpt-4.1-mini' }).createAgent({
      ...input,
      language: 'de-DE',
    });
    const state = await control<State>('/_control/retell/state', undefined, 'GET');
    expect(state.llms).toEqual([
      expect.objectContaining({
        general_prompt: 'Be brief.',
        begin_message: '',
        model: 'gpt-4.1-mini',
      }),
    ]);
    expect(state.agents).toEqual([
      expect.objectContaining({ agent_id: data.id, language: 'de-DE' }),
    ]);
    expect(data.webhookUrl).toBeUndefined();

    await adapter().updateAgent(data.id, {
      prompt: 'Be kind.',
      language: 'en-GB',
      webhookUrl: 'https://x.test/h',
    });
    const after = await control<State>('/_control/retell/state', undefined, 'GET');
    expect(after.llms[0]?.general_prompt).toBe('Be kind.');
    expect(after.agents[0]?.language).toBe('en-GB');
  });

  it('deletes the LLM again when the agent cannot be created', async () => {
    const error = await adapter()
      .createAgent({ ...input, voiceId: '' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'invalid', status: 400 });
    const state = await control<State>('/_control/retell/state', undefined, 'GET');
    expect(state.llms).toEqual([]);
  });

  it('refuses to set the prompt of an agent that does not use a Retell LLM', async () => {
    const stub: typeof fetch = () =>
      Promise.resolve(
        Response.json({
          agent_id: 'agent_1',
          voice_id: 'v',
          response_engine: { type: 'custom-llm', llm_websocket_url: 'wss://x' },
        }),
      );
    const error = await adapter({ fetch: stub })
      .updateAgent('agent_1', { prompt: 'x' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'invalid', provider: 'retell' });
  });

  it('a call from a number the workspace does not own → not_found; a bad number → invalid', async () => {
    const { data } = await adapter().createAgent(input);
    const foreign = await adapter()
      .startCall({ agentId: data.id, fromNumber: '+14155550999', toNumber: '+14155550199' })
      .catch((e: unknown) => e);
    expect(foreign).toMatchObject({ kind: 'not_found', status: 404 });
    const bad = await adapter()
      .startCall({ agentId: data.id, fromNumber, toNumber: '555' })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ kind: 'invalid', status: 400 });
  });

  it('keeps workspaces apart', async () => {
    const other = await control<{ apiKey: string }>('/_control/retell/workspaces', {});
    const { data } = await adapter().createAgent(input);
    const error = await adapter({ apiKey: other.apiKey })
      .updateAgent(data.id, { name: 'mine now' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'not_found' });
  });

  describe('error mapping', () => {
    it('wrong API key → auth', async () => {
      const error = await adapter({ apiKey: 'key_wrong' })
        .getCall('x')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'auth', status: 401, provider: 'retell' });
      expect((error as Error).message).toBe('retell answered 401: Invalid API Key');
    });

    it('500 on a read → transient, retried, then success', async () => {
      const { data: agent } = await adapter().createAgent(input);
      const { data: call } = await adapter().startCall({
        agentId: agent.id,
        fromNumber,
        toNumber: '+14155550199',
      });
      await control('/_control/faults', {
        vendor: 'retell',
        method: 'GET',
        status: 500,
        remaining: 2,
      });
      const read = await adapter().getCall(call.id);
      expect(read.data.id).toBe(call.id);
    });

    it('503 on a create → transient, not retried', async () => {
      await control('/_control/faults', {
        vendor: 'retell',
        method: 'POST',
        status: 503,
        remaining: 1,
      });
      const error = await adapter()
        .createAgent(input)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'transient', status: 503 });
      const state = await control<State>('/_control/retell/state', undefined, 'GET');
      expect(state.llms).toEqual([]);
    });

    it('429 + Retry-After → rate_limited, retried after the delay, or surfaced when too long', async () => {
      await control('/_control/faults', {
        vendor: 'retell',
        status: 429,
        retryAfterS: 1,
        remaining: 1,
      });
      const waits: number[] = [];
      await adapter({ sleep: (ms) => Promise.resolve(void waits.push(ms)) }).createAgent(input);
      expect(waits).toEqual([1000]);

      await control('/_control/faults', {
        vendor: 'retell',
        status: 429,
        retryAfterS: 120,
        remaining: 1,
      });
      const error = await adapter()
        .getCall('x')
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 120_000 });

      await control('/_control/faults', { vendor: 'retell', status: 429, remaining: 3 });
      const exhausted = await adapter({ sleep: () => Promise.resolve() })
        .getCall('x')
        .catch((e: unknown) => e);
      expect(exhausted).toMatchObject({ kind: 'rate_limited', retryAfterMs: undefined });
    });

    it('retries with backoff using the real clock by default', async () => {
      await control('/_control/faults', {
        vendor: 'retell',
        method: 'GET',
        status: 502,
        remaining: 1,
      });
      const error = await adapter()
        .getCall('nope')
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'not_found' });
    });

    it('no answer in time → transient; unreachable → transient; abort passes through', async () => {
      await control('/_control/faults', { vendor: 'retell', latencyMs: 300, remaining: 1 });
      const slow = await adapter({ timeoutMs: 50, maxRetries: 0 })
        .getCall('x')
        .catch((e: unknown) => e);
      expect(slow).toMatchObject({ kind: 'transient', message: 'retell did not answer in time' });
      const down = await adapter({ baseUrl: 'http://127.0.0.1:9', maxRetries: 0 })
        .getCall('x')
        .catch((e: unknown) => e);
      expect(down).toMatchObject({ kind: 'transient', message: 'retell could not be reached' });
      const aborted = await adapter()
        .getCall('x', { signal: AbortSignal.abort() })
        .catch((e: unknown) => e);
      expect(aborted).not.toBeInstanceOf(ProviderError);
    });

    it('maps an error without a JSON body and anything unexpected', async () => {
      const stub: typeof fetch = () => Promise.resolve(new Response('oops', { status: 422 }));
      const error = await adapter({ fetch: stub })
        .getCall('x')
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'invalid', status: 422, message: 'retell answered 422' });
      expect(toProviderError(new Error('boom'))).toMatchObject({ kind: 'transient' });
      expect(toProviderError(new APIConnectionTimeoutError())).toMatchObject({
        message: 'retell did not answer in time',
      });
    });
  });

  it('never lets the API key out in errors', async () => {
    const secret = 'key_super_secret_retell_123456';
    await control('/_control/retell/workspaces', { apiKey: secret, numbers: [fromNumber] });
    const errors: unknown[] = [];
    const voice = adapter({ apiKey: secret, maxRetries: 0, timeoutMs: 50 });
    errors.push(await voice.getCall('missing').catch((e: unknown) => e));
    errors.push(await voice.createAgent({ ...input, voiceId: '' }).catch((e: unknown) => e));
    await control('/_control/faults', { vendor: 'retell', latencyMs: 200, remaining: 1 });
    errors.push(await voice.getCall('slow').catch((e: unknown) => e));
    errors.push(
      await adapter({ apiKey: `${secret}x` })
        .getCall('x')
        .catch((e: unknown) => e),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      const text = [
        JSON.stringify(error),
        (error as Error).message,
        (error as Error).stack ?? '',
        JSON.stringify(error, Object.getOwnPropertyNames(error)),
      ].join('\n');
      expect(text).not.toContain(secret);
    }
  });

  it('maps web calls, sparse calls and every sentiment', async () => {
    const stub =
      (body: unknown): typeof fetch =>
      () =>
        Promise.resolve(Response.json(body));
    const web = await adapter({
      fetch: stub({
        call_type: 'web_call',
        call_id: 'c1',
        agent_id: 'a1',
        call_status: 'ended',
        start_timestamp: 1_700_000_000_000,
        end_timestamp: 1_700_000_005_000,
        call_analysis: { user_sentiment: 'Negative', custom_analysis_data: 'not an object' },
      }),
    }).getCall('c1');
    expect(web.data).toMatchObject({
      direction: 'inbound',
      fromNumber: undefined,
      durationMs: 5000,
    });
    expect(web.data.analysis).toEqual({
      summary: undefined,
      sentiment: 'negative',
      successful: undefined,
      custom: undefined,
    });
    expect(web.usage).toBeUndefined();
    const sparse = await adapter({
      fetch: stub({
        call_type: 'phone_call',
        call_id: 'c2',
        agent_id: 'a1',
        call_status: 'ongoing',
        direction: 'inbound',
        from_number: '+1',
        to_number: '+2',
        start_timestamp: 1_700_000_000_000,
        call_analysis: { custom_analysis_data: { booked: true } },
      }),
    }).getCall('c2');
    expect(sparse.data).toMatchObject({ durationMs: undefined, endedAt: undefined });
    expect(sparse.data.analysis).toMatchObject({ sentiment: undefined, custom: { booked: true } });
    const agent = await adapter({
      fetch: stub({
        agent_id: 'a',
        voice_id: 'v',
        response_engine: { type: 'retell-llm', llm_id: 'l' },
      }),
    }).updateAgent('a', {});
    expect(agent.data).toEqual({ id: 'a', name: '', voiceId: 'v', webhookUrl: undefined });
  });
});
