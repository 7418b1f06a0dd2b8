import type { z } from 'zod';
import { callFields } from './call-fields';
import type { FlowDefinition, FlowIssue } from './flow-types';
import { pointer } from './json-pointer';
import { present } from './present';
import { stepSpec } from './step-catalogue';
import { isLiteral, literalValue } from './value-expressions';

/** The input names a step type takes, and which of them it needs. */
export function inputNames(schema: z.ZodObject): { all: string[]; required: string[] } {
  const shape = shapeOf(schema);
  const all = Object.keys(shape);
  const required = all.filter((name) => !present(shape[name], name).safeParse(undefined).success);
  return { all, required };
}

function shapeOf(schema: z.ZodObject): Record<string, z.ZodType | undefined> {
  return schema.shape;
}

/**
 * What can be known about a step's inputs before it runs: names the step type does not take,
 * inputs it needs and lacks, and literal values that can never pass its input schema.
 */
export function inputErrors(definition: FlowDefinition): FlowIssue[] {
  const errors: FlowIssue[] = [];
  definition.steps.forEach((step, i) => {
    const schema = stepSpec(step.type).input;
    if (schema === null) return;
    const at = pointer('/steps', i);
    const fields = callFields(step);
    const names = inputNames(schema);
    for (const name of names.required) {
      if (!fields.some((f) => f.name === name)) {
        errors.push({ pointer: `${at}/inputs`, message: `needs input ${JSON.stringify(name)}` });
      }
    }
    for (const field of fields) {
      const fieldSchema = shapeOf(schema)[field.name];
      if (fieldSchema === undefined) {
        errors.push({
          pointer: at + field.pointer,
          message: `is not an input of ${step.type} (it takes ${names.all.join(', ')})`,
        });
      } else if (isLiteral(field.value)) {
        const result = fieldSchema.safeParse(literalValue(field.value));
        for (const issue of result.error?.issues ?? []) {
          errors.push({
            pointer: pointer(at + field.pointer, ...issue.path.map(String)),
            message: issue.message,
          });
        }
      }
    }
  });
  return errors;
}
