import { describe, expect, it } from 'vitest';
import {
  compiledExpressionCount,
  compileExpression,
  evaluate,
  evaluateAt,
  EXPRESSION_LIMITS,
  ExpressionError,
  toExpressionError,
  toPlainJson,
  truthy,
  type ExpressionScope,
} from './expressions';

const scope: ExpressionScope = {
  event: { type: 'maxai.messaging.sms.received', data: { from: '+15550100001', body: ' Stop ' } },
  steps: { contact: { status: 'completed', output: { contact: { id: 'c1', tags: ['vip'] } } } },
  vars: { optOutTag: 'sms-opt-out', n: 3 },
  run: { id: 'run-1' },
};

async function failure(promise: Promise<unknown>): Promise<ExpressionError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExpressionError);
  return error as ExpressionError;
}

describe('compileExpression', () => {
  it('compiles once per source string', () => {
    const source = `event.data.from & "${Math.random()}"`;
    const before = compiledExpressionCount();
    const first = compileExpression(source);
    expect(compileExpression(source)).toBe(first);
    expect(compiledExpressionCount()).toBe(before + 1);
  });

  it('keeps the cache bounded, evicting the least recently used', () => {
    const kept = compileExpression('1 + 1');
    for (let i = 0; i < 2100; i += 1) compileExpression(`${i} + 1`);
    expect(compiledExpressionCount()).toBeLessThanOrEqual(2000);
    expect(compileExpression('2099 + 1')).toBe(compileExpression('2099 + 1'));
    expect(compileExpression('1 + 1')).not.toBe(kept);
  });

  it.each([
    ['event.data.', 'S0207', 4],
    ['$sum(1, ', 'S0203', 5],
    ['"unterminated', 'S0101', 13],
    ['a ++ b', 'S0211', 4],
  ])('reports %j as a compile error with its position', (source, code, position) => {
    const error = (() => {
      try {
        compileExpression(source);
      } catch (e) {
        return e;
      }
    })() as ExpressionError;
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error.code).toBe(code);
    expect(error.position).toBeGreaterThanOrEqual(position - 4);
    expect(error.message).toMatch(/\(at position \d+\)$/);
  });

  it('refuses absurdly nested expressions without overflowing', () => {
    expect(() => compileExpression('('.repeat(20_000) + '1' + ')'.repeat(20_000))).toThrow(
      'expression nests too deeply',
    );
  });
});

describe('evaluate', () => {
  it('reads event, steps, vars and run, as paths and as variables', async () => {
    await expect(evaluate('event.data.from', scope)).resolves.toBe('+15550100001');
    await expect(evaluate('$event.data.from', scope)).resolves.toBe('+15550100001');
    await expect(evaluate('steps.contact.output.contact.id', scope)).resolves.toBe('c1');
    await expect(evaluate('$steps.contact.status', scope)).resolves.toBe('completed');
    await expect(evaluate('vars.n * 2', scope)).resolves.toBe(6);
    await expect(evaluate('$run.id', scope)).resolves.toBe('run-1');
    await expect(evaluate('$uppercase($trim(event.data.body))', scope)).resolves.toBe('STOP');
  });

  it('answers undefined when a path matches nothing', async () => {
    await expect(evaluate('event.data.missing', scope)).resolves.toBeUndefined();
  });

  it('times out a runaway recursive expression', async () => {
    const started = Date.now();
    const error = await failure(evaluate('($f := function($x) { $f($x + 1) }; $f(0))', scope));
    expect(error.code).toBe('D1012');
    expect(error.message).toContain(`${EXPRESSION_LIMITS.timeoutMs} milliseconds`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops deep non-tail recursion at the depth limit', async () => {
    const error = await failure(evaluate('($f := function($x) { 1 + $f($x + 1) }; $f(0))', scope));
    expect(error.code).toBe('D1011');
  });

  it('timeboxes expressions evaluated through $eval too', async () => {
    const error = await failure(evaluate('$eval("($f := function($x){$f($x)}; $f(0))")', scope));
    expect(error.message).toContain('timeout');
  });

  it('caps the length of sequences', async () => {
    const error = await failure(evaluate('[1..1000000]', scope));
    expect(error.code).toBe('D2015');
  });

  it('reports a failing expression with its code and position', async () => {
    const error = await failure(evaluate('vars.n + "a"', scope));
    expect(error.code).toBe('T2002');
    expect(error.position).toBeTypeOf('number');
  });

  it.each([
    'event.constructor',
    'event.__proto__',
    'event.constructor.name',
    '$lookup(event, "constructor")',
    '$lookup(event, "__proto__")',
    '$sift(event, function($v, $k) { $k = "constructor" })',
    'vars.toString',
    'event.data.from.length',
  ])('gives no access to the prototype chain: %s', async (source) => {
    await expect(evaluate(source, scope)).resolves.toBeUndefined();
  });

  it('keeps a `__proto__` key of the data as data', async () => {
    const event = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;
    const result = await evaluate('event', { event, steps: {}, vars: {} });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result as object)).toEqual(['__proto__', 'a']);
    await expect(
      evaluate('event.__proto__.polluted', { event, steps: {}, vars: {} }),
    ).resolves.toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers plain JSON: no sequences, no functions', async () => {
    const result = await evaluate('[event.data.from, $uppercase, {"f": $trim, "x": 1}]', scope);
    expect(result).toEqual(['+15550100001', null, { x: 1 }]);
    const sequence = await evaluate('[1, 2].($ * 2)', scope);
    expect(Object.keys(sequence as object)).toEqual(['0', '1']);
    await expect(evaluate('steps.*.output.contact.id', scope)).resolves.toBe('c1');
    await expect(evaluate('function($x) { $x }', scope)).resolves.toBeUndefined();
  });
});

describe('toExpressionError', () => {
  it('keeps jsonata’s code, message and position', () => {
    const error = toExpressionError({ code: 'T2001', message: 'bad', position: 4 }, 'D0000');
    expect(error).toMatchObject({ code: 'T2001', message: 'bad (at position 4)', position: 4 });
  });

  it('copes with whatever else a library might throw', () => {
    expect(toExpressionError(new TypeError('oops'), 'D0000')).toMatchObject({
      code: 'D0000',
      message: 'oops',
      position: undefined,
    });
    expect(toExpressionError('just text', 'S0000')).toMatchObject({
      code: 'S0000',
      message: 'just text',
    });
    expect(toExpressionError(null, 'S0000')).toMatchObject({ message: 'null' });
  });
});

describe('toPlainJson', () => {
  it('refuses results nested deeper than the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i += 1) deep = [deep];
    expect(() => toPlainJson(deep, 0)).toThrow('result nests too deeply');
  });

  it('drops what JSON cannot hold', () => {
    expect(toPlainJson({ a: undefined, b: () => 1, c: Symbol('s'), d: 1n, e: null }, 0)).toEqual({
      e: null,
    });
  });
});

describe('truthy (JSONata $boolean)', () => {
  it.each([
    [undefined, false],
    [null, false],
    [false, false],
    [0, false],
    ['', false],
    [[], false],
    [{}, false],
    [[0, ''], false],
    [true, true],
    [1, true],
    ['x', true],
    [[0, 1], true],
    [{ a: 0 }, true],
  ])('%j is %s', (value, expected) => {
    expect(truthy(value)).toBe(expected);
  });

  it('decides conditions over evaluated results', async () => {
    const holds = async (source: string) => truthy(await evaluate(source, scope));
    await expect(holds('"vip" in steps.contact.output.contact.tags')).resolves.toBe(true);
    await expect(holds('vars.optOutTag in steps.contact.output.contact.tags')).resolves.toBe(false);
    await expect(holds('event.data.nothing')).resolves.toBe(false);
  });
});

describe('evaluateAt', () => {
  it('locates a failure at the given pointer, keeping code and position', async () => {
    const error = await failure(evaluateAt('vars.n + "a"', scope, '/steps/2/when'));
    expect(error).toMatchObject({ pointer: '/steps/2/when', code: 'T2002' });
    expect(error.position).toBeTypeOf('number');
  });

  it('locates failures without a position too', async () => {
    const error = await failure(evaluateAt('(', scope, '/trigger/filter'));
    expect(error.pointer).toBe('/trigger/filter');
    const bare = new ExpressionError({ message: 'm', code: 'X' }).at('/p');
    expect(bare).toMatchObject({ message: 'm', code: 'X', pointer: '/p', position: undefined });
  });

  it('passes results through', async () => {
    await expect(evaluateAt('vars.n', scope, '/x')).resolves.toBe(3);
  });
});
