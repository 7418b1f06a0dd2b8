import { bindingFindings, type BindingContext } from './binding-checks';
import { expressionErrors } from './expression-checks';
import type { FlowDefinition, FlowIssue } from './flow-types';
import { inputErrors } from './input-checks';
import { pointer } from './json-pointer';
import { checkSchema } from './schema-errors';
import { structureFindings } from './structure-checks';

/** Deeper documents are refused before anything walks them (recursion stays shallow). */
export const MAX_DOCUMENT_DEPTH = 32;

export type FlowValidation =
  | { ok: true; definition: FlowDefinition; warnings: FlowIssue[] }
  | { ok: false; errors: FlowIssue[]; warnings: FlowIssue[] };

export type ValidateFlowOptions = Partial<BindingContext>;

/** The pointer of the first value nested deeper than the limit, found without recursion. */
function tooDeep(input: unknown): string | null {
  const stack: { value: unknown; at: string; depth: number }[] = [
    { value: input, at: '', depth: 0 },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_DOCUMENT_DEPTH) return item.at;
    for (const [key, value] of Object.entries(item.value)) {
      stack.push({ value, at: pointer(item.at, key), depth: item.depth + 1 });
    }
  }
  return null;
}

/**
 * Validates a flow document: the published JSON Schema first, then what a schema cannot say
 * (ids, jumps, loops, expressions, inputs, the tenant's bindings). Never throws; every finding
 * carries an RFC 6901 pointer into the document.
 */
export function validateFlow(input: unknown, options: ValidateFlowOptions = {}): FlowValidation {
  const deep = tooDeep(input);
  if (deep !== null) {
    return {
      ok: false,
      errors: [{ pointer: deep, message: `nests deeper than ${MAX_DOCUMENT_DEPTH} levels` }],
      warnings: [],
    };
  }
  const schema = checkSchema(input);
  if (!schema.ok) return { ok: false, errors: schema.errors, warnings: [] };
  const { definition } = schema;
  const structure = structureFindings(definition);
  const bindings = bindingFindings(definition, { ...options, phase: options.phase ?? 'save' });
  const errors = [
    ...structure.errors,
    ...expressionErrors(definition, structure.sound),
    ...inputErrors(definition),
    ...bindings.errors,
  ];
  const warnings = [...structure.warnings, ...bindings.warnings];
  return errors.length === 0 ? { ok: true, definition, warnings } : { ok: false, errors, warnings };
}
