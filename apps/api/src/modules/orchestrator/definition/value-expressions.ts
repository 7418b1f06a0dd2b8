import { evaluateAt, type ExpressionScope } from './expressions';
import { pointer } from './json-pointer';

/**
 * Value fields (inputs, set_vars, llm variables) hold JSON where a string starting with `=` is a
 * JSONata expression and `==` escapes a literal leading `=`. Expression-only fields (filter,
 * when, conditions, correlate, concurrencyKey) accept the `=` too, so both spellings work there.
 */
export function expressionOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('=') || value.startsWith('==')) {
    return undefined;
  }
  return value.slice(1);
}

/** The JSONata source of an expression-only field. */
export function exprFieldSource(field: string): string {
  return field.startsWith('=') ? field.slice(1) : field;
}

export interface ValueExpression {
  pointer: string;
  source: string;
}

/** Every expression inside a value field, depth first, with its JSON pointer. */
export function valueExpressions(value: unknown, at: string): ValueExpression[] {
  const source = expressionOf(value);
  if (source !== undefined) return [{ pointer: at, source }];
  if (Array.isArray(value))
    return value.flatMap((item, i) => valueExpressions(item, pointer(at, i)));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => valueExpressions(item, pointer(at, key)));
  }
  return [];
}

/** True when the value holds no expression: it can be checked before the run. */
export function isLiteral(value: unknown): boolean {
  return valueExpressions(value, '').length === 0;
}

/** A literal value as the run will see it: `==` escapes undone, deeply. */
export function literalValue(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith('==') ? value.slice(1) : value;
  if (Array.isArray(value)) return value.map(literalValue);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literalValue(v)]));
  }
  return value;
}

/**
 * A value field with its expressions evaluated, deeply. An expression that yields nothing drops
 * its key (or becomes null in an array), so a missing required input fails input validation.
 */
export async function resolveValue(
  value: unknown,
  scope: ExpressionScope,
  at: string,
): Promise<unknown> {
  const source = expressionOf(value);
  if (source !== undefined) {
    return evaluateAt(source, scope, at);
  }
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const [i, item] of value.entries()) {
      items.push((await resolveValue(item, scope, pointer(at, i))) ?? null);
    }
    return items;
  }
  if (typeof value === 'object' && value !== null) {
    const entries: [string, unknown][] = [];
    for (const [key, item] of Object.entries(value)) {
      const result = await resolveValue(item, scope, pointer(at, key));
      if (result !== undefined) entries.push([key, result]);
    }
    // fromEntries defines own properties: a `__proto__` key stays data, never a prototype.
    return Object.fromEntries(entries);
  }
  return literalValue(value);
}
