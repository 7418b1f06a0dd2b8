import type { FlowStep } from './flow-types';
import type { ExpressionScope } from './expressions';
import { pointer } from './json-pointer';
import { resolveValue } from './value-expressions';

export interface CallField {
  name: string;
  value: unknown;
  /** Where the field is, relative to the step. */
  pointer: string;
}

/**
 * The arguments a step's execution gets, before resolution: the `inputs` of port calls, plus
 * the type-specific call fields (an LLM step's prompt, variables and model; an n8n step's
 * workflow, mode and payload), or the variables a set_vars step assigns.
 */
export function callFields(step: FlowStep): CallField[] {
  switch (step.type) {
    case 'llm.generate':
      return [
        { name: 'prompt', value: step.prompt, pointer: '/prompt' },
        ...(step.variables === undefined
          ? []
          : [{ name: 'variables', value: step.variables, pointer: '/variables' }]),
        ...(step.model === undefined
          ? []
          : [{ name: 'model', value: step.model, pointer: '/model' }]),
      ];
    case 'n8n.delegate':
      return [
        { name: 'workflow', value: step.workflow, pointer: '/workflow' },
        { name: 'mode', value: step.mode, pointer: '/mode' },
        ...(step.inputs?.payload === undefined
          ? []
          : [{ name: 'payload', value: step.inputs.payload, pointer: '/inputs/payload' }]),
      ];
    case 'set_vars':
      return fieldsOf(step.vars, '/vars');
    case 'branch':
    case 'delay':
    case 'wait_for_event':
    case 'end':
      return [];
    default:
      return fieldsOf(step.inputs ?? {}, '/inputs');
  }
}

function fieldsOf(values: Record<string, unknown>, at: string): CallField[] {
  return Object.entries(values).map(([name, value]) => ({
    name,
    value,
    pointer: pointer(at, name),
  }));
}

/**
 * The step's call arguments with every expression resolved (deeply inside objects and arrays);
 * for set_vars, the variables it assigns. `stepPointer` locates errors (`/steps/3`).
 */
export async function resolveInputs(
  step: FlowStep,
  scope: ExpressionScope,
  stepPointer = '',
): Promise<Record<string, unknown>> {
  const entries: [string, unknown][] = [];
  for (const field of callFields(step)) {
    const value = await resolveValue(field.value, scope, stepPointer + field.pointer);
    if (value !== undefined) entries.push([field.name, value]);
  }
  return Object.fromEntries(entries);
}
