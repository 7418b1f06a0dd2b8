import Ajv, { type ErrorObject } from 'ajv';
import { FLOW_SCHEMA } from './flow-schema';
import type { FlowDefinition, FlowIssue } from './flow-types';
import { escapePointerToken } from './json-pointer';
import { present } from './present';

const ajv = new Ajv({ allErrors: true, discriminator: true, strict: true });
const validateSchema = ajv.compile<FlowDefinition>(FLOW_SCHEMA);

/** At most this many schema errors are reported: enough to fix, bounded for huge documents. */
const MAX_ERRORS = 50;

function child(error: ErrorObject, property: unknown): string {
  return `${error.instancePath}/${escapePointerToken(String(property))}`;
}

/** One ajv error as a pointer to the offending value and a plain message; null to drop it. */
function toIssue(error: ErrorObject): FlowIssue | null {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { pointer: child(error, params.missingProperty), message: 'is required' };
    case 'additionalProperties':
      return { pointer: child(error, params.additionalProperty), message: 'is not allowed here' };
    case 'propertyNames':
      return {
        pointer: child(error, params.propertyName),
        message: 'is not a valid name (letters, digits and _, not starting with a digit)',
      };
    case 'discriminator':
      // A missing or non-string `type` is reported by `required`/`type` already.
      return params.error === 'mapping'
        ? {
            pointer: `${error.instancePath}/type`,
            message: `unknown step type ${JSON.stringify(params.tagValue)}`,
          }
        : null;
    case 'const':
      return {
        pointer: error.instancePath,
        message: `must be ${JSON.stringify(params.allowedValue)}`,
      };
    case 'enum':
      return {
        pointer: error.instancePath,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'anyOf':
      return {
        pointer: error.instancePath,
        message: 'must be an ISO 8601 duration (PT15M, P1DT2H, P2W) or a number of seconds',
      };
    default:
      // The name check inside propertyNames repeats the propertyNames error above.
      return 'propertyName' in error
        ? null
        : { pointer: error.instancePath, message: present(error.message, 'ajv message') };
  }
}

/**
 * ajv errors as findings with RFC 6901 pointers (under `base`), without the noise: anyOf
 * alternatives, discriminator echoes and repeats are dropped; at most MAX_ERRORS are kept.
 */
export function schemaIssues(errors: ErrorObject[], base = ''): FlowIssue[] {
  const seen = new Set<string>();
  const issues: FlowIssue[] = [];
  for (const error of errors) {
    // anyOf alternatives (the delay duration's) explain nothing the anyOf error does not.
    if (/\/anyOf\/\d+\//.test(error.schemaPath)) continue;
    const issue = toIssue(error);
    if (issue === null) continue;
    const located = { pointer: base + issue.pointer, message: issue.message };
    const key = JSON.stringify(located);
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(located);
  }
  return issues.slice(0, MAX_ERRORS);
}

/** Schema validation: the document, typed, or its errors with RFC 6901 pointers. */
export function checkSchema(
  input: unknown,
): { ok: true; definition: FlowDefinition } | { ok: false; errors: FlowIssue[] } {
  if (validateSchema(input)) return { ok: true, definition: input };
  return { ok: false, errors: schemaIssues(present(validateSchema.errors, 'schema errors')) };
}
