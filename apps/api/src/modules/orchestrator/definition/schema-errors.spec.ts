import type { ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkSchema, schemaIssues } from './schema-errors';

const error = (patch: Partial<ErrorObject>): ErrorObject => ({
  instancePath: '/steps/0',
  schemaPath: '#/x',
  keyword: 'type',
  params: {},
  message: 'must be string',
  ...patch,
});

describe('schemaIssues', () => {
  it('drops repeats and the name check echoed by propertyNames', () => {
    expect(
      schemaIssues([
        error({}),
        error({}),
        error({ keyword: 'pattern', propertyName: 'bad name' }),
        error({ keyword: 'propertyNames', params: { propertyName: 'bad name' } }),
      ]),
    ).toEqual([
      { pointer: '/steps/0', message: 'must be string' },
      { pointer: '/steps/0/bad name', message: expect.stringContaining('not a valid name') },
    ]);
  });

  it('locates findings under a base pointer', () => {
    expect(
      schemaIssues([error({ keyword: 'required', params: { missingProperty: 'a' } })], '/vars'),
    ).toEqual([{ pointer: '/vars/steps/0/a', message: 'is required' }]);
  });

  it('keeps at most 50 findings', () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`extra${i}`, i]));
    const result = checkSchema({ ...many });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toHaveLength(50);
  });
});
