import {
  createSimulatorServer,
  maxaiCallbackSignature,
  n8nSimulator,
  type SimulatorServer,
} from '@maxai/simulators';
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let server: SimulatorServer;
let base: string;

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  server = await createSimulatorServer({ vendors: [n8nSimulator()] });
  base = await server.listen(0);
});
afterAll(() => server.close());
afterEach(() => fetch(`${base}/_control/reset`, { method: 'POST' }));

describe('n8n simulator: Webhook node (docs.n8n.io webhook node)', () => {
  it('answers 404 in n8n’s shape for unknown production and test paths', async () => {
    const prod = await post('/n8n/webhook/missing', {});
    expect(prod).toEqual({
      status: 404,
      body: {
        code: 404,
        message: 'The requested webhook "POST missing" is not registered.',
        hint: expect.stringContaining('must be active') as unknown,
      },
    });
    await post('/_control/n8n/workflows', { path: '/prod-only', respond: { body: { a: 1 } } });
    const test = await post('/n8n/webhook-test/prod-only', {});
    expect(test.status).toBe(404);
    expect((test.body as { hint: string }).hint).toContain('Execute workflow');
    const get = await fetch(`${base}/n8n/webhook/prod-only`);
    expect(await get.json()).toEqual({ a: 1 });
  });

  it('enforces Header Auth with 403', async () => {
    await post('/_control/n8n/workflows', {
      path: 'secure',
      headerAuth: { name: 'X-Token', value: 'v' },
      respond: { status: 201, body: { ok: 1 } },
    });
    const missing = await fetch(`${base}/n8n/webhook/secure`, { method: 'POST' });
    expect(missing.status).toBe(403);
    const wrong = await fetch(`${base}/n8n/webhook/secure`, {
      method: 'POST',
      headers: { 'x-token': 'nope' },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="Webhook"');
    expect(await wrong.text()).toBe('Authorization data is wrong!');
    expect(await post('/n8n/webhook/secure', {}, { 'x-token': 'v' })).toEqual({
      status: 201,
      body: { ok: 1 },
    });
  });

  it('acknowledges "Respond: Immediately" workflows; no callback without a callbackUrl', async () => {
    await post('/_control/n8n/workflows', { path: 'default' });
    expect(await post('/n8n/webhook/default', {})).toEqual({
      status: 200,
      body: { message: 'Workflow was started' },
    });
    await post('/_control/n8n/workflows', { path: 'bg', async: {} });
    expect((await post('/n8n/webhook/bg', { no: 'callback' })).body).toEqual({
      message: 'Workflow was started',
    });
    expect((await fetch(`${base}/n8n/webhook/bg`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 30));
    expect((await (await fetch(`${base}/_control/webhooks`)).json()) as unknown[]).toEqual([]);
  });

  it('echoes the payload’s correlationId in the callback of a "Respond: Immediately" workflow', async () => {
    await post('/_control/n8n/workflows', {
      path: 'plain',
      async: { fail: 'node X failed' },
      callbackSecret: 's3cret',
    });
    const answer = await post('/n8n/webhook/plain', {
      lead: 'l1',
      callbackUrl: 'http://127.0.0.1:9/x',
      correlationId: 'run-8:delegate:g0:s1',
    });
    expect(answer.body).toEqual({ message: 'Workflow was started' });
    let sent: { body: string; headers: Record<string, string> }[] = [];
    for (let i = 0; i < 50 && sent.length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 20));
      sent = (await (await fetch(`${base}/_control/webhooks`)).json()) as typeof sent;
    }
    expect(JSON.parse(sent[0]!.body)).toEqual({
      correlationId: 'run-8:delegate:g0:s1',
      executionId: expect.stringMatching(/^\d+$/) as unknown,
      status: 'failed',
      error: 'node X failed',
    });
    const t = Number(/t=(\d+)/.exec(sent[0]!.headers['x-maxai-signature']!)?.[1]);
    expect(sent[0]!.headers['x-maxai-signature']).toBe(
      maxaiCallbackSignature(sent[0]!.body, 's3cret', t),
    );
  });

  it('answers the execution id the callback carries, when the workflow responds with it', async () => {
    await post('/_control/n8n/workflows', {
      path: 'tracked',
      async: { output: { ok: true }, answerExecutionId: true },
    });
    const answer = await post('/n8n/webhook/tracked', {
      callbackUrl: 'http://127.0.0.1:9/x',
      correlationId: 'run-7:delegate:g0:s1',
    });
    const { executionId } = answer.body as { executionId: string };
    expect(executionId).toMatch(/^\d+$/);
    let sent: { body: string }[] = [];
    for (let i = 0; i < 50 && sent.length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 20));
      sent = (await (await fetch(`${base}/_control/webhooks`)).json()) as typeof sent;
    }
    expect(JSON.parse(sent[0]!.body)).toEqual({
      correlationId: 'run-7:delegate:g0:s1',
      executionId,
      status: 'succeeded',
      output: { ok: true },
    });
  });

  it('calls back signed with our scheme; reset cancels pending callbacks', async () => {
    await post('/_control/n8n/workflows', {
      path: 'bg',
      async: { delayMs: 5 },
      callbackSecret: 's3cret',
    });
    await post('/n8n/webhook/bg', { callbackUrl: 'http://127.0.0.1:9/unreachable' });
    let sent: { body: string; headers: Record<string, string>; status: unknown }[] = [];
    for (let i = 0; i < 50 && sent.length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 20));
      sent = (await (await fetch(`${base}/_control/webhooks`)).json()) as typeof sent;
    }
    const [hit] = sent;
    expect(hit?.status).toBe('error');
    // No correlationId received, none echoed.
    expect(Object.keys(JSON.parse(hit!.body) as object)).toEqual([
      'executionId',
      'status',
      'output',
    ]);
    expect(JSON.parse(hit!.body)).toMatchObject({ status: 'succeeded', output: null });
    const header = hit!.headers['x-maxai-signature']!;
    const t = Number(/t=(\d+)/.exec(header)?.[1]);
    const expected = createHmac('sha256', 's3cret')
      .update(`${String(t)}.${hit!.body}`)
      .digest('hex');
    expect(header).toBe(`t=${String(t)},v1=${expected}`);
    expect(maxaiCallbackSignature(hit!.body, 's3cret', t)).toBe(header);

    await post('/_control/n8n/workflows', { path: 'slow', async: { delayMs: 10_000 } });
    await post('/n8n/webhook/slow', { callbackUrl: 'http://127.0.0.1:9/x' });
    await fetch(`${base}/_control/reset`, { method: 'POST' });
    expect(n8nSimulator().errorBody(503, 'down')).toEqual({ code: 503, message: 'down' });
  });
});
