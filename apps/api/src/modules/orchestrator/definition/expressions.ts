import jsonata from 'jsonata';

/**
 * JSONata, bounded. jsonata 2.2's own guardrails (the successor of the `timeboxExpression` helper
 * in its test suite) check a deadline and the evaluation depth on every evaluation step, which
 * stops runaway recursion even though evaluation never yields to the timer queue; a
 * `setTimeout` race could not. Sequences are capped too, so `[1..10000000]` fails fast.
 */
export const EXPRESSION_LIMITS = { timeoutMs: 200, maxDepth: 300, maxSequence: 100_000 } as const;
const JSONATA_OPTIONS = {
  timeout: EXPRESSION_LIMITS.timeoutMs,
  stack: EXPRESSION_LIMITS.maxDepth,
  sequence: EXPRESSION_LIMITS.maxSequence,
};
/** Results deeper than this are refused (they would only come from a crafted expression). */
const MAX_RESULT_DEPTH = 64;
/** Compiled expressions kept, least recently used first out: flows of many tenants share it. */
const CACHE_SIZE = 2000;

/** What an expression sees: the trigger event, earlier steps' records, variables, the run. */
export interface ExpressionScope {
  event: unknown;
  steps: Record<string, { status: string; output?: unknown }>;
  vars: Record<string, unknown>;
  run?: Record<string, unknown>;
}

/** An expression that does not compile or fails; `position` is JSONata's character offset. */
export class ExpressionError extends Error {
  readonly code: string;
  readonly position: number | undefined;
  /** Where in the definition the expression is, when known. */
  readonly pointer: string | undefined;

  constructor(init: { message: string; code: string; position?: number; pointer?: string }) {
    super(init.message);
    this.name = 'ExpressionError';
    this.code = init.code;
    this.position = init.position;
    this.pointer = init.pointer;
  }

  /** The same error, located in the definition. */
  at(pointer: string): ExpressionError {
    return new ExpressionError({
      message: this.message,
      code: this.code,
      ...(this.position === undefined ? {} : { position: this.position }),
      pointer,
    });
  }
}

interface JsonataFailure {
  code?: unknown;
  message?: unknown;
  position?: unknown;
}

/** Any failure out of jsonata as an ExpressionError (jsonata throws plain `{ code, message }`). */
export function toExpressionError(cause: unknown, fallbackCode: string): ExpressionError {
  if (cause instanceof RangeError) {
    // The parser and evaluator recurse; absurd nesting overflows the JS stack itself.
    return new ExpressionError({ message: 'expression nests too deeply', code: fallbackCode });
  }
  const failure = (typeof cause === 'object' && cause !== null ? cause : {}) as JsonataFailure;
  const position = typeof failure.position === 'number' ? failure.position : undefined;
  const text = typeof failure.message === 'string' ? failure.message : String(cause);
  return new ExpressionError({
    message: position === undefined ? text : `${text} (at position ${position})`,
    code: typeof failure.code === 'string' ? failure.code : fallbackCode,
    ...(position === undefined ? {} : { position }),
  });
}

const cache = new Map<string, jsonata.Expression>();

/** Compiles (once per source string) or throws an ExpressionError with the position. */
export function compileExpression(source: string): jsonata.Expression {
  const cached = cache.get(source);
  if (cached !== undefined) {
    cache.delete(source);
    cache.set(source, cached);
    return cached;
  }
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(source, JSONATA_OPTIONS);
  } catch (cause) {
    throw toExpressionError(cause, 'S0000');
  }
  cache.set(source, compiled);
  if (cache.size > CACHE_SIZE) {
    for (const oldest of cache.keys()) {
      cache.delete(oldest);
      break;
    }
  }
  return compiled;
}

export function compiledExpressionCount(): number {
  return cache.size;
}

/** Evaluates `source` over the scope (also bound as `$event`, `$steps`, `$vars`, `$run`). */
export async function evaluate(source: string, scope: ExpressionScope): Promise<unknown> {
  const expression = compileExpression(source);
  const input = { event: scope.event, steps: scope.steps, vars: scope.vars, run: scope.run };
  let result: unknown;
  try {
    result = (await expression.evaluate(input, input)) as unknown;
  } catch (cause) {
    throw toExpressionError(cause, 'D0000');
  }
  return toPlainJson(result, 0);
}

function isJsonataFunction(value: object): boolean {
  return '_jsonata_lambda' in value || '_jsonata_function' in value;
}

/**
 * JSON out of a JSONata result: sequences become plain arrays, functions vanish (undefined, or
 * null inside arrays, as JSON.stringify does), non-finite numbers cannot occur (JSONata refuses
 * them).
 */
export function toPlainJson(value: unknown, depth: number): unknown {
  if (depth > MAX_RESULT_DEPTH) {
    throw new ExpressionError({ message: 'result nests too deeply', code: 'D0001' });
  }
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  if (Array.isArray(value)) return value.map((item) => toPlainJson(item, depth + 1) ?? null);
  if (typeof value !== 'object' || isJsonataFunction(value)) return undefined;
  const entries = Object.entries(value)
    .map(([key, item]) => [key, toPlainJson(item, depth + 1)] as const)
    .filter(([, item]) => item !== undefined);
  // fromEntries defines own properties: a `__proto__` key stays data, never a prototype.
  return Object.fromEntries(entries);
}

/** JSONata's `$boolean`: undefined, null, false, 0, '' and empty arrays and objects are false. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** `evaluate`, with a failure located at `at` (the expression's pointer in the definition). */
export async function evaluateAt(
  source: string,
  scope: ExpressionScope,
  at: string,
): Promise<unknown> {
  try {
    return await evaluate(source, scope);
  } catch (error) {
    throw (error as ExpressionError).at(at);
  }
}
