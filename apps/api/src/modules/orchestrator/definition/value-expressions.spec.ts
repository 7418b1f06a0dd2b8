import { describe, expect, it } from 'vitest';
import { ExpressionError, type ExpressionScope } from './expressions';
import {
  expressionOf,
  exprFieldSource,
  isLiteral,
  literalValue,
  resolveValue,
  valueExpressions,
} from './value-expressions';

const scope: ExpressionScope = {
  event: { data: { from: '+15550100001', items: [1, 2] } },
  steps: {},
  vars: { name: 'Ana' },
};

describe('the expression convention', () => {
  it.each([
    ['=event.data.from', 'event.data.from'],
    ['=', ''],
    ['==5', undefined],
    ['== literal', undefined],
    ['plain', undefined],
    ['a=b', undefined],
    [5, undefined],
    [null, undefined],
  ])('%j in a value field → expression %j', (value, source) => {
    expect(expressionOf(value)).toBe(source);
  });

  it('makes the = optional in expression-only fields', () => {
    expect(exprFieldSource('=vars.a')).toBe('vars.a');
    expect(exprFieldSource('vars.a')).toBe('vars.a');
  });

  it('undoes the == escape deeply, leaving everything else', () => {
    expect(literalValue({ a: ['==x', 'y', 1, null], b: { c: '==' } })).toEqual({
      a: ['=x', 'y', 1, null],
      b: { c: '=' },
    });
  });
});

describe('valueExpressions', () => {
  it('finds every expression with its RFC 6901 pointer', () => {
    const value = { to: '=event.data.from', 'a/b~c': ['x', '=vars.name'], n: 1, lit: '==x' };
    expect(valueExpressions(value, '/steps/0/inputs')).toEqual([
      { pointer: '/steps/0/inputs/to', source: 'event.data.from' },
      { pointer: '/steps/0/inputs/a~1b~0c/1', source: 'vars.name' },
    ]);
    expect(isLiteral(value)).toBe(false);
    expect(isLiteral({ a: ['==x', 1, { b: null }] })).toBe(true);
  });
});

describe('resolveValue', () => {
  it('evaluates expressions deeply and keeps literals', async () => {
    const value = {
      to: '=event.data.from',
      greeting: '="Hi " & vars.name',
      list: ['=event.data.items', 'x', '==y'],
      nested: { count: '=$count(event.data.items)', flag: true },
    };
    await expect(resolveValue(value, scope, '')).resolves.toEqual({
      to: '+15550100001',
      greeting: 'Hi Ana',
      list: [[1, 2], 'x', '=y'],
      nested: { count: 2, flag: true },
    });
  });

  it('drops keys whose expression yields nothing, and nulls such array items', async () => {
    await expect(
      resolveValue({ a: '=event.none', b: ['=event.none'] }, scope, ''),
    ).resolves.toEqual({ b: [null] });
    await expect(resolveValue('=event.none', scope, '')).resolves.toBeUndefined();
  });

  it('locates a failing expression at its pointer', async () => {
    const error: unknown = await resolveValue(
      { a: [1, '=vars.name + 1'] },
      scope,
      '/steps/1/inputs',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error).toMatchObject({ pointer: '/steps/1/inputs/a/1', code: 'T2001' });
  });

  it('keeps a __proto__ key as data', async () => {
    const value = JSON.parse('{"__proto__": "=vars.name"}') as unknown;
    const resolved = (await resolveValue(value, scope, '')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(resolved, '__proto__')?.value).toBe('Ana');
  });
});
