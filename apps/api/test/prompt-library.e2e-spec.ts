import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { apiKey, promptUrl, tenantUser } from './support/prompts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let source: Account;
let target: Account;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  source = await signupOwner(t.app, 'Library Source');
  target = await signupOwner(t.app, 'Library Target');
});
afterAll(async () => {
  await t.close();
});

const library = (account: Account, rest = '') =>
  `/v1/tenants/${account.tenantId}/prompt-library${rest}`;

function postYaml(account: Account, url: string, yaml: string) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/yaml' },
    payload: yaml,
  });
}

const YAML_LIBRARY = `
format: maxai.prompts/v1
prompts:
  - key: front-desk/greeting
    kind: text
    description: What the front desk says first
    labels:
      production: 1
      staging: 2
    versions:
      - version: 1
        changeNote: first
        content: |
          Hi {{ name }}, thanks for calling {{ business }}.
          How can I help?
        modelSettings:
          model: openai/gpt-4o-mini
          temperature: 0.3
      - version: 2
        content: "Hello {{ name }}!"
        variablesSchema:
          type: object
          properties:
            name: { type: string }
          required: [name]
  - key: booking/chat
    kind: chat
    protectedLabels: [production, staging]
    labels: { production: 1 }
    versions:
      - version: 1
        messages:
          - role: system
            content: You book visits at {{ business }}.
          - role: user
            content: "{{ question }}"
`;

describe('prompt library import and export', () => {
  it('imports a YAML library, and importing it again changes nothing', async () => {
    const first = await postYaml(source, library(source), YAML_LIBRARY);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      templatesCreated: 2,
      versionsCreated: 3,
      labelsMoved: 3,
      approvalsRequested: 0,
      prompts: [
        {
          key: 'front-desk/greeting',
          created: true,
          versions: { '1': { version: 1, created: true }, '2': { version: 2, created: true } },
          labels: { production: 'moved', staging: 'moved' },
        },
        { key: 'booking/chat', created: true, labels: { production: 'moved' } },
      ],
    });
    const rendered = await as(t.app, source.token).post(
      promptUrl(source.tenantId, 'front-desk/greeting', undefined, '/render'),
      { variables: { name: 'Ana', business: 'Bright Smiles' } },
    );
    expect(rendered.json()).toMatchObject({
      text: 'Hi Ana, thanks for calling Bright Smiles.\nHow can I help?\n',
      modelSettings: { model: 'openai/gpt-4o-mini', temperature: 0.3 },
    });

    const again = await postYaml(source, library(source), YAML_LIBRARY);
    expect(again.json()).toMatchObject({
      templatesCreated: 0,
      versionsCreated: 0,
      labelsMoved: 0,
      prompts: [
        {
          created: false,
          versions: { '1': { version: 1, created: false } },
          labels: { production: 'unchanged', staging: 'unchanged' },
        },
        { created: false },
      ],
    });
    const versions = await as(t.app, source.token).get(
      promptUrl(source.tenantId, 'front-desk/greeting', undefined, '/versions'),
    );
    expect(versions.json<{ data: unknown[] }>().data).toHaveLength(2);
  });

  it('exports deterministically, as JSON or YAML, and the export imports elsewhere to the same library', async () => {
    const json = await as(t.app, source.token).get(library(source));
    expect(json.statusCode).toBe(200);
    const document = json.json<{ format: string; prompts: { key: string; labels: object }[] }>();
    expect(document.format).toBe('maxai.prompts/v1');
    expect(document.prompts.map((p) => p.key)).toEqual(['booking/chat', 'front-desk/greeting']);
    expect(document.prompts[1]?.labels).toEqual({ production: 1, staging: 2 });

    const yaml = await as(t.app, source.token).get(library(source, '?format=yaml'));
    expect(yaml.headers['content-type']).toContain('application/yaml');
    expect(yaml.body).toContain('content: |');
    expect(parse(yaml.body)).toEqual(document);

    // Into another tenant, as JSON: the same library comes out.
    const imported = await as(t.app, target.token).post(library(target), document);
    expect(imported.json()).toMatchObject({ templatesCreated: 2, versionsCreated: 3 });
    const exported = (await as(t.app, target.token).get(library(target))).json();
    expect(exported).toEqual(document);
    // Again as YAML: idempotent.
    expect((await postYaml(target, library(target), yaml.body)).json()).toMatchObject({
      versionsCreated: 0,
      labelsMoved: 0,
    });
  });

  it('appends changed versions (never rewriting history) and moves labels to them', async () => {
    const changed = YAML_LIBRARY.replace(
      '"Hello {{ name }}!"',
      '"Hello there, {{ name }}!"',
    ).replace('staging: 2', 'staging: 2\n      canary: 1');
    const res = await postYaml(source, library(source), changed);
    expect(res.json()).toMatchObject({
      versionsCreated: 1,
      labelsMoved: 2,
      prompts: [
        {
          versions: { '1': { version: 1, created: false }, '2': { version: 3, created: true } },
          labels: { canary: 'moved', production: 'unchanged', staging: 'moved' },
        },
        {},
      ],
    });
    const second = await as(t.app, source.token).get(
      promptUrl(source.tenantId, 'front-desk/greeting', undefined, '/versions/2'),
    );
    expect(second.json()).toMatchObject({ content: 'Hello {{ name }}!' });
    const audit = await as(t.app, source.token).get(
      `/v1/tenants/${source.tenantId}/audit-events?action=prompt.library_imported`,
    );
    expect(audit.json<{ data: { changes: object }[] }>().data[0]?.changes).toMatchObject({
      versionsCreated: 1,
      labelsMoved: 2,
    });
  });

  it('is all or nothing: protected labels need prompts:publish, approvals are requested, errors roll back', async () => {
    const writer = await apiKey(t.app, target, ['prompts:read', 'prompts:write']);
    const moved = YAML_LIBRARY.replace(
      'production: 1\n      staging: 2',
      'production: 2\n      staging: 2',
    );
    const refused = await postYaml({ ...target, token: writer }, library(target), moved);
    expect(refused.statusCode).toBe(403);
    await as(t.app, target.token).patch(`/v1/tenants/${target.tenantId}/settings`, {
      requirePromptApproval: true,
    });
    const requested = await postYaml(target, library(target), moved);
    expect(requested.json()).toMatchObject({
      approvalsRequested: 1,
      prompts: [{ labels: { production: 'approval_requested' } }, {}],
    });
    await as(t.app, target.token).patch(`/v1/tenants/${target.tenantId}/settings`, {
      requirePromptApproval: false,
    });

    const broken = YAML_LIBRARY.replace('key: booking/chat', 'key: booking/new').replace(
      'content: "{{ question }}"',
      'content: "{{ question "',
    );
    const failed = await postYaml(target, library(target), broken);
    expect(failed.statusCode).toBe(422);
    expect(failed.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/template-syntax',
      errors: [{ field: 'body.prompts.1.versions.0.messages.1.content', line: 1, column: 1 }],
    });
    expect(
      (await as(t.app, target.token).get(promptUrl(target.tenantId, 'booking/new'))).statusCode,
    ).toBe(404);
  });

  it('refuses documents that do not hold together or do not fit what is there', async () => {
    const post = (body: object) => as(t.app, target.token).post(library(target), body);
    const v = { version: 1, content: 'x' };
    const twice = await post({
      prompts: [
        { key: 'a', kind: 'text', versions: [v, v], labels: { latest: 1 } },
        { key: 'a', kind: 'text' },
      ],
    });
    expect(twice.statusCode).toBe(422);
    expect(twice.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual([
      'body.prompts.0.versions.1.version',
      'body.prompts.0.labels.latest',
      'body.prompts.1.key',
    ]);
    const missing = await post({
      prompts: [{ key: 'a', kind: 'text', versions: [v], labels: { production: 2 } }],
    });
    expect(missing.json()).toMatchObject({
      errors: [{ field: 'body.prompts.0.labels.production' }],
    });
    const kind = await post({ prompts: [{ key: 'front-desk/greeting', kind: 'chat' }] });
    expect(kind.json()).toMatchObject({ errors: [{ field: 'body.prompts.0.kind' }] });
    expect((await post({ format: 'other/v9', prompts: [] })).statusCode).toBe(400);
    const garbage = await postYaml(target, library(target), 'prompts: [\n  - key: {');
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json<{ detail: string }>().detail).toContain('not valid YAML');
  });

  it("imports and exports a client's overrides, for the client's users", async () => {
    const clientId = (
      await as(t.app, source.token).post(`/v1/tenants/${source.tenantId}/clients`, {
        name: 'Clinic',
      })
    ).json<{ id: string }>().id;
    const editor = await clientUser(t.app, source.tenantId, clientId, 'client_editor');
    const url = `/v1/tenants/${source.tenantId}/clients/${clientId}/prompt-library`;
    const overrides = {
      prompts: [
        {
          key: 'front-desk/greeting',
          kind: 'text',
          versions: [{ version: 1, content: 'Clinic hi' }],
        },
      ],
    };
    expect((await as(t.app, editor.token).post(url, overrides)).json()).toMatchObject({
      versionsCreated: 1,
    });
    const exported = await as(t.app, editor.token).get(url);
    expect(exported.json()).toMatchObject({
      prompts: [{ key: 'front-desk/greeting', labels: {} }],
    });
    expect((await as(t.app, editor.token).get(library(source))).statusCode).toBe(403);
    const member = await tenantUser(t.app, source.tenantId, 'member');
    expect((await as(t.app, member.token).get(url)).statusCode).toBe(200);
    const ghost = `/v1/tenants/${source.tenantId}/clients/01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f/prompt-library`;
    expect((await as(t.app, source.token).post(ghost, { prompts: [] })).statusCode).toBe(404);
  });
});

describe('larger libraries and repeated content', () => {
  it('exports every prompt of a library beyond one page', async () => {
    const clientId = (
      await as(t.app, target.token).post(`/v1/tenants/${target.tenantId}/clients`, { name: 'Big' })
    ).json<{ id: string }>().id;
    const url = `/v1/tenants/${target.tenantId}/clients/${clientId}/prompt-library`;
    const prompts = Array.from({ length: 205 }, (_, i) => ({
      key: `bulk/p${String(i).padStart(3, '0')}`,
      kind: 'text',
    }));
    expect((await as(t.app, target.token).post(url, { prompts })).json()).toMatchObject({
      templatesCreated: 205,
    });
    const exported = (await as(t.app, target.token).get(url)).json<{
      prompts: { key: string }[];
    }>();
    expect(exported.prompts.map((p) => p.key)).toEqual(prompts.map((p) => p.key));
  });

  it('matches a file version to the first of several identical versions', async () => {
    const api = as(t.app, target.token);
    await api.post(`/v1/tenants/${target.tenantId}/prompts`, { key: 'twice/same', kind: 'text' });
    for (const changeNote of ['one', 'again']) {
      await api.post(promptUrl(target.tenantId, 'twice/same', undefined, '/versions'), {
        content: 'same',
        changeNote,
      });
    }
    const report = await api.post(library(target), {
      prompts: [
        {
          key: 'twice/same',
          kind: 'text',
          versions: [
            {
              version: 7,
              content: 'same',
              variablesSchema: { type: 'object', properties: {}, required: [] },
            },
          ],
        },
      ],
    });
    expect(report.json()).toMatchObject({
      versionsCreated: 0,
      prompts: [{ versions: { '7': { version: 1, created: false } } }],
    });
  });
});
