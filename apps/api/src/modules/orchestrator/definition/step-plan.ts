import { callFields, resolveInputs } from './call-fields';
import { durationSeconds } from './durations';
import { evaluateAt, truthy, type ExpressionScope } from './expressions';
import type { FlowDefinition, FlowIssue, FlowStep } from './flow-types';
import { pointer } from './json-pointer';
import { present } from './present';
import { stepSpec } from './step-catalogue';
import type { StepTypeSpec } from './step-spec';
import { exprFieldSource } from './value-expressions';

/** What executing a step means, decided from the definition and the run's scope. */
export type StepPlan =
  | { action: 'skip' }
  /** `next` null: no condition held and no otherwise; continue in array order. */
  | { action: 'branch'; next: string | null; condition: number | null }
  | { action: 'set_vars'; vars: Record<string, unknown> }
  | { action: 'delay'; seconds: number }
  | { action: 'wait'; event: string; runKey: unknown; timeoutSeconds: number }
  | { action: 'end'; status: 'completed' | 'cancelled' }
  /** `input` is the parsed input the step type's `invoke`/`compute` (or the runtime) takes. */
  | { action: 'call'; spec: StepTypeSpec; inputs: Record<string, unknown>; input: unknown }
  /** The resolved inputs fail the step type's schema: the step fails, retrying cannot help. */
  | { action: 'invalid_input'; inputs: Record<string, unknown>; issues: FlowIssue[] };

/**
 * Plans step `stepId` of a validated definition: its `when`, then what the step type asks for,
 * with every expression evaluated against `scope`. Throws an ExpressionError (with the pointer)
 * when an expression fails.
 */
export async function planStep(
  definition: FlowDefinition,
  stepId: string,
  scope: ExpressionScope,
): Promise<StepPlan> {
  const index = definition.steps.findIndex((s) => s.id === stepId);
  const step = present(definition.steps[index], `step ${stepId}`);
  const at = pointer('/steps', index);
  if (step.when !== undefined && !(await condition(step.when, scope, `${at}/when`))) {
    return { action: 'skip' };
  }
  switch (step.type) {
    case 'branch':
      for (const [k, c] of step.conditions.entries()) {
        if (await condition(c.when, scope, `${at}/conditions/${k}/when`)) {
          return { action: 'branch', next: c.next, condition: k };
        }
      }
      return { action: 'branch', next: step.otherwise ?? null, condition: null };
    case 'set_vars':
      return { action: 'set_vars', vars: await resolveInputs(step, scope, at) };
    case 'delay':
      return { action: 'delay', seconds: present(durationSeconds(step.duration), 'duration') };
    case 'wait_for_event':
      return {
        action: 'wait',
        event: step.event,
        runKey: await evaluateAt(
          exprFieldSource(step.correlate.runKey),
          scope,
          `${at}/correlate/runKey`,
        ),
        timeoutSeconds: step.timeoutSeconds,
      };
    case 'end':
      return { action: 'end', status: step.status ?? 'completed' };
    default:
      return planCall(step, scope, at);
  }
}

async function planCall(step: FlowStep, scope: ExpressionScope, at: string): Promise<StepPlan> {
  const spec = stepSpec(step.type);
  const inputs = await resolveInputs(step, scope, at);
  const parsed = present(spec.input, `input schema of ${step.type}`).safeParse(inputs);
  if (parsed.success) return { action: 'call', spec, inputs, input: parsed.data };
  const fields = callFields(step);
  const issues = parsed.error.issues.map((issue) => {
    const [head, ...rest] = issue.path.map(String);
    const field = fields.find((f) => f.name === head);
    const base = field === undefined ? `${at}/inputs` : at + field.pointer;
    return { pointer: pointer(base, ...(field === undefined ? [] : rest)), message: issue.message };
  });
  return { action: 'invalid_input', inputs, issues };
}

async function condition(source: string, scope: ExpressionScope, at: string): Promise<boolean> {
  return truthy(await evaluateAt(exprFieldSource(source), scope, at));
}
