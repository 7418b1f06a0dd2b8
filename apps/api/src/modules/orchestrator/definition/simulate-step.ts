import type { DryRunStep } from './dry-run';
import type { StepOutcome } from './sequencing';
import { stepSpec } from './step-catalogue';
import type { StepPlan } from './step-plan';

export interface Simulated {
  record: Omit<DryRunStep, 'next'>;
  outcome: StepOutcome;
  vars?: Record<string, unknown>;
}

/** What a planned step would produce, with stubs standing in for the outside world. */
export function simulate(
  id: string,
  type: string,
  plan: StepPlan,
  stubs: Record<string, unknown>,
): Simulated {
  const stubbed = Object.hasOwn(stubs, id);
  const base = { id, type, resolvedInputs: {} as Record<string, unknown> };
  switch (plan.action) {
    case 'skip':
      return {
        record: { ...base, status: 'skipped', output: null },
        outcome: { status: 'skipped' },
      };
    case 'branch':
      return {
        record: {
          ...base,
          status: 'branch',
          output: { next: plan.next, condition: plan.condition },
        },
        outcome: { status: 'branched', next: plan.next },
      };
    case 'set_vars':
      return {
        record: { ...base, status: 'would_run', resolvedInputs: plan.vars, output: plan.vars },
        outcome: { status: 'completed' },
        vars: plan.vars,
      };
    case 'delay':
      return {
        record: {
          ...base,
          status: 'would_run',
          resolvedInputs: { seconds: plan.seconds },
          output: {},
        },
        outcome: { status: 'completed' },
      };
    case 'wait': {
      const output = stubbed ? stubs[id] : stepSpec(type).sampleOutput;
      const timedOut = (output as { timedOut?: unknown } | null)?.timedOut === true;
      return {
        record: {
          ...base,
          status: 'would_run',
          resolvedInputs: {
            event: plan.event,
            runKey: plan.runKey,
            timeoutSeconds: plan.timeoutSeconds,
          },
          output,
        },
        outcome: { status: timedOut ? 'timed_out' : 'completed' },
      };
    }
    case 'end':
      return {
        record: { ...base, status: 'would_run', output: { status: plan.status } },
        outcome: { status: 'completed' },
      };
    case 'call': {
      const output = stubbed
        ? stubs[id]
        : plan.spec.compute !== undefined
          ? plan.spec.compute(plan.input)
          : plan.spec.sampleOutput;
      return {
        record: { ...base, status: 'would_run', resolvedInputs: plan.inputs, output },
        outcome: { status: 'completed' },
      };
    }
    case 'invalid_input':
      return {
        record: {
          ...base,
          status: 'failed',
          resolvedInputs: plan.inputs,
          output: null,
          issues: plan.issues,
        },
        outcome: { status: 'completed' },
      };
  }
}
