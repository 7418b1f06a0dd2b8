import { verifyRetellSignature } from '@maxai/integrations';
import {
  allVendorSimulators,
  createSimulatorServer,
  RETELL_SIM_WORKSPACE,
  retellSignature,
  retellSimulator,
  type SentWebhook,
  type SimulatorServer,
} from '@maxai/simulators';
import { verify as retellSdkVerify } from 'retell-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver } from './receiver';

let server: SimulatorServer;
let root: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const { apiKey, phoneNumber } = RETELL_SIM_WORKSPACE;
type Json = Record<string, unknown>;

beforeAll(async () => {
  receiver = await startReceiver();
  server = await createSimulatorServer({ vendors: [retellSimulator()], publicUrl: receiver.url });
  root = await server.listen(0);
});
afterAll(async () => {
  await receiver.close();
  await server.close();
});
beforeEach(async () => {
  await fetch(`${root}/_control/reset`, { method: 'POST' });
  receiver.received.length = 0;
});

async function api(method: string, path: string, body?: unknown, key: string | null = apiKey) {
  const res = await fetch(`${root}/retell${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as Json };
}

async function control(path: string, body?: unknown) {
  const res = await fetch(`${root}/_control/retell${path}`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function agentAndCall(webhookUrl?: string) {
  const llm = await api('POST', '/create-retell-llm', {
    general_prompt: 'p',
    begin_message: 'Hi',
    model: 'gpt-4.1',
  });
  const agent = await api('POST', '/create-agent', {
    response_engine: { type: 'retell-llm', llm_id: llm.body.llm_id },
    voice_id: '11labs-Adrian',
    agent_name: 'Desk',
    ...(webhookUrl ? { webhook_url: webhookUrl } : {}),
  });
  const call = await api('POST', '/v2/create-phone-call', {
    from_number: phoneNumber,
    to_number: '+14155550199',
    override_agent_id: agent.body.agent_id,
    metadata: { lead: '1' },
    retell_llm_dynamic_variables: { customer_name: 'Ada' },
  });
  return { llm: llm.body, agent: agent.body, call: call.body, callStatus: call.status };
}

describe('Retell simulator: API', () => {
  it('401 without a valid bearer key', async () => {
    for (const key of [null, 'key_wrong']) {
      const res = await api('GET', '/v2/get-call/x', undefined, key);
      expect(res).toEqual({ status: 401, body: { status: 'error', message: 'Invalid API Key' } });
    }
    for (const [method, path] of [
      ['POST', '/create-retell-llm'],
      ['GET', '/get-retell-llm/x'],
      ['PATCH', '/update-retell-llm/x'],
      ['DELETE', '/delete-retell-llm/x'],
      ['POST', '/create-agent'],
      ['GET', '/get-agent/x'],
      ['PATCH', '/update-agent/x'],
      ['POST', '/v2/create-phone-call'],
    ] as const) {
      expect((await api(method, path, undefined, 'bad')).status).toBe(401);
    }
  });

  it('creates an LLM, an agent referencing it, and a registered outbound call', async () => {
    const { llm, agent, call, callStatus } = await agentAndCall('https://x.test/h');
    expect(llm).toMatchObject({
      llm_id: expect.stringMatching(/^llm_/),
      version: 0,
      general_prompt: 'p',
      begin_message: 'Hi',
    });
    expect(llm).not.toHaveProperty('owner');
    expect(agent).toMatchObject({
      agent_id: expect.stringMatching(/^agent_/),
      response_engine: { type: 'retell-llm', llm_id: llm.llm_id, version: 0 },
      voice_id: '11labs-Adrian',
      agent_name: 'Desk',
      webhook_url: 'https://x.test/h',
      language: 'en-US',
    });
    expect(callStatus).toBe(201);
    expect(call).toMatchObject({
      call_type: 'phone_call',
      call_status: 'registered',
      direction: 'outbound',
      agent_id: agent.agent_id,
      from_number: phoneNumber,
      to_number: '+14155550199',
      metadata: { lead: '1' },
      retell_llm_dynamic_variables: { customer_name: 'Ada' },
    });
    expect((await api('GET', `/v2/get-call/${String(call.call_id)}`)).body).toEqual(call);
  });

  it('reads, updates and deletes LLMs; reads and updates agents', async () => {
    const { llm, agent } = await agentAndCall();
    const llmPath = String(llm.llm_id);
    expect((await api('GET', `/get-retell-llm/${llmPath}`)).body).toMatchObject({
      general_prompt: 'p',
    });
    const updated = await api('PATCH', `/update-retell-llm/${llmPath}`, {
      general_prompt: 'q',
      begin_message: '',
      model: 'gpt-4.1-mini',
    });
    expect(updated.body).toMatchObject({
      general_prompt: 'q',
      begin_message: '',
      model: 'gpt-4.1-mini',
    });
    expect((await api('PATCH', `/update-retell-llm/${llmPath}`)).status).toBe(200);
    const renamed = await api('PATCH', `/update-agent/${String(agent.agent_id)}`, {
      agent_name: 'Reception',
      agent_id: 'hijack',
      response_engine: { type: 'custom-llm' },
    });
    expect(renamed.body).toMatchObject({
      agent_id: agent.agent_id,
      agent_name: 'Reception',
      response_engine: { type: 'retell-llm' },
    });
    expect((await api('PATCH', `/update-agent/${String(agent.agent_id)}`)).status).toBe(200);
    expect((await api('GET', `/get-agent/${String(agent.agent_id)}`)).body).toMatchObject({
      agent_name: 'Reception',
    });
    expect((await api('DELETE', `/delete-retell-llm/${llmPath}`)).status).toBe(204);
    for (const [method, path] of [
      ['GET', `/get-retell-llm/${llmPath}`],
      ['PATCH', `/update-retell-llm/${llmPath}`],
      ['DELETE', `/delete-retell-llm/${llmPath}`],
      ['GET', '/get-agent/agent_x'],
      ['PATCH', '/update-agent/agent_x'],
      ['GET', '/v2/get-call/nope'],
    ] as const) {
      expect((await api(method, path, method === 'GET' ? undefined : {})).status).toBe(404);
    }
    const bare = await api('POST', '/create-retell-llm');
    expect(bare.body).toMatchObject({
      general_prompt: null,
      begin_message: null,
      model: 'gpt-4.1',
    });
  });

  it('validates agents and calls', async () => {
    const { agent } = await agentAndCall();
    const llm = await api('POST', '/create-retell-llm', {});
    const agentCases: [unknown, number][] = [
      [undefined, 400],
      [{ voice_id: '', response_engine: { type: 'retell-llm', llm_id: llm.body.llm_id } }, 400],
      [{ voice_id: 'v', response_engine: { type: 'custom-llm' } }, 400],
      [{ voice_id: 'v', response_engine: { type: 'retell-llm', llm_id: 'llm_nope' } }, 404],
    ];
    for (const [body, status] of agentCases)
      expect((await api('POST', '/create-agent', body)).status).toBe(status);
    const callCases: [unknown, number][] = [
      [undefined, 400],
      [{ from_number: phoneNumber, to_number: '12' }, 400],
      [
        {
          from_number: '+14155550999',
          to_number: '+14155550199',
          override_agent_id: agent.agent_id,
        },
        404,
      ],
      [{ from_number: phoneNumber, to_number: '+14155550199' }, 400],
      [
        { from_number: phoneNumber, to_number: '+14155550199', override_agent_id: 'agent_nope' },
        404,
      ],
    ];
    for (const [body, status] of callCases) {
      expect((await api('POST', '/v2/create-phone-call', body)).status).toBe(status);
    }
    const minimal = await api('POST', '/v2/create-phone-call', {
      from_number: phoneNumber,
      to_number: '+14155550199',
      override_agent_id: agent.agent_id,
    });
    expect(minimal.body).toMatchObject({ metadata: {}, retell_llm_dynamic_variables: {} });
  });

  it('keeps workspaces apart', async () => {
    const { agent, call } = await agentAndCall();
    const other = await control('/workspaces', { numbers: [phoneNumber] });
    const key = String(other.body.apiKey);
    expect(key).toMatch(/^key_/);
    expect((await api('GET', `/get-agent/${String(agent.agent_id)}`, undefined, key)).status).toBe(
      404,
    );
    expect((await api('GET', `/v2/get-call/${String(call.call_id)}`, undefined, key)).status).toBe(
      404,
    );
    const named = await control('/workspaces', { apiKey: 'key_named' });
    expect(named.body).toEqual({ apiKey: 'key_named', numbers: [] });
  });

  it('answers injected faults in its error shape and is registered', async () => {
    await fetch(`${root}/_control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vendor: 'retell', status: 500, remaining: 1 }),
    });
    expect(await api('GET', '/v2/get-call/x')).toEqual({
      status: 500,
      body: { status: 'error', message: 'injected fault' },
    });
    expect(allVendorSimulators().map((v) => v.prefix)).toContain('retell');
  });
});

describe('Retell simulator: call scenarios and webhooks', () => {
  it('answered: call_started, call_ended, call_analyzed to the agent webhook, signed with the API key', async () => {
    const hook = `${receiver.url}/agent-hook`;
    const { call } = await agentAndCall(hook);
    const { body } = await control(`/calls/${String(call.call_id)}/progress`, {
      outcome: 'answered',
      durationMs: 95_000,
    });
    const webhooks = body.webhooks as SentWebhook[];
    expect(webhooks.map((w) => w.url)).toEqual([hook, hook, hook]);
    expect(receiver.received.map((r) => (JSON.parse(r.body) as { event: string }).event)).toEqual([
      'call_started',
      'call_ended',
      'call_analyzed',
    ]);
    for (const hit of receiver.received) {
      const signature = String(hit.headers['x-retell-signature']);
      expect(signature).toMatch(/^v=\d{13},d=[0-9a-f]{64}$/);
      expect(verifyRetellSignature(apiKey, hit.body, signature)).toBe(true);
      await expect(retellSdkVerify(hit.body, apiKey, signature)).resolves.toBe(true);
      expect(hit.headers['content-type']).toBe('application/json');
    }
    const [started, ended, analyzed] = receiver.received.map(
      (r) => JSON.parse(r.body) as { call: Json },
    );
    expect(started?.call.call_status).toBe('ongoing');
    expect(ended?.call).not.toHaveProperty('call_analysis');
    expect(analyzed?.call.call_analysis).toMatchObject({
      call_successful: true,
      user_sentiment: 'Positive',
    });
    const read = await api('GET', `/v2/get-call/${String(call.call_id)}`);
    expect(read.body).toMatchObject({
      call_status: 'ended',
      duration_ms: 95_000,
      disconnection_reason: 'user_hangup',
      transcript: expect.stringContaining('Agent:'),
      recording_url: expect.stringContaining(String(call.call_id)),
    });
    const cost = read.body.call_cost as {
      combined_cost: number;
      total_duration_seconds: number;
      product_costs: { cost: number }[];
    };
    expect(cost.total_duration_seconds).toBe(95);
    expect(cost.combined_cost).toBeCloseTo((13 / 60) * 95, 2);
    expect(cost.product_costs).toHaveLength(3);
    expect((read.body.end_timestamp as number) - (read.body.start_timestamp as number)).toBe(
      95_000,
    );
  });

  it('bills a 10-second minimum; a scripted transcript, reason and analysis', async () => {
    const { call } = await agentAndCall();
    const { body } = await control(`/calls/${String(call.call_id)}/progress`, {
      durationMs: 3_000,
      transcript: 'User: bye',
      disconnectionReason: 'agent_hangup',
      analysis: { call_successful: false },
      webhooks: false,
    });
    expect(body.webhooks).toEqual([]);
    expect(body.call).toMatchObject({
      transcript: 'User: bye',
      disconnection_reason: 'agent_hangup',
      call_analysis: { call_successful: false },
    });
    const cost = (
      body.call as { call_cost: { combined_cost: number; total_duration_seconds: number } }
    ).call_cost;
    expect(cost.total_duration_seconds).toBe(3);
    expect(cost.combined_cost).toBeCloseTo((13 / 60) * 10, 2);
  });

  it('ongoing then ended; no answer → not_connected with dial_no_answer; default URL; refusals', async () => {
    const { call } = await agentAndCall();
    const id = String(call.call_id);
    const ongoing = await control(`/calls/${id}/progress`, {
      outcome: 'ongoing',
      durationMs: 5_000,
    });
    expect(ongoing.body.call).toMatchObject({ call_status: 'ongoing' });
    expect((ongoing.body.webhooks as SentWebhook[])[0]?.url).toBe(
      `${receiver.url}/webhooks/retell`,
    );
    const ended = await control(`/calls/${id}/progress`, {
      outcome: 'answered',
      url: `${receiver.url}/given`,
    });
    expect((ended.body.webhooks as SentWebhook[]).map((w) => w.url)).toEqual([
      `${receiver.url}/given`,
      `${receiver.url}/given`,
    ]);
    expect((await control(`/calls/${id}/progress`)).status).toBe(409);

    const second = await agentAndCall();
    const missed = await control(`/calls/${String(second.call.call_id)}/progress`, {
      outcome: 'no_answer',
    });
    expect(missed.body.call).toMatchObject({
      call_status: 'not_connected',
      disconnection_reason: 'dial_no_answer',
      duration_ms: 0,
      call_cost: { combined_cost: 0, total_duration_seconds: 0 },
    });
    expect(
      (missed.body.webhooks as SentWebhook[]).map(
        (w) => (JSON.parse(w.body) as { event: string }).event,
      ),
    ).toEqual(['call_ended']);
    expect((await control(`/calls/${id}/progress`, { outcome: 'bogus' })).status).toBe(400);
    expect((await control('/calls/nope/progress', {})).status).toBe(404);
  });

  it('rings an inbound call to a workspace number: missed (no answer, busy), voicemail, answered', async () => {
    const { agent } = await agentAndCall();
    const caller = '+14155550123';
    const ring = (body: object) => control('/calls/inbound', body);
    const inbound = await ring({ from: caller, to: phoneNumber, agentId: agent.agent_id });
    expect(inbound.status).toBe(201);
    expect(inbound.body).toMatchObject({
      call_type: 'phone_call',
      call_status: 'registered',
      direction: 'inbound',
      from_number: caller,
      to_number: phoneNumber,
      agent_id: agent.agent_id,
      metadata: {},
    });
    const id = String(inbound.body.call_id);
    expect((await api('GET', `/v2/get-call/${id}`)).body).toMatchObject({ direction: 'inbound' });
    const missed = await control(`/calls/${id}/progress`, { outcome: 'no_answer' });
    const [ended] = (missed.body.webhooks as SentWebhook[]).map(
      (w) => JSON.parse(w.body) as { event: string; call: Json },
    );
    expect(ended).toMatchObject({
      event: 'call_ended',
      call: {
        direction: 'inbound',
        from_number: caller,
        call_status: 'not_connected',
        disconnection_reason: 'dial_no_answer',
      },
    });
    const busy = await ring({ from: caller, to: phoneNumber, agentId: agent.agent_id });
    const declined = await control(`/calls/${String(busy.body.call_id)}/progress`, {
      outcome: 'no_answer',
      disconnectionReason: 'dial_busy',
      webhooks: false,
    });
    expect(declined.body.call).toMatchObject({ disconnection_reason: 'dial_busy' });

    const boxed = await ring({ from: caller, to: phoneNumber, agentId: agent.agent_id });
    const voicemail = await control(`/calls/${String(boxed.body.call_id)}/progress`, {
      outcome: 'voicemail',
      durationMs: 20_000,
    });
    const events = (voicemail.body.webhooks as SentWebhook[]).map(
      (w) => JSON.parse(w.body) as { event: string; call: Json },
    );
    expect(events.map((e) => e.event)).toEqual(['call_started', 'call_ended', 'call_analyzed']);
    expect(events[1]?.call).toMatchObject({
      call_status: 'ended',
      disconnection_reason: 'voicemail_reached',
      transcript: expect.stringContaining('voicemail'),
    });
    expect(events[2]?.call.call_analysis).toMatchObject({
      in_voicemail: true,
      call_successful: false,
    });

    const booked = await ring({ from: caller, to: phoneNumber, agentId: agent.agent_id });
    const answered = await control(`/calls/${String(booked.body.call_id)}/progress`, {
      analysis: { custom_analysis_data: { intent: 'book_appointment' } },
    });
    const analyzed = (answered.body.webhooks as SentWebhook[]).at(-1)!;
    expect(JSON.parse(analyzed.body)).toMatchObject({
      event: 'call_analyzed',
      call: {
        direction: 'inbound',
        from_number: caller,
        call_analysis: {
          in_voicemail: false,
          custom_analysis_data: { intent: 'book_appointment' },
        },
      },
    });

    expect((await ring({ from: caller, to: '+14155550999', agentId: agent.agent_id })).status).toBe(
      400,
    );
    expect((await ring({ from: 'nope', to: phoneNumber, agentId: agent.agent_id })).status).toBe(
      400,
    );
    expect((await ring({ from: caller, to: phoneNumber })).status).toBe(400);
    const other = await control('/workspaces', { numbers: ['+14155550777'] });
    expect((await ring({ from: caller, to: '+14155550777', agentId: agent.agent_id })).status).toBe(
      400,
    );
    expect(other.status).toBe(201);
    expect((await control('/calls/inbound')).status).toBe(400);
  });

  it('re-sends one event on demand', async () => {
    const { call } = await agentAndCall();
    const id = String(call.call_id);
    await control(`/calls/${id}/progress`, { webhooks: false });
    const sent = await control(`/calls/${id}/webhooks`, {
      event: 'call_analyzed',
      url: `${receiver.url}/again`,
    });
    expect(sent.body).toMatchObject({ url: `${receiver.url}/again`, status: 200 });
    expect(JSON.parse(String(sent.body.body))).toMatchObject({
      event: 'call_analyzed',
      call: { call_analysis: {} },
    });
    expect((await control(`/calls/${id}/webhooks`, { event: 'bogus' })).status).toBe(400);
    expect((await control(`/calls/${id}/webhooks`)).status).toBe(400);
    expect((await control('/calls/nope/webhooks', { event: 'call_ended' })).status).toBe(404);
  });

  it("the signer passes Retell's published test vector", () => {
    expect(retellSignature('test-api-key', '{"event":"call_ended"}', 1_700_000_000_000)).toBe(
      'v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e',
    );
    expect(retellSignature('k', 'b')).toMatch(/^v=\d{13},d=[0-9a-f]{64}$/);
  });
});
