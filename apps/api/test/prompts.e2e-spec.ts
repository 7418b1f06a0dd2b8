import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '@maxai/db';
import { AuditService } from '../src/modules/audit/audit.service';
import { PromptApprovalsService } from '../src/modules/prompts/prompt-approvals.service';
import { PromptResolver } from '../src/modules/prompts/prompt-resolver';
import { PromptVersionsService } from '../src/modules/prompts/prompt-versions.service';
import { PromptsRepository } from '../src/modules/prompts/prompts.repository';
import { PromptsService } from '../src/modules/prompts/prompts.service';
import { ReplicatedCache } from '../src/platform/cache/replicated-cache';
import { DATABASE } from '../src/platform/database/database.module';
import { ProblemError } from '../src/platform/errors/problem';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { apiKey, callerOf, promptUrl, tenantUser } from './support/prompts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let owner: Account;
let clientId: string;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  owner = await signupOwner(t.app, 'Prompt Agency');
  clientId = (
    await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Dental' })
  ).json<{ id: string }>().id;
});
afterAll(async () => {
  await t.close();
});

const problemType = (body: string) => (JSON.parse(body) as { type: string }).type.split('/').pop();

/** Creates a prompt with versions (each a content string) through the API. */
async function promptWith(key: string, contents: string[], extra: object = {}, client?: string) {
  const api = as(t.app, owner.token);
  const base = client
    ? `/v1/tenants/${owner.tenantId}/clients/${client}/prompts`
    : `/v1/tenants/${owner.tenantId}/prompts`;
  const created = await api.post(base, { key, kind: 'text', ...extra });
  expect(created.statusCode).toBe(201);
  for (const content of contents) {
    const res = await api.post(promptUrl(owner.tenantId, key, client, '/versions'), { content });
    expect(res.statusCode).toBe(201);
  }
}

async function render(token: string, key: string, body: object, client?: string) {
  return as(t.app, token).post(promptUrl(owner.tenantId, key, client, '/render'), body);
}

describe('templates and versions', () => {
  it('keeps immutable, numbered versions under a key with slashes', async () => {
    const api = as(t.app, owner.token);
    await promptWith('front-desk/greeting', ['Hi {{ name }}!', 'Hello {{ name }}, welcome.']);
    const got = await api.get(promptUrl(owner.tenantId, 'front-desk/greeting'));
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({
      key: 'front-desk/greeting',
      kind: 'text',
      scope: 'tenant',
      clientId: null,
      protectedLabels: ['production'],
      latestVersion: 2,
      labels: [],
    });
    const history = await api.get(
      promptUrl(owner.tenantId, 'front-desk/greeting', undefined, '/versions?limit=1'),
    );
    expect(history.json()).toMatchObject({
      data: [{ version: 2, content: 'Hello {{ name }}, welcome.', author: { type: 'user' } }],
      nextCursor: 2,
    });
    const older = await api.get(
      promptUrl(owner.tenantId, 'front-desk/greeting', undefined, '/versions?limit=1&cursor=2'),
    );
    expect(older.json()).toMatchObject({ data: [{ version: 1 }], nextCursor: null });
    const one = await api.get(
      promptUrl(owner.tenantId, 'front-desk/greeting', undefined, '/versions/1'),
    );
    expect(one.json()).toMatchObject({
      version: 1,
      variablesSchema: { type: 'object', required: ['name'] },
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(
      (await api.get(promptUrl(owner.tenantId, 'front-desk/greeting', undefined, '/versions/9')))
        .statusCode,
    ).toBe(404);
    // Nothing renders until a label points at a version: creating versions changed nothing live.
    expect(
      (await render(owner.token, 'front-desk/greeting', { variables: { name: 'A' } })).statusCode,
    ).toBe(404);
  });

  it('refuses a duplicate key, a malformed key and an unknown prompt', async () => {
    const api = as(t.app, owner.token);
    const base = `/v1/tenants/${owner.tenantId}/prompts`;
    expect((await api.post(base, { key: 'front-desk/greeting', kind: 'text' })).statusCode).toBe(
      409,
    );
    for (const key of ['../x', 'a//b', '/a', 'a/', 'a b', '.hidden']) {
      expect((await api.post(base, { key, kind: 'text' })).statusCode, key).toBe(400);
    }
    expect((await api.get(promptUrl(owner.tenantId, 'no/such'))).statusCode).toBe(404);
    expect(
      (
        await api.post(promptUrl(owner.tenantId, 'no/such', undefined, '/versions'), {
          content: 'x',
        })
      ).statusCode,
    ).toBe(404);
  });

  it('lists prompts by key, paged', async () => {
    await promptWith('a/first', []);
    await promptWith('z/last', []);
    const api = as(t.app, owner.token);
    const page = await api.get(`/v1/tenants/${owner.tenantId}/prompts?limit=2`);
    const body = page.json<{ data: { key: string }[]; nextCursor: string }>();
    expect(body.data.map((p) => p.key)).toEqual(['a/first', 'front-desk/greeting']);
    const rest = await api.get(
      `/v1/tenants/${owner.tenantId}/prompts?limit=2&cursor=${encodeURIComponent(body.nextCursor)}`,
    );
    expect(rest.json<{ data: { key: string }[] }>().data.map((p) => p.key)).toContain('z/last');
  });

  it('checks each version when it is created: syntax with line and column, variables, size, kind', async () => {
    await promptWith('checks/one', []);
    const post = (body: object) =>
      as(t.app, owner.token).post(
        promptUrl(owner.tenantId, 'checks/one', undefined, '/versions'),
        body,
      );
    const syntax = await post({ content: 'Hello\n  {{ name' });
    expect(syntax.statusCode).toBe(422);
    expect(syntax.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/template-syntax',
      errors: [{ field: 'body.content', line: 2, column: 3 }],
    });
    const include = await post({ content: '{% include "secrets" %}' });
    expect(problemType(include.body)).toBe('template-syntax');
    const undeclared = await post({
      content: 'Hi {{ name }} {{ nmae }}',
      variablesSchema: { type: 'object', properties: { name: { type: 'string' } } },
    });
    expect(undeclared.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/template-syntax',
      errors: [
        { field: 'body.content', line: 1, column: 18, message: expect.stringContaining('nmae') },
      ],
    });
    const badSchema = await post({
      content: 'x',
      variablesSchema: { type: 'object', properties: 1 },
    });
    expect(badSchema.statusCode).toBe(422);
    expect((await post({ content: 'x'.repeat(64 * 1024 + 1) })).statusCode).toBe(413);
    expect((await post({ content: 'x'.repeat(64 * 1024) })).statusCode).toBe(201);
    expect((await post({ messages: [{ role: 'user', content: 'x' }] })).statusCode).toBe(400);
    expect((await post({ content: 'x', modelSettings: { temperature: 3 } })).statusCode).toBe(400);
    expect((await post({ content: 'x', modelSettings: { tempreature: 1 } })).statusCode).toBe(400);
  });

  it('diffs two versions: the content as a unified diff, and every changed setting', async () => {
    const api = as(t.app, owner.token);
    await promptWith('diff/me', []);
    const url = promptUrl(owner.tenantId, 'diff/me', undefined, '/versions');
    await api.post(url, {
      content: 'Hello {{ name }}.\nHow can I help?',
      modelSettings: { model: 'a', temperature: 0.2 },
    });
    await api.post(url, {
      content: 'Hi {{ name }}!\nHow can I help?',
      modelSettings: { model: 'a', maxTokens: 200, responseFormat: { type: 'json_object' } },
      tags: ['short'],
    });
    const diff = await api.get(
      promptUrl(owner.tenantId, 'diff/me', undefined, '/diff?from=1&to=2'),
    );
    expect(diff.json()).toEqual({
      from: 1,
      to: 2,
      content:
        '--- diff/me@1\n+++ diff/me@2\n@@ -1,2 +1,2 @@\n-Hello {{ name }}.\n+Hi {{ name }}!\n How can I help?\n',
      changes: [
        { field: 'modelSettings.maxTokens', from: null, to: 200 },
        { field: 'modelSettings.responseFormat', from: null, to: { type: 'json_object' } },
        { field: 'modelSettings.temperature', from: 0.2, to: null },
        { field: 'tags', from: [], to: ['short'] },
      ],
    });
    expect(
      (await api.get(promptUrl(owner.tenantId, 'diff/me', undefined, '/diff?from=1&to=7')))
        .statusCode,
    ).toBe(404);
    // By default: the newest version against the one before.
    const latest = await api.get(promptUrl(owner.tenantId, 'diff/me', undefined, '/diff'));
    expect(latest.json()).toMatchObject({ from: 1, to: 2 });
    await promptWith('diff/empty', []);
    expect(
      (await api.get(promptUrl(owner.tenantId, 'diff/empty', undefined, '/diff'))).statusCode,
    ).toBe(404);
  });

  it('keeps chat prompts as role/content messages and diffs them as blocks', async () => {
    const api = as(t.app, owner.token);
    expect(
      (
        await api.post(`/v1/tenants/${owner.tenantId}/prompts`, {
          key: 'chat/booking',
          kind: 'chat',
        })
      ).statusCode,
    ).toBe(201);
    const url = promptUrl(owner.tenantId, 'chat/booking', undefined, '/versions');
    expect((await api.post(url, { content: 'x' })).statusCode).toBe(400);
    for (const question of ['{{ question }}', 'Q: {{ question }}']) {
      const res = await api.post(url, {
        messages: [
          { role: 'system', content: 'You book visits at {{ business }}.' },
          { role: 'user', content: question },
        ],
        modelSettings: { model: 'openai/gpt-4o-mini' },
      });
      expect(res.statusCode).toBe(201);
    }
    await api.put(promptUrl(owner.tenantId, 'chat/booking', undefined, '/labels/production'), {
      version: 2,
    });
    const rendered = await render(owner.token, 'chat/booking', {
      variables: { business: 'Bright Smiles', question: 'Saturday?' },
    });
    expect(rendered.json()).toMatchObject({
      kind: 'chat',
      version: 2,
      messages: [
        { role: 'system', content: 'You book visits at Bright Smiles.' },
        { role: 'user', content: 'Q: Saturday?' },
      ],
      modelSettings: { model: 'openai/gpt-4o-mini' },
    });
    expect(rendered.json()).not.toHaveProperty('text');
    const diff = await api.get(
      promptUrl(owner.tenantId, 'chat/booking', undefined, '/diff?from=1&to=2'),
    );
    expect(diff.json<{ content: string }>().content).toContain(
      '-{{ question }}\n+Q: {{ question }}',
    );
  });

  it('changes descriptions with prompts:write, protected labels only with prompts:publish', async () => {
    const member = await tenantUser(t.app, owner.tenantId, 'member');
    const url = promptUrl(owner.tenantId, 'front-desk/greeting');
    const described = await as(t.app, member.token).patch(url, { description: 'First words' });
    expect(described.json()).toMatchObject({ description: 'First words' });
    expect((await as(t.app, member.token).patch(url, { protectedLabels: [] })).statusCode).toBe(
      403,
    );
    expect(
      (
        await as(t.app, member.token).post(`/v1/tenants/${owner.tenantId}/prompts`, {
          key: 'unguarded',
          kind: 'text',
          protectedLabels: [],
        })
      ).statusCode,
    ).toBe(403);
    const admin = await tenantUser(t.app, owner.tenantId, 'admin');
    const guarded = await as(t.app, admin.token).patch(url, {
      protectedLabels: ['production', 'staging', 'staging'],
    });
    expect(guarded.json()).toMatchObject({ protectedLabels: ['production', 'staging'] });
    expect(
      (await as(t.app, admin.token).patch(url, { protectedLabels: ['staging', 'production'] }))
        .statusCode,
    ).toBe(200);
    await as(t.app, admin.token).patch(url, { protectedLabels: ['production'] });
    const audit = await as(t.app, owner.token).get(
      `/v1/tenants/${owner.tenantId}/audit-events?action=prompt.updated`,
    );
    expect(audit.json<{ data: { changes: object }[] }>().data).toHaveLength(3);
  });
});

describe('rendering', () => {
  it('renders by label (production by default), latest, version number or version id', async () => {
    const api = as(t.app, owner.token);
    await promptWith(
      'render/modes',
      ['one {{ n }}', 'two {{ n }}', 'three {{ n }}'],
      {},
      undefined,
    );
    const label = (name: string, version: number) =>
      api.put(promptUrl(owner.tenantId, 'render/modes', undefined, `/labels/${name}`), { version });
    expect((await label('production', 1)).statusCode).toBe(200);
    expect((await label('staging', 2)).statusCode).toBe(200);
    const text = async (body: object) =>
      (await render(owner.token, 'render/modes', { variables: { n: 1 }, ...body })).json<{
        text: string;
      }>().text;
    expect(await text({})).toBe('one 1');
    expect(await text({ label: 'staging' })).toBe('two 1');
    expect(await text({ label: 'latest' })).toBe('three 1');
    expect(await text({ version: 3 })).toBe('three 1');
    const v2 = (
      await api.get(promptUrl(owner.tenantId, 'render/modes', undefined, '/versions/2'))
    ).json<{ id: string }>();
    const byId = await render(owner.token, 'render/modes', {
      versionId: v2.id,
      variables: { n: 5 },
    });
    expect(byId.json()).toMatchObject({
      text: 'two 5',
      versionId: v2.id,
      version: 2,
      label: null,
      scope: 'tenant',
    });
    expect(
      (await render(owner.token, 'render/modes', { label: 'canary', variables: { n: 1 } }))
        .statusCode,
    ).toBe(404);
    expect(
      (await render(owner.token, 'render/modes', { version: 9, variables: { n: 1 } })).statusCode,
    ).toBe(404);
    expect(
      (await render(owner.token, 'render/modes', { label: 'staging', version: 1 })).statusCode,
    ).toBe(400);
    const resolved = await api.get(
      promptUrl(owner.tenantId, 'render/modes', undefined, '/resolve?label=staging'),
    );
    expect(resolved.json()).toMatchObject({ version: 2, label: 'staging', scope: 'tenant' });
  });

  it('validates variables against the schema, listing each problem (422)', async () => {
    const api = as(t.app, owner.token);
    await promptWith('render/typed', []);
    await api.post(promptUrl(owner.tenantId, 'render/typed', undefined, '/versions'), {
      content: '{{ name }} at {{ time }}{% if note %} ({{ note }}){% endif %}',
      variablesSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1 },
          time: { type: 'string', pattern: '^[0-9]{2}:[0-9]{2}$' },
          note: { type: 'string' },
        },
        required: ['name', 'time'],
        additionalProperties: false,
      },
    });
    await api.put(promptUrl(owner.tenantId, 'render/typed', undefined, '/labels/production'), {
      version: 1,
    });
    const bad = await render(owner.token, 'render/typed', {
      variables: { time: '9am', extra: true },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/prompt-variables-invalid',
      errors: [
        { field: 'variables.name', message: 'is required' },
        { field: 'variables.extra', message: 'is not allowed' },
        { field: 'variables.time', message: expect.stringContaining('pattern') },
      ],
    });
    const ok = await render(owner.token, 'render/typed', {
      variables: { name: 'Ana', time: '09:30' },
    });
    expect(ok.json()).toMatchObject({ text: 'Ana at 09:30' });
    const noted = await render(owner.token, 'render/typed', {
      variables: { name: 'Ana', time: '09:30', note: 'new' },
    });
    expect(noted.json()).toMatchObject({ text: 'Ana at 09:30 (new)' });
  });

  it('reaches nothing but the variables: prototype probes render nothing, they fail', async () => {
    const api = as(t.app, owner.token);
    await promptWith('render/probe', []);
    await api.post(promptUrl(owner.tenantId, 'render/probe', undefined, '/versions'), {
      content: '[{{ a.constructor.name }}][{{ a.__proto__ }}]',
      variablesSchema: { type: 'object', properties: { a: { type: 'object' } } },
    });
    await api.put(promptUrl(owner.tenantId, 'render/probe', undefined, '/labels/production'), {
      version: 1,
    });
    const probe = await render(owner.token, 'render/probe', { variables: { a: {} } });
    expect(probe.statusCode).toBe(422);
    expect(probe.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/prompt-variables-invalid',
      errors: [{ field: 'variables.a.constructor', message: 'is required by the template' }],
    });
    expect(probe.body).not.toMatch(/Object|function|native code/);
    // A template cannot even mention a variable its schema does not declare.
    const undeclared = await api.post(
      promptUrl(owner.tenantId, 'render/probe', undefined, '/versions'),
      {
        content: '{{ constructor }}{{ process.env }}',
        variablesSchema: { type: 'object', properties: {} },
      },
    );
    expect(undeclared.json<{ errors: unknown[] }>().errors).toHaveLength(2);
    // Runaway loops are stopped.
    await api.post(promptUrl(owner.tenantId, 'render/probe', undefined, '/versions'), {
      content: '{% for i in (1..n) %}{% for j in (1..n) %}{{ j }}{% endfor %}{% endfor %}',
    });
    await api.put(promptUrl(owner.tenantId, 'render/probe', undefined, '/labels/loop'), {
      version: 2,
    });
    const loop = await render(owner.token, 'render/probe', {
      label: 'loop',
      variables: { n: 5000 },
    });
    expect(loop.statusCode).toBe(422);
    expect(problemType(loop.body)).toBe('prompt-render-failed');
  });

  it('renders in process for other modules, with frozen settings and the version to stamp', async () => {
    const api = as(t.app, owner.token);
    await promptWith('render/in-process', []);
    await api.post(promptUrl(owner.tenantId, 'render/in-process', undefined, '/versions'), {
      content: 'Hi {{ name }}',
      modelSettings: { model: 'm', temperature: 0.1, responseFormat: { type: 'text' } },
    });
    await api.put(promptUrl(owner.tenantId, 'render/in-process', undefined, '/labels/production'), {
      version: 1,
    });
    const service = t.app.get(PromptsService);
    const result = await service.render(owner.tenantId, {
      key: 'render/in-process',
      variables: { name: 'Ana' },
    });
    expect(result).toMatchObject({ text: 'Hi Ana', version: 1, kind: 'text', scope: 'tenant' });
    expect(() => {
      (result.modelSettings as { temperature: number }).temperature = 2;
    }).toThrow(TypeError);
    const again = await service.render(owner.tenantId, {
      clientId,
      key: 'render/in-process',
      variables: { name: 'Bo' },
    });
    expect(again).toMatchObject({
      text: 'Hi Bo',
      modelSettings: { temperature: 0.1 },
      versionId: result.versionId,
    });
    await expect(
      service.render(owner.tenantId, {
        clientId: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f',
        key: 'render/in-process',
      }),
    ).rejects.toMatchObject({ problemType: 'not-found' });
    await expect(
      service.render(owner.tenantId, {
        key: 'render/in-process',
        agentId: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f',
      }),
    ).rejects.toMatchObject({ problemType: 'validation-error' });
  });
});

describe('labels', () => {
  it('moves, rolls back and removes labels, and tells who moved which when', async () => {
    const api = as(t.app, owner.token);
    await promptWith('labels/moves', ['v1', 'v2', 'v3']);
    const labelUrl = promptUrl(owner.tenantId, 'labels/moves', undefined, '/labels/production');
    const moved = await api.put(labelUrl, { version: 1 });
    expect(moved.json()).toMatchObject({
      name: 'production',
      version: 1,
      previousVersion: null,
      protected: true,
    });
    expect((await render(owner.token, 'labels/moves', {})).json()).toMatchObject({ text: 'v1' });
    await api.put(labelUrl, { version: 3 });
    // A render right after the move serves the new version (the cache was dropped).
    expect((await render(owner.token, 'labels/moves', {})).json()).toMatchObject({ text: 'v3' });
    expect((await api.put(labelUrl, { version: 3 })).json()).toMatchObject({
      version: 3,
      previousVersion: 1,
    });
    const rolledBack = await api.post(`${labelUrl}/rollback`, {});
    expect(rolledBack.json()).toMatchObject({ version: 1, previousVersion: 3 });
    expect((await render(owner.token, 'labels/moves', {})).json()).toMatchObject({ text: 'v1' });
    expect((await api.put(labelUrl, { version: 8 })).statusCode).toBe(404);
    expect(
      (
        await api.put(promptUrl(owner.tenantId, 'labels/moves', undefined, '/labels/latest'), {
          version: 1,
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (
        await api.put(promptUrl(owner.tenantId, 'labels/moves', undefined, '/labels/Bad'), {
          version: 1,
        })
      ).statusCode,
    ).toBe(400);
    const staging = promptUrl(owner.tenantId, 'labels/moves', undefined, '/labels/staging');
    await api.put(staging, { version: 2 });
    expect((await api.post(`${staging}/rollback`, {})).statusCode).toBe(409);
    expect((await api.delete(staging)).statusCode).toBe(204);
    expect((await render(owner.token, 'labels/moves', { label: 'staging' })).statusCode).toBe(404);

    const history = await api.get(
      promptUrl(owner.tenantId, 'labels/moves', undefined, '/label-history?limit=10'),
    );
    const entries = history.json<{ data: object[] }>().data;
    expect(entries).toEqual([
      expect.objectContaining({ label: 'staging', fromVersion: 2, toVersion: null }),
      expect.objectContaining({ label: 'staging', fromVersion: null, toVersion: 2 }),
      expect.objectContaining({
        label: 'production',
        fromVersion: 3,
        toVersion: 1,
        rollback: true,
      }),
      expect.objectContaining({
        label: 'production',
        fromVersion: 1,
        toVersion: 3,
        actorType: 'user',
      }),
      expect.objectContaining({
        label: 'production',
        fromVersion: null,
        toVersion: 1,
        approvalId: null,
      }),
    ]);
    const events = await api.get(
      `/v1/tenants/${owner.tenantId}/events?type=maxai.prompts.label.moved`,
    );
    expect(
      events.json<{ data: { subject: string }[] }>().data.some((e) => e.subject === 'labels/moves'),
    ).toBe(true);
  });

  it('moves a protected label only with prompts:publish, for users and API keys alike', async () => {
    await promptWith('labels/guarded', ['v1', 'v2']);
    const url = (label: string) =>
      promptUrl(owner.tenantId, 'labels/guarded', undefined, `/labels/${label}`);
    const member = await tenantUser(t.app, owner.tenantId, 'member');
    expect((await as(t.app, member.token).put(url('staging'), { version: 1 })).statusCode).toBe(
      200,
    );
    const refused = await as(t.app, member.token).put(url('production'), { version: 1 });
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ detail: string }>().detail).toContain('prompts:publish');
    expect((await as(t.app, member.token).delete(url('production'))).statusCode).toBe(403);

    const writer = await apiKey(t.app, owner, ['prompts:read', 'prompts:write']);
    expect((await as(t.app, writer).put(url('staging'), { version: 2 })).statusCode).toBe(200);
    expect((await as(t.app, writer).put(url('production'), { version: 2 })).statusCode).toBe(403);
    expect((await as(t.app, writer).post(`${url('production')}/rollback`, {})).statusCode).toBe(
      403,
    );
    const publisher = await apiKey(t.app, owner, [
      'prompts:read',
      'prompts:write',
      'prompts:publish',
    ]);
    expect((await as(t.app, publisher).put(url('production'), { version: 2 })).statusCode).toBe(
      200,
    );
    const reader = await apiKey(t.app, owner, ['prompts:read']);
    expect((await render(reader, 'labels/guarded', {})).json()).toMatchObject({ text: 'v2' });
    expect((await as(t.app, reader).put(url('staging'), { version: 1 })).statusCode).toBe(403);
  });
});

describe('client overrides', () => {
  it("resolves each label in the client's override when it has it, else in the tenant's library", async () => {
    const api = as(t.app, owner.token);
    const other = (
      await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Other' })
    ).json<{ id: string }>().id;
    await promptWith('override/greeting', ['Base {{ name }}', 'Base staging {{ name }}']);
    await api.put(promptUrl(owner.tenantId, 'override/greeting', undefined, '/labels/production'), {
      version: 1,
    });
    await api.put(promptUrl(owner.tenantId, 'override/greeting', undefined, '/labels/staging'), {
      version: 2,
    });
    const vars = { variables: { name: 'Ana' } };
    expect((await render(owner.token, 'override/greeting', vars, clientId)).json()).toMatchObject({
      text: 'Base Ana',
      scope: 'tenant',
    });
    // The override exists, with a version, but no production label yet: nothing changes for the client.
    await promptWith('override/greeting', ['Dental {{ name }}'], {}, clientId);
    expect((await render(owner.token, 'override/greeting', vars, clientId)).json()).toMatchObject({
      scope: 'tenant',
    });
    expect(
      (
        await render(owner.token, 'override/greeting', { ...vars, label: 'latest' }, clientId)
      ).json(),
    ).toMatchObject({
      text: 'Dental Ana',
      scope: 'client',
    });
    await api.put(promptUrl(owner.tenantId, 'override/greeting', clientId, '/labels/production'), {
      version: 1,
    });
    expect((await render(owner.token, 'override/greeting', vars, clientId)).json()).toMatchObject({
      text: 'Dental Ana',
      scope: 'client',
      version: 1,
    });
    expect(
      (
        await render(owner.token, 'override/greeting', { ...vars, label: 'staging' }, clientId)
      ).json(),
    ).toMatchObject({
      text: 'Base staging Ana',
      scope: 'tenant',
    });
    expect(
      (await render(owner.token, 'override/greeting', { ...vars, version: 1 }, clientId)).json(),
    ).toMatchObject({
      scope: 'client',
    });
    expect((await render(owner.token, 'override/greeting', vars, other)).json()).toMatchObject({
      text: 'Base Ana',
    });
    expect((await render(owner.token, 'override/greeting', vars)).json()).toMatchObject({
      text: 'Base Ana',
    });
    const list = await api.get(`/v1/tenants/${owner.tenantId}/clients/${clientId}/prompts`);
    expect(list.json<{ data: { key: string; scope: string }[] }>().data).toEqual([
      expect.objectContaining({ key: 'override/greeting', scope: 'client', clientId }),
    ]);
    // A tenant's version id cannot be rendered through another key.
    const baseVersion = (
      await api.get(promptUrl(owner.tenantId, 'override/greeting', undefined, '/versions/1'))
    ).json<{ id: string }>();
    expect(
      (await render(owner.token, 'render/modes', { versionId: baseVersion.id }, clientId))
        .statusCode,
    ).toBe(404);
    // An unknown client of this tenant has nothing.
    const ghost = '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f';
    expect((await render(owner.token, 'override/greeting', vars, ghost)).statusCode).toBe(404);
    expect(
      (await api.get(`/v1/tenants/${owner.tenantId}/clients/${ghost}/prompts`)).statusCode,
    ).toBe(404);
    expect(
      (
        await api.post(`/v1/tenants/${owner.tenantId}/clients/${ghost}/prompts`, {
          key: 'x',
          kind: 'text',
        })
      ).statusCode,
    ).toBe(404);
  });

  it("gives client users their client's overrides and renders, not the library or other clients", async () => {
    const editor = await clientUser(t.app, owner.tenantId, clientId, 'client_editor');
    const viewer = await clientUser(t.app, owner.tenantId, clientId, 'client_viewer');
    const clientAdmin = await clientUser(t.app, owner.tenantId, clientId, 'client_admin');
    const base = `/v1/tenants/${owner.tenantId}/clients/${clientId}/prompts`;
    expect(
      (await as(t.app, editor.token).post(base, { key: 'client/only', kind: 'text' })).statusCode,
    ).toBe(201);
    expect(
      (
        await as(t.app, editor.token).post(
          promptUrl(owner.tenantId, 'client/only', clientId, '/versions'),
          { content: 'hi' },
        )
      ).statusCode,
    ).toBe(201);
    const label = promptUrl(owner.tenantId, 'client/only', clientId, '/labels/production');
    expect((await as(t.app, editor.token).put(label, { version: 1 })).statusCode).toBe(403);
    expect((await as(t.app, clientAdmin.token).put(label, { version: 1 })).statusCode).toBe(200);
    expect((await render(viewer.token, 'client/only', {}, clientId)).json()).toMatchObject({
      text: 'hi',
    });
    expect(
      (await render(viewer.token, 'override/greeting', { variables: { name: 'V' } }, clientId))
        .statusCode,
    ).toBe(200);
    expect(
      (await as(t.app, viewer.token).post(base, { key: 'nope', kind: 'text' })).statusCode,
    ).toBe(403);
    expect(
      (await as(t.app, editor.token).get(`/v1/tenants/${owner.tenantId}/prompts`)).statusCode,
    ).toBe(403);
    expect(
      (
        await as(t.app, editor.token).post(`/v1/tenants/${owner.tenantId}/prompts`, {
          key: 'lib',
          kind: 'text',
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await render(editor.token, 'override/greeting', { variables: { name: 'E' } })).statusCode,
    ).toBe(403);
    const other = (
      await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, {
        name: 'Elsewhere',
      })
    ).json<{ id: string }>().id;
    expect(
      (await render(editor.token, 'override/greeting', { variables: { name: 'E' } }, other))
        .statusCode,
    ).toBe(404);
  });

  it('checks the caller again in the service, without the HTTP guard', async () => {
    const service = t.app.get(PromptsService);
    const viewer = await callerOf(
      t.app,
      (await clientUser(t.app, owner.tenantId, clientId, 'client_viewer')).token,
    );
    const stranger = await callerOf(t.app, (await signupOwner(t.app, 'Stranger')).token);
    const attempt = async (promise: Promise<unknown>) => {
      try {
        await promise;
        return 'none';
      } catch (error) {
        return error instanceof ProblemError ? error.problemType : String(error);
      }
    };
    const meta = {};
    expect(
      await attempt(
        service.create(
          viewer,
          { tenantId: owner.tenantId, clientId },
          { key: 'k', kind: 'text', description: '' },
          meta,
        ),
      ),
    ).toBe('forbidden');
    expect(
      await attempt(
        service.create(
          stranger,
          { tenantId: owner.tenantId },
          { key: 'k', kind: 'text', description: '' },
          meta,
        ),
      ),
    ).toBe('not-found');
    expect(
      await attempt(
        service.renderFor(stranger, { tenantId: owner.tenantId }, { key: 'labels/moves' }),
      ),
    ).toBe('not-found');
    expect(await attempt(service.list(viewer, { tenantId: owner.tenantId }, { limit: 10 }))).toBe(
      'forbidden',
    );
  });
});

describe('deleting a prompt', () => {
  it('needs prompts:publish, takes its versions and labels along, and stops renders at once', async () => {
    await promptWith('delete/me', ['bye']);
    await as(t.app, owner.token).put(
      promptUrl(owner.tenantId, 'delete/me', undefined, '/labels/production'),
      { version: 1 },
    );
    expect((await render(owner.token, 'delete/me', {})).statusCode).toBe(200);
    const member = await tenantUser(t.app, owner.tenantId, 'member');
    expect(
      (await as(t.app, member.token).delete(promptUrl(owner.tenantId, 'delete/me'))).statusCode,
    ).toBe(403);
    expect(
      (await as(t.app, owner.token).delete(promptUrl(owner.tenantId, 'delete/me'))).statusCode,
    ).toBe(204);
    expect((await render(owner.token, 'delete/me', {})).statusCode).toBe(404);
    expect(
      (await as(t.app, owner.token).delete(promptUrl(owner.tenantId, 'delete/me'))).statusCode,
    ).toBe(404);
    const audit = await as(t.app, owner.token).get(
      `/v1/tenants/${owner.tenantId}/audit-events?action=prompt.deleted`,
    );
    expect(audit.json<{ data: { changes: object }[] }>().data[0]?.changes).toMatchObject({
      key: 'delete/me',
      labels: { production: 1 },
    });
  });
});

describe('rendering edges', () => {
  it('answers 404 for a version or latest of an unknown key, and an empty list for an empty scope', async () => {
    expect((await render(owner.token, 'no/such/key', { version: 1 })).statusCode).toBe(404);
    expect((await render(owner.token, 'no/such/key', { label: 'latest' })).statusCode).toBe(404);
    const empty = (
      await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Empty' })
    ).json<{ id: string }>().id;
    const list = await as(t.app, owner.token).get(
      `/v1/tenants/${owner.tenantId}/clients/${empty}/prompts`,
    );
    expect(list.json()).toEqual({ data: [], nextCursor: null });
  });

  it("resolves to the client's override and says so", async () => {
    const resolved = await as(t.app, owner.token).get(
      promptUrl(owner.tenantId, 'override/greeting', clientId, '/resolve'),
    );
    expect(resolved.json()).toMatchObject({ scope: 'client', label: 'production', version: 1 });
  });

  it('renders without variables when the version reads none', async () => {
    await promptWith('render/plain', ['Plain text, no variables.']);
    await as(t.app, owner.token).put(
      promptUrl(owner.tenantId, 'render/plain', undefined, '/labels/production'),
      {
        version: 1,
      },
    );
    const result = await t.app.get(PromptsService).render(owner.tenantId, { key: 'render/plain' });
    expect(result.text).toBe('Plain text, no variables.');
  });

  it('keeps compiling within its bound: the least recently used compiled version goes first', async () => {
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    const resolver = new PromptResolver(
      db,
      new PromptsRepository(),
      new ReplicatedCache({ ttlMs: 0, maxEntries: 10, channel: 'unused' }, null, null),
      1,
    );
    for (const version of [1, 2, 1]) {
      const resolved = await resolver.resolve(owner.tenantId, undefined, 'render/modes', {
        version,
      });
      expect(resolved?.version).toBe(version);
    }
  });

  it('refuses a version past PROMPT_MAX_VERSIONS, and prunes nothing', async () => {
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    const limited = new PromptVersionsService(
      db,
      new PromptsRepository(),
      t.app.get(PromptResolver),
      t.app.get(AuditService),
      { maxVersions: 3 },
    );
    const caller = await callerOf(t.app, owner.token);
    const scope = { tenantId: owner.tenantId };
    const input = { content: 'four', modelSettings: {}, tags: [], changeNote: '' };
    await expect(
      limited.createVersion(caller, scope, 'render/modes', input, {}),
    ).rejects.toMatchObject({ problemType: 'conflict' });
    const versions = await as(t.app, owner.token).get(
      promptUrl(owner.tenantId, 'render/modes', undefined, '/versions'),
    );
    expect(versions.json<{ data: unknown[] }>().data).toHaveLength(3);
  });

  it('checks approval listings in the service too', async () => {
    const stranger = await callerOf(t.app, (await signupOwner(t.app, 'Outsider')).token);
    await expect(
      t.app.get(PromptApprovalsService).listApprovals(stranger, owner.tenantId, { limit: 10 }),
    ).rejects.toMatchObject({ problemType: 'not-found' });
  });
});
