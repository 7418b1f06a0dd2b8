import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPT_CACHE } from '../src/modules/prompts/prompts.module';
import type { ReplicatedCache } from '../src/platform/cache/replicated-cache';
import { as, signupOwner, type Account } from './support/accounts';
import { promptUrl } from './support/prompts';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * Two replicas of the API on one database and one Redis, both caching resolved prompts: a label
 * moved, an override published or a pin changed through one is what the other renders within a
 * second.
 */
describe.skipIf(!process.env.REDIS_URL)('prompt cache across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  let owner: Account;
  let clientId: string;
  let agentId: string;

  beforeAll(async () => {
    a = await startTestApp('api');
    b = await startTestApp('api', {
      DATABASE_URL: a.config.DATABASE_URL!,
      REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX,
      MASTER_KEY: a.config.MASTER_KEY!,
    });
    owner = await signupOwner(a.app);
    const api = as(a.app, owner.token);
    clientId = (await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'C' })).json<{
      id: string;
    }>().id;
    agentId = (
      await api.post(`/v1/tenants/${owner.tenantId}/clients/${clientId}/agents`, {
        name: 'A',
        channel: 'sms',
      })
    ).json<{ id: string }>().id;
    await api.post(`/v1/tenants/${owner.tenantId}/prompts`, { key: 'live/greeting', kind: 'text' });
    for (const content of ['one', 'two', 'three']) {
      await api.post(promptUrl(owner.tenantId, 'live/greeting', undefined, '/versions'), {
        content,
      });
    }
    await api.put(promptUrl(owner.tenantId, 'live/greeting', undefined, '/labels/production'), {
      version: 1,
    });
    // Both caches take entries only once their subscription is live.
    for (const app of [a, b]) {
      await waitFor(async () => app.app.get<ReplicatedCache>(PROMPT_CACHE).isLive, 5000, 20);
    }
  });
  afterAll(async () => {
    await b.app.close();
    await a.close();
  });

  const textOn = async (app: TestApp, body: object = {}, client?: string) =>
    (
      await as(app.app, owner.token).post(
        promptUrl(owner.tenantId, 'live/greeting', client, '/render'),
        body,
      )
    ).json<{
      text: string;
    }>().text;

  /** Polls replica B until it renders `expected`, answering how long that took. */
  async function propagation(
    expected: string,
    body: object = {},
    client?: string,
  ): Promise<number> {
    const started = Date.now();
    await waitFor(async () => (await textOn(b, body, client)) === expected, 1000, 5);
    return Date.now() - started;
  }

  it('serves renders from the cache', async () => {
    expect(await textOn(b)).toBe('one');
    const cache = b.app.get<ReplicatedCache>(PROMPT_CACHE);
    const before = cache.size;
    expect(await textOn(b)).toBe('one');
    expect(cache.size).toBe(before);
    expect(before).toBeGreaterThan(0);
  });

  it('renders a moved label on the other replica within a second, and a rollback too', async () => {
    expect(await textOn(b)).toBe('one');
    const label = promptUrl(owner.tenantId, 'live/greeting', undefined, '/labels/production');
    expect((await as(a.app, owner.token).put(label, { version: 2 })).statusCode).toBe(200);
    expect(await propagation('two')).toBeLessThan(1000);
    expect((await as(a.app, owner.token).post(`${label}/rollback`, {})).statusCode).toBe(200);
    expect(await propagation('one')).toBeLessThan(1000);
  });

  it('switches a client to its override on the other replica within a second', async () => {
    expect(await textOn(b, {}, clientId)).toBe('one');
    const api = as(a.app, owner.token);
    await api.post(`/v1/tenants/${owner.tenantId}/clients/${clientId}/prompts`, {
      key: 'live/greeting',
      kind: 'text',
    });
    await api.post(promptUrl(owner.tenantId, 'live/greeting', clientId, '/versions'), {
      content: 'client',
    });
    expect(await textOn(b, { label: 'latest' }, clientId)).toBe('client');
    await api.put(promptUrl(owner.tenantId, 'live/greeting', clientId, '/labels/production'), {
      version: 1,
    });
    expect(await propagation('client', {}, clientId)).toBeLessThan(1000);
    expect(await textOn(b)).toBe('one');
  });

  it("follows an agent's new pin on the other replica within a second", async () => {
    await as(a.app, owner.token).put(
      promptUrl(owner.tenantId, 'live/greeting', undefined, '/labels/canary'),
      { version: 3 },
    );
    expect(await textOn(b, { agentId }, clientId)).toBe('client');
    const pin = `/v1/tenants/${owner.tenantId}/clients/${clientId}/agents/${agentId}/prompt-pins/${encodeURIComponent('live/greeting')}`;
    expect((await as(a.app, owner.token).put(pin, { label: 'canary' })).statusCode).toBe(200);
    expect(await propagation('three', { agentId }, clientId)).toBeLessThan(1000);
  });
});
