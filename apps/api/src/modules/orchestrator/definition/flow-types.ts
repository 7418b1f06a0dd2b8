import type { CallStepType } from './step-catalogue';

/**
 * The shape of a flow definition (schemaVersion 1), as `flow-schema.ts` publishes it. These types
 * describe a document that has passed `validateFlow`; nothing here checks anything.
 */

/** A JSONata expression. In fields that only hold expressions the leading `=` is optional. */
export type Expr = string;

/**
 * Any JSON value; strings starting with `=` are JSONata expressions (`"=event.data.from"`), a
 * leading `==` stands for a literal `=` (`"==5"` is the string `"=5"`), everything else is literal.
 * Objects and arrays are resolved element by element.
 */
export type ValueOrExpr = unknown;

export const PORT_NAMES = ['crm', 'calendar', 'voice', 'messaging', 'llm', 'workflow'] as const;
export type PortName = (typeof PORT_NAMES)[number];

export interface RetryPolicy {
  /** Attempts in total, the first included (1 = no retry). */
  maxAttempts: number;
  backoff: { initialMs: number; maxMs: number; multiplier: number };
}

interface StepCommon {
  id: string;
  description?: string;
  /** Run the step only when this is truthy; otherwise it is recorded as skipped. */
  when?: Expr;
  /** How often the step may start in one run; required on the target of a loop. */
  maxIterations?: number;
}

interface Continues {
  /** The step to continue with; default: the next one in array order (or the end). */
  next?: string;
}

interface CallCommon extends StepCommon, Continues {
  retry?: RetryPolicy;
  timeoutSeconds?: number;
}

/** Port calls, pure helpers and `http.request`: all their arguments are `inputs`. */
export interface CallStep extends CallCommon {
  type: CallStepType;
  inputs?: Record<string, ValueOrExpr>;
}

export interface LlmGenerateStep extends CallCommon {
  type: 'llm.generate';
  prompt: { key: string; label?: string; version?: number };
  variables?: Record<string, ValueOrExpr>;
  model?: { id?: string; temperature?: number; maxTokens?: number };
}

export interface N8nDelegateStep extends CallCommon {
  type: 'n8n.delegate';
  /** The n8n workflow's webhook path. */
  workflow: string;
  /** `sync`: n8n answers the result; `callback`: the run waits for n8n's signed callback. */
  mode: 'sync' | 'callback';
  inputs?: { payload?: Record<string, ValueOrExpr> };
}

export interface BranchStep extends StepCommon {
  type: 'branch';
  conditions: { when: Expr; next: string }[];
  /** When no condition holds; default: the next step in array order. */
  otherwise?: string;
}

export interface DelayStep extends StepCommon, Continues {
  type: 'delay';
  /** ISO 8601 (`PT15M`, `P1DT2H`, `P2W`) or seconds; from one minute to 30 days. */
  duration: string | number;
}

export interface WaitForEventStep extends StepCommon, Continues {
  type: 'wait_for_event';
  /** The CloudEvent type to wait for. */
  event: string;
  correlate: {
    /** Evaluated on each candidate event (bound as `event`; nothing else is in scope). */
    eventKey: Expr;
    /** Evaluated in the run's scope when the wait starts; the first equal eventKey ends it. */
    runKey: Expr;
  };
  timeoutSeconds: number;
  onTimeout: string;
}

export interface SetVarsStep extends StepCommon, Continues {
  type: 'set_vars';
  vars: Record<string, ValueOrExpr>;
}

export interface EndStep extends StepCommon {
  type: 'end';
  status?: 'completed' | 'cancelled';
}

export type ControlStep = BranchStep | DelayStep | WaitForEventStep | SetVarsStep | EndStep;
export type FlowStep = CallStep | LlmGenerateStep | N8nDelegateStep | ControlStep;

export interface FlowDefinition {
  schemaVersion: 1;
  name: string;
  description?: string;
  trigger: { events: string[]; filter?: Expr };
  /** Initial variables: literal JSON (not evaluated); install-time parameters land here. */
  vars?: Record<string, unknown>;
  /** The whole run's time limit. */
  timeoutSeconds?: number;
  /** Runs whose key evaluates equal run one at a time (evaluated on the trigger event). */
  concurrencyKey?: Expr;
  steps: FlowStep[];
}

/** A finding, located by an RFC 6901 JSON pointer into the document. */
export interface FlowIssue {
  pointer: string;
  message: string;
}
