import type { StepTypeSpec } from '../step-spec';

function control(summary: string, sampleOutput: unknown): StepTypeSpec {
  return {
    summary,
    execution: 'control',
    port: null,
    method: null,
    sideEffecting: false,
    costBearing: false,
    input: null,
    sampleOutput,
  };
}

/** Steps that steer the run; their fields are described in docs/flows.md. */
export const CONTROL_STEPS = {
  branch: control('Continue with the first condition that holds, else `otherwise`.', {}),
  delay: control('Wait durably, from one minute to 30 days.', {}),
  wait_for_event: control(
    'Wait for a correlated CloudEvent; the output is `{ timedOut, event }`; on timeout continue at `onTimeout`.',
    { timedOut: false, event: { type: 'sample', data: {} } },
  ),
  set_vars: control('Set run variables (`vars.<name>`).', {}),
  end: control('End the run as completed (default) or cancelled.', {}),
};
