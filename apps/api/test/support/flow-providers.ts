import { TWILIO_SIM_ACCOUNT, RETELL_SIM_WORKSPACE } from '@maxai/simulators';
import { expect } from 'vitest';
import type { TestApp } from './test-app';
import { as, type Account } from './accounts';

/** The simulators' control API: scripted scenarios and faults. */
export function simControl(simUrl: string) {
  return async (path: string, body: object): Promise<Record<string, unknown>> => {
    const res = await fetch(`${simUrl}/_control/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  };
}

/** Consent at an OAuth provider's simulator: its authorize page redirects back to our callback. */
export async function oauthConnect(t: TestApp, owner: Account, provider: string): Promise<string> {
  const started = await as(t.app, owner.token).post(
    `/v1/tenants/${owner.tenantId}/connections/${provider}/authorize`,
    { name: `${provider} main` },
  );
  expect(started.statusCode, started.body).toBe(200);
  const consent = await fetch(started.json<{ authorizeUrl: string }>().authorizeUrl, {
    redirect: 'manual',
  });
  const back = new URL(consent.headers.get('location')!);
  const callback = await t.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` });
  expect(callback.statusCode).toBe(302);
  return new URL(callback.headers.location!).pathname.split('/').at(-1)!;
}

/** An API-key connection, answered by id. */
export async function keyedConnection(
  t: TestApp,
  owner: Account,
  provider: string,
  credentials: Record<string, string>,
  clientId?: string,
): Promise<string> {
  const res = await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/connections`, {
    provider,
    name: provider,
    credentials,
    ...(clientId ? { clientId } : {}),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

export async function bind(
  t: TestApp,
  owner: Account,
  port: string,
  connectionId: string,
  clientId?: string,
): Promise<void> {
  const res = await as(t.app, owner.token).put(`/v1/tenants/${owner.tenantId}/bindings/${port}`, {
    connectionId,
    ...(clientId ? { clientId } : {}),
  });
  expect(res.statusCode, res.body).toBe(200);
}

/** A Retell agent of the simulator's workspace (an LLM behind it), answered by id. */
export async function retellAgent(simUrl: string): Promise<string> {
  const post = async (path: string, body: object) => {
    const res = await fetch(`${simUrl}/retell/${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${RETELL_SIM_WORKSPACE.apiKey}`,
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return res.json() as Promise<Record<string, string>>;
  };
  const llm = await post('create-retell-llm', { general_prompt: 'You are a receptionist.' });
  const agent = await post('create-agent', {
    voice_id: '11labs-Adrian',
    response_engine: { type: 'retell-llm', llm_id: llm.llm_id },
  });
  return agent.agent_id!;
}

export const TWILIO_CREDENTIALS = {
  accountSid: TWILIO_SIM_ACCOUNT.accountSid,
  authToken: TWILIO_SIM_ACCOUNT.authToken,
};
