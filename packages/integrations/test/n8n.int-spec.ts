import { ProviderError } from '@maxai/core';
import {
  N8N_SIGNATURE_HEADER,
  N8nWorkflows,
  signN8nCallback,
  verifyN8nCallback,
} from '@maxai/integrations';
import { createSimulatorServer, n8nSimulator, type SimulatorServer } from '@maxai/simulators';
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runWorkflowContract, type WorkflowCallback } from './contracts/workflow.contract';

const SECRET = 'n8n-shared-secret-7f3a9c';
const AUTH = { name: 'X-N8N-Auth', value: 'hdr-auth-value-5e1d2c' };
let server: SimulatorServer;
let base: string;
let receiver: Server;
let callbackUrl: string;
let waiting: ((callback: WorkflowCallback) => void)[] = [];

async function control(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

function workflows(options: Partial<ConstructorParameters<typeof N8nWorkflows>[0]> = {}) {
  return new N8nWorkflows({
    baseUrl: `${base}/n8n`,
    headerAuth: AUTH,
    timeoutMs: 2000,
    sleep: () => Promise.resolve(),
    ...options,
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.end('ok');
      waiting.shift()?.({ body, headers: req.headers });
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const address = receiver.address();
  callbackUrl = `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}/webhooks/n8n/callback`;
  server = await createSimulatorServer({ vendors: [n8nSimulator()] });
  base = await server.listen(0);
});
afterAll(async () => {
  await server.close();
  await new Promise((r) => receiver.close(r));
});

runWorkflowContract('N8nWorkflows on the n8n simulator', () => ({
  workflows: workflows(),
  registerSync: async (path, output) => {
    await control('/_control/n8n/workflows', { path, headerAuth: AUTH, respond: { body: output } });
  },
  registerAsync: async (path, output) => {
    await control('/_control/n8n/workflows', {
      path,
      headerAuth: AUTH,
      async: { output },
      callbackSecret: SECRET,
    });
  },
  callbackUrl,
  nextCallback: () => new Promise((resolve) => waiting.push(resolve)),
  verify: (callback) =>
    verifyN8nCallback(SECRET, callback.body, callback.headers[N8N_SIGNATURE_HEADER] as string),
}));

describe('N8nWorkflows failure classes', () => {
  afterEach(async () => {
    waiting = [];
    await control('/_control/reset', {});
  });

  const sync = { webhookPath: 'flow', payload: { a: 1 }, mode: 'sync' as const };
  const register = (extra: Record<string, unknown> = {}) =>
    control('/_control/n8n/workflows', {
      path: 'flow',
      headerAuth: AUTH,
      respond: { body: { ok: true, executionId: 42 } },
      ...extra,
    });

  it('reads an execution id when the workflow answers one; test URLs with testMode', async () => {
    await register({ test: true });
    const { data, usage } = await workflows().trigger(sync);
    expect(data).toEqual({
      status: 'succeeded',
      executionId: '42',
      output: { ok: true, executionId: 42 },
    });
    expect(usage).toMatchObject({
      provider: 'n8n',
      units: [{ name: 'execution', quantity: 1 }],
      reference: '42',
    });
    const test = await workflows({ testMode: true }).trigger(sync);
    expect(test.data.status).toBe('succeeded');
    const executions = (await (await fetch(`${base}/_control/n8n/executions`)).json()) as {
      test: boolean;
      payload: unknown;
      headers: Record<string, string>;
    }[];
    expect(executions.slice(-2).map((e) => e.test)).toEqual([false, true]);
    expect(executions.at(-2)?.headers['x-n8n-auth']).toBe('[redacted]');
  });

  it('answers text bodies as output', async () => {
    await register({ headerAuth: undefined, respond: { body: 'plain text' } });
    const { data } = await workflows({ headerAuth: undefined }).trigger(sync);
    expect(data).toEqual({ status: 'succeeded', executionId: undefined, output: 'plain text' });
  });

  it('maps a wrong header to auth (403)', async () => {
    await register();
    await expect(
      workflows({ headerAuth: { name: AUTH.name, value: 'wrong' } }).trigger(sync),
    ).rejects.toMatchObject({
      kind: 'auth',
      status: 403,
      message: 'n8n answered 403: Authorization data is wrong!',
    });
    await expect(workflows({ headerAuth: undefined }).trigger(sync)).rejects.toMatchObject({
      kind: 'auth',
    });
  });

  it('retries a 503 only with an idempotency key', async () => {
    await register();
    await control('/_control/faults', { vendor: 'n8n', status: 503, remaining: 1 });
    await expect(workflows().trigger(sync)).rejects.toMatchObject({
      kind: 'transient',
      status: 503,
    });
    await control('/_control/faults', { vendor: 'n8n', status: 503, remaining: 1 });
    const { data } = await workflows().trigger(sync, { idempotencyKey: 'k1' });
    expect(data.status).toBe('succeeded');
  });

  it('maps 429 to rate_limited, 4xx to invalid, 5xx workflow errors to transient', async () => {
    await control('/_control/faults', { vendor: 'n8n', status: 429, retryAfterS: 100 });
    await expect(workflows().trigger(sync)).rejects.toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 100_000,
    });
    await control('/_control/reset', {});
    await register({ respond: { status: 422, body: { code: 'bad_input', message: 'no lead' } } });
    await expect(workflows().trigger(sync)).rejects.toMatchObject({
      kind: 'invalid',
      providerCode: 'bad_input',
      message: 'n8n answered 422: no lead',
    });
    await register({ respond: { status: 500, body: 'Error in workflow' } });
    await expect(workflows().trigger(sync)).rejects.toMatchObject({ kind: 'transient' });
    await register({ headerAuth: undefined, respond: { status: 502, body: '' } });
    await expect(
      new N8nWorkflows({ baseUrl: `${base}/n8n`, maxRetries: 0 }).trigger(sync),
    ).rejects.toMatchObject({ kind: 'transient', status: 502, message: 'n8n answered 502' });
    await register({ respond: { status: 400, body: [1] } });
    await expect(workflows().trigger(sync)).rejects.toMatchObject({
      kind: 'invalid',
      providerCode: undefined,
    });
  });

  it('maps a timeout to transient', async () => {
    await register();
    await control('/_control/faults', { vendor: 'n8n', latencyMs: 800 });
    await expect(workflows({ timeoutMs: 100, maxRetries: 0 }).trigger(sync)).rejects.toMatchObject({
      kind: 'transient',
    });
  });

  it('never leaks the header credential', async () => {
    await register();
    const errors = [
      await workflows({ headerAuth: { name: AUTH.name, value: 'leak-check-secret-91b2' } })
        .trigger(sync)
        .catch((e: unknown) => e),
    ];
    await control('/_control/faults', { vendor: 'n8n', status: 500 });
    errors.push(
      await workflows()
        .trigger(sync)
        .catch((e: unknown) => e),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      const e = error as ProviderError;
      for (const text of [e.message, JSON.stringify(e), String(e.stack)]) {
        expect(text).not.toContain('leak-check-secret-91b2');
        expect(text).not.toContain(AUTH.value);
      }
    }
  });

  it('calls back with a failure when the workflow fails', async () => {
    await control('/_control/n8n/workflows', {
      path: 'fails',
      async: { fail: 'node X failed', delayMs: 10 },
    });
    const pending = new Promise<WorkflowCallback>((resolve) => waiting.push(resolve));
    const { data } = await workflows({ headerAuth: undefined }).trigger({
      webhookPath: 'fails',
      payload: { lead: 'l9' },
      mode: 'async',
      callbackUrl,
      correlationId: 'run-9:delegate:g0:s1',
    });
    // "Respond: Immediately" names no execution: the correlation id is what comes back.
    expect(data).toEqual({ status: 'accepted', executionId: undefined });
    const executions = (await (await fetch(`${base}/_control/n8n/executions`)).json()) as {
      payload: unknown;
    }[];
    expect(executions.at(-1)?.payload).toEqual({
      lead: 'l9',
      callbackUrl,
      correlationId: 'run-9:delegate:g0:s1',
    });
    const callback = await pending;
    expect(JSON.parse(callback.body)).toMatchObject({
      correlationId: 'run-9:delegate:g0:s1',
      status: 'failed',
      error: 'node X failed',
    });
    expect(
      verifyN8nCallback(
        'n8n-simulator-secret',
        callback.body,
        callback.headers[N8N_SIGNATURE_HEADER] as string,
      ),
    ).toBe(true);
  });
});

describe('n8n callback signature (our scheme)', () => {
  const body = '{"correlationId":"r:s:g0:s1","status":"succeeded"}';
  const now = 1_790_000_000_000;

  it('signs and verifies within five minutes either way', () => {
    const header = signN8nCallback(SECRET, body, now);
    expect(header).toMatch(/^t=1790000000,v1=[0-9a-f]{64}$/);
    expect(verifyN8nCallback(SECRET, body, header, now)).toBe(true);
    expect(verifyN8nCallback(SECRET, body, header, now + 299_000)).toBe(true);
    expect(verifyN8nCallback(SECRET, body, header, now - 299_000)).toBe(true);
    expect(verifyN8nCallback(SECRET, body, header, now + 301_000)).toBe(false);
    expect(verifyN8nCallback(SECRET, body, header, now - 301_000)).toBe(false);
    expect(signN8nCallback(SECRET, body)).toMatch(/^t=\d+,v1=/);
    expect(verifyN8nCallback(SECRET, body, signN8nCallback(SECRET, body))).toBe(true);
  });

  it('rejects other secrets, bodies and malformed headers; accepts any matching v1', () => {
    const header = signN8nCallback(SECRET, body, now);
    const v1 = header.split('v1=')[1]!;
    expect(verifyN8nCallback('other', body, header, now)).toBe(false);
    expect(verifyN8nCallback(SECRET, `${body} `, header, now)).toBe(false);
    expect(verifyN8nCallback('', body, header, now)).toBe(false);
    expect(verifyN8nCallback(SECRET, body, undefined, now)).toBe(false);
    expect(verifyN8nCallback(SECRET, body, `v1=${v1}`, now)).toBe(false);
    expect(verifyN8nCallback(SECRET, body, 't=1790000000', now)).toBe(false);
    expect(verifyN8nCallback(SECRET, body, 't=abc,v1=' + v1, now)).toBe(false);
    expect(verifyN8nCallback(SECRET, body, `t=1790000000,v1=short,v1=${v1}`, now)).toBe(true);
    expect(verifyN8nCallback(SECRET, body, `t=1790000000,v1=${'0'.repeat(64)}`, now)).toBe(false);
    expect(verifyN8nCallback(SECRET, body, `t=1790000000, v1=${v1}, x=1, v1`, now)).toBe(true);
  });
});
