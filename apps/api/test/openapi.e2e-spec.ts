import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildOpenApiDocument, serializeOpenApi } from '../src/platform/openapi/openapi';
import { REPO_ROOT } from './support/child-process';
import { startTestApp, type TestApp } from './support/test-app';

const COMMITTED = path.join(REPO_ROOT, 'openapi.json');
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp('api');
});
afterAll(async () => {
  await t.close();
});

it('matches the committed openapi.json (run `npm run openapi:write` after an API change)', () => {
  const generated = serializeOpenApi(buildOpenApiDocument(t.app));
  if (process.env.UPDATE_OPENAPI === '1') writeFileSync(COMMITTED, generated);
  expect(existsSync(COMMITTED)).toBe(true);
  expect(readFileSync(COMMITTED, 'utf8')).toBe(generated);
});

it('describes every route the application serves', () => {
  const document = buildOpenApiDocument(t.app) as {
    openapi: string;
    paths: Record<string, object>;
  };
  expect(document.openapi).toBe('3.1.0');
  const documented = Object.keys(document.paths).sort();
  expect(documented).toEqual(
    expect.arrayContaining(['/healthz', '/readyz', '/internal/jobs', '/internal/jobs/{id}/retry']),
  );
  const listJobs = (document.paths['/internal/jobs'] as { get: { parameters: { name: string }[] } })
    .get;
  expect(listJobs.parameters.map((p) => p.name)).toEqual(
    expect.arrayContaining(['status', 'limit', 'cursor']),
  );
});

interface SchemaObject {
  $ref?: string;
  properties?: Record<string, { example?: unknown }>;
}
interface Operation {
  summary?: string;
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
}

it('gives every operation a summary and every request field an example', () => {
  const document = buildOpenApiDocument(t.app) as unknown as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, SchemaObject> };
  };
  const resolve = (schema: SchemaObject): SchemaObject =>
    schema.$ref ? document.components.schemas[schema.$ref.split('/').pop()!]! : schema;
  const gaps: string[] = [];
  for (const [route, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!operation.summary) gaps.push(`${method} ${route}: no summary`);
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      if (!schema) continue;
      for (const [field, property] of Object.entries(resolve(schema).properties ?? {})) {
        if (property.example === undefined)
          gaps.push(`${method} ${route}: ${field} has no example`);
      }
    }
  }
  expect(gaps).toEqual([]);
});
