import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileVariablesSchema,
  derivedSchema,
  isRiskyPattern,
  undeclaredUses,
  variableErrors,
  type JsonSchema,
} from './variables-schema';

function validator(schema: JsonSchema) {
  const check = compileVariablesSchema(schema);
  if (!check.ok) throw new Error(JSON.stringify(check.errors));
  return check.validate;
}

function errorsOf(schema: JsonSchema, data: unknown) {
  const validate = validator(schema);
  expect(validate(data)).toBe(false);
  return variableErrors(validate.errors);
}

const use = (name: string) => ({ name, field: 'body.content', line: 1, column: 1 });

describe('variables schemas', () => {
  it('lists every offending variable, one field each', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1 },
        date: { type: 'string', format: 'date' },
        party: { type: 'object', properties: { size: { type: 'integer' } }, required: ['size'] },
        'a/b': { type: 'number' },
      },
      required: ['name', 'date'],
      additionalProperties: false,
    };
    expect(
      errorsOf(schema, { date: 'tomorrow', party: { size: 2.5 }, extra: 1, 'a/b': 'x' }),
    ).toEqual([
      { field: 'variables.name', message: 'is required' },
      { field: 'variables.extra', message: 'is not allowed' },
      { field: 'variables.date', message: 'must match format "date"' },
      { field: 'variables.party.size', message: 'must be integer' },
      { field: 'variables.a/b', message: 'must be number' },
    ]);
    expect(errorsOf(schema, { name: 'Ana', date: '2026-12-01', party: {} })).toEqual([
      { field: 'variables.party.size', message: 'is required' },
    ]);
    expect(variableErrors(null)).toEqual([]);
    expect(
      variableErrors([{ instancePath: '', keyword: 'x', schemaPath: '#', params: {} }]),
    ).toEqual([{ field: 'variables', message: 'x' }]);
  });

  it('requires own properties: a prototype member does not satisfy "required"', () => {
    const validate = validator({ type: 'object', required: ['constructor', 'toString'] });
    expect(validate({})).toBe(false);
    expect(validate({ constructor: 'c', toString: 't' })).toBe(true);
  });

  it('refuses schemas that are not objects, invalid or with unknown keywords', () => {
    expect(compileVariablesSchema({ type: 'string' })).toEqual({
      ok: false,
      errors: [{ field: 'body.variablesSchema.type', message: "must be 'object'" }],
    });
    expect(
      compileVariablesSchema({ type: 'object', requird: ['x'] }, 'body.prompts.0.versions.0'),
    ).toEqual({
      ok: false,
      errors: [
        {
          field: 'body.prompts.0.versions.0.variablesSchema',
          message: expect.stringContaining('unknown keyword: "requird"'),
        },
      ],
    });
    expect(
      compileVariablesSchema({ type: 'object', properties: { a: { type: 'strin' } } }).ok,
    ).toBe(false);
    expect(compileVariablesSchema({ type: 'object', $async: true })).toEqual({
      ok: false,
      errors: [{ field: 'body.variablesSchema.$async', message: 'is not supported' }],
    });
  });

  it("keeps every schema to itself: ids do not clash and refs do not reach another's", () => {
    const first = validator({
      $id: 'https://example.com/v',
      type: 'object',
      properties: { a: { type: 'string' } },
    });
    const second = validator({
      $id: 'https://example.com/v',
      type: 'object',
      properties: { a: { type: 'number' } },
    });
    expect(first({ a: 'x' })).toBe(true);
    expect(second({ a: 'x' })).toBe(false);
    const reaching = compileVariablesSchema({
      type: 'object',
      properties: { a: { $ref: 'https://example.com/v' } },
    });
    expect(reaching.ok).toBe(false);
    // Local references work.
    const local = validator({
      type: 'object',
      $defs: { phone: { type: 'string', pattern: '^\\+?[0-9 ]+$' } },
      properties: { phone: { $ref: '#/$defs/phone' } },
    });
    expect(local({ phone: '+1 555' })).toBe(true);
    expect(local({ phone: 'call me' })).toBe(false);
  });

  it('refuses regular expressions prone to catastrophic backtracking, wherever they are', () => {
    expect(
      compileVariablesSchema({
        type: 'object',
        properties: { a: { type: 'string', pattern: '^(a+)+$' } },
        patternProperties: { '^(x|xy)*$': {}, '^ok$': { pattern: '(\\w*)*' } },
        allOf: [{ properties: { b: { pattern: '([0-9]?){3,}' } } }],
      }),
    ).toEqual({
      ok: false,
      errors: [
        {
          field: 'body.variablesSchema.properties.a.pattern',
          message: expect.stringContaining('nested'),
        },
        {
          field: 'body.variablesSchema.patternProperties.^(x|xy)*$',
          message: expect.stringContaining('nested'),
        },
        {
          field: 'body.variablesSchema.patternProperties.^ok$.pattern',
          message: expect.stringContaining('nested'),
        },
        {
          field: 'body.variablesSchema.allOf.0.properties.b.pattern',
          message: expect.stringContaining('nested'),
        },
      ],
    });
    for (const safe of [
      '^[0-9]{5}$',
      '^\\+?[0-9 ]+$',
      '^(ab){2}$',
      '^[(a+)+]$',
      '\\(a+\\)+',
      '(?:abc)+',
      '((a)b)c',
    ]) {
      expect(isRiskyPattern(safe), safe).toBe(false);
    }
    expect(isRiskyPattern('a)+b')).toBe(false);
    for (const risky of ['(a+)+', '(a*)*', '((a+)b)+', '(a|b)+', '(a?){2,}', '(x(y*))*']) {
      expect(isRiskyPattern(risky), risky).toBe(true);
    }
  });

  it('flags every quantified group that holds a quantifier (property)', () => {
    const atom = fc.constantFrom('a', 'b', '\\d', '[a-z]', '.');
    const quantifier = fc.constantFrom('+', '*', '{2,}');
    fc.assert(
      fc.property(
        atom,
        quantifier,
        quantifier,
        fc.string({ maxLength: 5 }),
        (a, inner, outer, tail) => {
          const clean = tail.replace(/[\\()[\]{}*+?|]/g, '');
          expect(isRiskyPattern(`^(${a}${inner})${outer}${clean}$`)).toBe(true);
          expect(isRiskyPattern(`^${a}${inner}${clean}$`)).toBe(false);
        },
      ),
    );
  });

  it('derives a schema requiring what the template reads, and finds undeclared reads', () => {
    expect(derivedSchema([use('b'), use('a'), use('b')])).toEqual({
      type: 'object',
      properties: { a: {}, b: {} },
      required: ['a', 'b'],
    });
    const schema = { type: 'object', properties: { name: { type: 'string' } } };
    expect(undeclaredUses(schema, [use('name'), use('nmae')]).map((u) => u.name)).toEqual(['nmae']);
    expect(undeclaredUses({ type: 'object' }, [use('x')]).map((u) => u.name)).toEqual(['x']);
  });
});
