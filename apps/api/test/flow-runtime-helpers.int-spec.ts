import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptsService } from '../src/modules/prompts/prompts.service';
import { ConnectionBudget } from '../src/modules/orchestrator/runtime/connection-budget';
import { promptRenderer } from '../src/modules/orchestrator/runtime/prompt-renderer';
import { usageOf } from '../src/modules/orchestrator/runtime/step-calls';
import { TenantSettingsService } from '../src/modules/tenancy/tenant-settings.service';
import { signupOwner, type Account } from './support/accounts';
import { freePort } from './support/free-port';
import { startTestApp, type TestApp } from './support/test-app';

describe('connection budgets', () => {
  const prefix = () => `maxai-test-${randomBytes(4).toString('hex')}`;

  it.runIf(process.env.REDIS_URL)(
    'lets a connection’s budget through, then answers how long to wait (Redis, shared)',
    async () => {
      const redis = new Redis(process.env.REDIS_URL!);
      try {
        const key = prefix();
        const one = new ConnectionBudget(redis, key, 2);
        const other = new ConnectionBudget(redis, key, 2);
        expect(await one.take('conn-a')).toBeNull();
        expect(await other.take('conn-a')).toBeNull();
        // Spent across both instances (every worker shares it); another connection is untouched.
        const wait = await one.take('conn-a');
        expect(wait).toBeGreaterThanOrEqual(1);
        expect(wait).toBeLessThanOrEqual(1000);
        expect(await other.take('conn-b')).toBeNull();
      } finally {
        redis.disconnect();
      }
    },
  );

  it('keeps a budget per process without Redis, and when Redis cannot be reached', async () => {
    const local = new ConnectionBudget(null, prefix(), 1);
    expect(await local.take('conn')).toBeNull();
    expect(await local.take('conn')).toBeGreaterThanOrEqual(1);

    const unreachable = new Redis({
      port: await freePort(),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    unreachable.on('error', () => undefined);
    try {
      const insured = new ConnectionBudget(unreachable, prefix(), 1);
      expect(await insured.take('conn')).toBeNull();
      expect(await insured.take('conn')).toBeGreaterThanOrEqual(1);
    } finally {
      unreachable.disconnect();
    }
  });
});

describe('usage rows from provider usage', () => {
  it('counts tokens for LLM calls, segments for SMS, seconds for calls, one for the rest', () => {
    expect(usageOf({ data: null })).toEqual([]);
    expect(
      usageOf({
        data: null,
        usage: {
          provider: 'openrouter',
          operation: 'llm.complete',
          units: [
            { name: 'prompt_tokens', quantity: 10 },
            { name: 'completion_tokens', quantity: 5 },
            { name: 'requests', quantity: 1 },
          ],
          costUsd: 0.0000125,
          reference: 'gen-1',
        },
      }),
    ).toEqual([
      {
        kind: 'llm_tokens',
        provider: 'openrouter',
        operation: 'llm.complete',
        quantity: 15,
        costMicros: 13,
        reference: 'gen-1',
      },
    ]);
    expect(
      usageOf({
        data: null,
        usage: {
          provider: 'retell',
          operation: 'voice.call',
          units: [{ name: 'seconds', quantity: 61.4 }],
        },
      }),
    ).toEqual([
      expect.objectContaining({
        kind: 'call_seconds',
        quantity: 61,
        costMicros: null,
        reference: null,
      }),
    ]);
    expect(
      usageOf({
        data: null,
        usage: {
          provider: 'twilio',
          operation: 'messaging.send_sms',
          units: [{ name: 'segments', quantity: 2 }],
        },
      }),
    ).toEqual([expect.objectContaining({ kind: 'sms_segments', quantity: 2 })]);
    expect(
      usageOf({ data: null, usage: { provider: 'n8n', operation: 'workflow.trigger', units: [] } }),
    ).toEqual([expect.objectContaining({ kind: 'provider_call', quantity: 1 })]);
  });
});

describe('tenant settings and prompts, as the flow runtime reads them', () => {
  let t: TestApp;
  let owner: Account;

  beforeAll(async () => {
    t = await startTestApp('api', { REDIS_URL: '' });
    owner = await signupOwner(t.app, 'Settings Agency');
  });
  afterAll(async () => {
    await t.close();
  });

  it('reads the HTTP allowlist: empty by default, and for a tenant it cannot see', async () => {
    const reader = t.app.get(TenantSettingsService);
    expect(await reader.httpAllowlist(owner.tenantId)).toEqual([]);
    expect(await reader.httpAllowlist(randomUUID())).toEqual([]);
  });

  it('passes errors that are not prompt problems through unchanged', async () => {
    const renderer = promptRenderer(t.app.get(PromptsService));
    const error = await renderer
      .render('not-a-tenant-id', { key: 'desk/reply', variables: {} })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Error);
    // Not a problem of the prompt's: passed through as it is, not made a permanent step failure.
    expect((error as Error).name).not.toBe('PermanentStepError');
    expect((error as Error).message).toMatch(/tenant id must be a UUID/);
  });
});
