import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { FieldError } from '../../platform/errors/problem';
import type { VariableUse } from './template-engine';

export type JsonSchema = Record<string, unknown>;

/**
 * One Ajv for every tenant's schemas. `addUsedSchema: false` keeps compiled schemas out of its
 * registry, so one schema's `$id` can neither clash with nor be `$ref`-erenced by another's
 * (nothing is fetched either: refs resolve inside the schema or fail). `ownProperties` makes
 * `required: ["constructor"]` mean an own property, not one inherited from Object.prototype.
 */
const ajv = new Ajv2020({
  allErrors: true,
  ownProperties: true,
  addUsedSchema: false,
  strictSchema: true,
  strictTypes: false,
  strictTuples: false,
  logger: false,
});
// ajv-formats ships its own copy of Ajv's types; the instance is the same kind.
(addFormats as unknown as (instance: Ajv2020) => void)(ajv);

export type SchemaCheck =
  { ok: true; validate: ValidateFunction } | { ok: false; errors: FieldError[] };

/**
 * Compiles a variables schema: it must describe an object, be valid JSON Schema 2020-12 with no
 * unknown keywords, and hold no regular expression prone to catastrophic backtracking (a
 * `pattern` runs on every render's input).
 */
export function compileVariablesSchema(schema: JsonSchema, prefix = 'body'): SchemaCheck {
  const field = `${prefix}.variablesSchema`;
  if (schema.type !== 'object') {
    return { ok: false, errors: [{ field: `${field}.type`, message: "must be 'object'" }] };
  }
  // An async schema's validator answers a promise, which is truthy: it would pass anything.
  if (schema.$async !== undefined) {
    return { ok: false, errors: [{ field: `${field}.$async`, message: 'is not supported' }] };
  }
  const risky = riskyPatterns(schema, field);
  if (risky.length > 0) return { ok: false, errors: risky };
  // A top-level $id would make removeSchema touch Ajv's registry: compile a copy without it.
  const { $id: _ignored, ...copy } = schema;
  try {
    const validate = ajv.compile(copy);
    return { ok: true, validate };
  } catch (error) {
    return {
      ok: false,
      errors: [{ field, message: String(error).replace(/^\w*Error: /, '') }],
    };
  } finally {
    // Ajv keeps every compiled schema in a cache keyed by the object: drop it, the validator
    // function stays usable (the prompts module caches validators itself, per version).
    ajv.removeSchema(copy);
  }
}

/** Every failed check of `variables`, one field error each (`variables.name`). */
export function variableErrors(errors: readonly ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? []).map((e) => {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    if (e.keyword === 'required' && params.missingProperty !== undefined) {
      return {
        field: ['variables', ...path, params.missingProperty].join('.'),
        message: 'is required',
      };
    }
    if (e.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
      return {
        field: ['variables', ...path, params.additionalProperty].join('.'),
        message: 'is not allowed',
      };
    }
    return { field: ['variables', ...path].join('.'), message: e.message ?? e.keyword };
  });
}

/**
 * The schema of a version that came without one: every variable the template reads is required
 * (of any type). Write a schema to make one optional or to constrain it.
 */
export function derivedSchema(uses: readonly VariableUse[]): JsonSchema {
  const names = [...new Set(uses.map((u) => u.name))].sort();
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, {}])),
    required: names,
  };
}

/** Variables the template reads that the schema does not declare in its `properties`. */
export function undeclaredUses(schema: JsonSchema, uses: readonly VariableUse[]): VariableUse[] {
  const properties = schema.properties;
  const declared =
    properties !== null && typeof properties === 'object'
      ? new Set(Object.keys(properties))
      : new Set<string>();
  return uses.filter((u) => !declared.has(u.name));
}

/**
 * A quantified group holding a quantifier (`(a+)+`, `(\w*)*`, `(a|a?){2,}`) can take time
 * exponential in its input's length: such patterns are refused. A heuristic, deliberately
 * strict; simple patterns (`^[0-9]{5}$`, `^\+?[0-9 ]+$`) pass.
 */
export function isRiskyPattern(pattern: string): boolean {
  // For each open group: does it contain a quantifier (or an alternation) so far?
  const stack: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      stack.push(false);
      // `(?:`, `(?=`, `(?<name>`: that `?` opens the group, it quantifies nothing.
      if (pattern[i + 1] === '?') i += 1;
    } else if (c === ')') {
      const inner = stack.pop() ?? false;
      const next = pattern[i + 1];
      if (inner && (next === '*' || next === '+' || next === '{')) return true;
      if (inner && stack.length > 0) stack[stack.length - 1] = true;
    } else if (c === '*' || c === '+' || c === '{' || c === '|' || c === '?') {
      if (stack.length > 0) stack[stack.length - 1] = true;
    }
  }
  return false;
}

function riskyPatterns(value: unknown, field: string): FieldError[] {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => riskyPatterns(v, `${field}.${i}`));
  }
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const here = `${field}.${key}`;
    if (key === 'pattern' && typeof v === 'string' && isRiskyPattern(v)) {
      return [{ field: here, message: 'is a regular expression with nested quantifiers' }];
    }
    if (key === 'patternProperties' && v !== null && typeof v === 'object') {
      const own = Object.keys(v as object)
        .filter(isRiskyPattern)
        .map((p) => ({
          field: `${here}.${p}`,
          message: 'is a regular expression with nested quantifiers',
        }));
      return [...own, ...riskyPatterns(v, here)];
    }
    return riskyPatterns(v, here);
  });
}
