import { ExpressionError, type ExpressionScope } from './expressions';
import { present } from './present';
import type { FlowDefinition, FlowIssue } from './flow-types';
import { firstStep, nextStep, type NextStep } from './sequencing';
import { simulate, type Simulated } from './simulate-step';
import { planStep } from './step-plan';
import { initialScope, matchesTrigger, type FlowEvent } from './trigger';

/** Runs longer than this are cut short in a dry run (a real run has its own limits). */
export const DRY_RUN_MAX_STEPS = 200;

export interface DryRunOptions {
  /** Outputs to use instead of the catalogue's samples, by step id. A wait step's stub
   * `{ timedOut: true }` takes its timeout path. */
  stubs?: Record<string, unknown>;
  maxSteps?: number;
  run?: Record<string, unknown>;
}

export interface DryRunStep {
  id: string;
  type: string;
  status: 'would_run' | 'skipped' | 'branch' | 'failed';
  resolvedInputs: Record<string, unknown>;
  output: unknown;
  /** The step id that would run next, or null when the run ends here. */
  next: string | null;
  issues?: FlowIssue[];
}

export type DryRunEnd =
  | { reason: 'not_matched' }
  | { reason: 'end'; status: 'completed' | 'cancelled' }
  | { reason: 'failed'; detail: string; pointer?: string | undefined }
  | { reason: 'step_limit' };

export interface DryRunResult {
  matched: boolean;
  steps: DryRunStep[];
  vars: Record<string, unknown>;
  endedBy: DryRunEnd;
}

const RECORDED_STATUS = {
  completed: 'completed',
  branched: 'completed',
  skipped: 'skipped',
  timed_out: 'timed_out',
} as const;

/**
 * Simulates a validated flow against a sample event without side effects: every step's resolved
 * inputs, its output (a stub, a pure step's real result, or the catalogue's sample), and where
 * the run would go. Bounded: loops stop at their maxIterations, everything at maxSteps.
 */
export async function dryRun(
  definition: FlowDefinition,
  sampleEvent: FlowEvent,
  options: DryRunOptions = {},
): Promise<DryRunResult> {
  const stubs = options.stubs ?? {};
  const maxSteps = options.maxSteps ?? DRY_RUN_MAX_STEPS;
  const scope: ExpressionScope = initialScope(definition, sampleEvent, options.run);
  const steps: DryRunStep[] = [];
  const result = (endedBy: DryRunEnd, matched = true): DryRunResult => ({
    matched,
    steps,
    vars: scope.vars,
    endedBy,
  });
  try {
    if (!(await matchesTrigger(definition, sampleEvent))) {
      return result({ reason: 'not_matched' }, false);
    }
  } catch (error) {
    return result(failure(error), false);
  }
  let decision: NextStep = firstStep(definition);
  while (decision.kind === 'run') {
    if (steps.length >= maxSteps) return result({ reason: 'step_limit' });
    const { stepId, loopCounters } = decision;
    const type = present(
      definition.steps.find((s) => s.id === stepId),
      stepId,
    ).type;
    let simulated: Simulated;
    try {
      simulated = simulate(stepId, type, await planStep(definition, stepId, scope), stubs);
    } catch (error) {
      steps.push({
        id: stepId,
        type,
        status: 'failed',
        resolvedInputs: {},
        output: null,
        next: null,
      });
      return result(failure(error));
    }
    const { record, outcome } = simulated;
    if (record.status === 'failed') {
      steps.push({ ...record, next: null });
      return result({
        reason: 'failed',
        detail: `step ${JSON.stringify(stepId)} has invalid inputs`,
      });
    }
    scope.vars = { ...scope.vars, ...simulated.vars };
    const recorded = { status: RECORDED_STATUS[outcome.status], output: record.output };
    scope.steps = { ...scope.steps, [stepId]: recorded };
    decision = nextStep(definition, stepId, outcome, loopCounters);
    steps.push({ ...record, next: decision.kind === 'run' ? decision.stepId : null });
  }
  return decision.kind === 'end'
    ? result({ reason: 'end', status: decision.status })
    : result({ reason: 'failed', detail: decision.reason });
}

/** An expression failure ends the dry run; anything else is a bug and is thrown. */
function failure(error: unknown): DryRunEnd {
  if (!(error instanceof ExpressionError)) throw error;
  return { reason: 'failed', detail: error.message, pointer: error.pointer };
}
