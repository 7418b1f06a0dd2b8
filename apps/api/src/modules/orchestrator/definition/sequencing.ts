import { defaultSuccessor, END } from './flow-graph';
import type { FlowDefinition, RetryPolicy } from './flow-types';

/** How the step that just finished ended (the runtime records its output separately). */
export type StepOutcome =
  | { status: 'completed' }
  | { status: 'skipped' }
  /** A branch step: the chosen step, or null when no condition held and there is no otherwise. */
  | { status: 'branched'; next: string | null }
  /** A wait_for_event step whose timeout came first. */
  | { status: 'timed_out' };

/** How often each bounded step (one with maxIterations) has started in this run. */
export type LoopCounters = Readonly<Record<string, number>>;

export type NextStep =
  | { kind: 'run'; stepId: string; loopCounters: LoopCounters }
  | { kind: 'end'; status: 'completed' | 'cancelled' }
  | { kind: 'fail'; reason: string };

/** Enters a step: counts a start of a bounded step, and refuses one start too many. */
function enter(definition: FlowDefinition, stepId: string, counters: LoopCounters): NextStep {
  if (stepId === END) return { kind: 'end', status: 'completed' };
  const step = definition.steps.find((s) => s.id === stepId);
  if (step === undefined) return { kind: 'fail', reason: `unknown step ${JSON.stringify(stepId)}` };
  if (step.maxIterations === undefined) return { kind: 'run', stepId, loopCounters: counters };
  const count = (counters[stepId] ?? 0) + 1;
  if (count > step.maxIterations) {
    return {
      kind: 'fail',
      reason: `step ${JSON.stringify(stepId)} would start a ${count}th time; its maxIterations is ${step.maxIterations}`,
    };
  }
  return { kind: 'run', stepId, loopCounters: { ...counters, [stepId]: count } };
}

/** Where a run starts: the first step. */
export function firstStep(definition: FlowDefinition): NextStep {
  return enter(definition, definition.steps[0]?.id ?? END, {});
}

/**
 * The pure sequencing rule: after `stepId` ended with `outcome`, what runs next. Steps run in
 * array order unless `next`, a branch, an `end` step or a wait's `onTimeout` says otherwise; a
 * skipped step continues as if it had completed; a bounded step that would start more often
 * than its maxIterations fails the run.
 */
export function nextStep(
  definition: FlowDefinition,
  stepId: string,
  outcome: StepOutcome,
  loopCounters: LoopCounters,
): NextStep {
  const index = definition.steps.findIndex((s) => s.id === stepId);
  const step = definition.steps[index];
  if (step === undefined) return { kind: 'fail', reason: `unknown step ${JSON.stringify(stepId)}` };
  switch (outcome.status) {
    case 'skipped':
      return enter(definition, defaultSuccessor(definition, index), loopCounters);
    case 'branched':
      return enter(definition, outcome.next ?? defaultSuccessor(definition, index), loopCounters);
    case 'timed_out':
      return step.type === 'wait_for_event'
        ? enter(definition, step.onTimeout, loopCounters)
        : { kind: 'fail', reason: `step ${JSON.stringify(stepId)} timed out` };
    default:
      return step.type === 'end'
        ? { kind: 'end', status: step.status ?? 'completed' }
        : enter(definition, defaultSuccessor(definition, index), loopCounters);
  }
}

/** Used when a call step sets no retry policy. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  backoff: { initialMs: 1000, maxMs: 60_000, multiplier: 2 },
};

/**
 * How long to wait before attempt `attempt + 1` after `attempt` attempts failed retryably, or
 * null when the attempts are used up. Exponential, capped at maxMs; jitter is the caller's.
 */
export function retryDelayMs(policy: RetryPolicy | undefined, attempt: number): number | null {
  const { maxAttempts, backoff } = policy ?? DEFAULT_RETRY;
  if (attempt >= maxAttempts) return null;
  const delay = backoff.initialMs * backoff.multiplier ** (attempt - 1);
  return Math.min(backoff.maxMs, delay);
}
