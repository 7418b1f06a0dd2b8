import type {
  CalendarPort,
  CallOptions,
  CrmPort,
  LlmPort,
  MessagingPort,
  PortResult,
  VoicePort,
  WorkflowDelegatePort,
} from '@maxai/core';
import type { z } from 'zod';
import type { PortName } from './flow-types';

/** The port adapters a run has, per port; a flow needs only those of `requiredPorts`. */
export interface FlowPorts {
  crm?: CrmPort;
  calendar?: CalendarPort;
  voice?: VoicePort;
  messaging?: MessagingPort;
  llm?: LlmPort;
  workflow?: WorkflowDelegatePort;
}

/**
 * How a step type runs: `port` calls one port method (`invoke`), `pure` computes its output from
 * its inputs (`compute`), `control` steers the run (branch, delay, wait, vars, end), `runtime`
 * needs the runtime's own services (prompt resolution, the host allowlist, n8n callbacks).
 */
export type StepExecution = 'port' | 'pure' | 'control' | 'runtime';

export interface StepTypeSpec {
  summary: string;
  execution: StepExecution;
  port: PortName | null;
  /** The port method the step calls (`upsertContact`), or null. */
  method: string | null;
  /** Changes something outside the run: the runtime passes an idempotency key. */
  sideEffecting: boolean;
  /** A provider bills for it (SMS segments, tokens, call minutes). */
  costBearing: boolean;
  /** Checks the resolved inputs (the step's inputs and type-specific call fields). */
  input: z.ZodObject | null;
  /** What dry-run shows as the step's output when no stub is given. */
  sampleOutput: unknown;
  /** Set when the port lacks the method: the step validates and dry-runs but cannot execute. */
  portGap?: string;
  invoke?: (ports: FlowPorts, input: unknown, options: CallOptions) => Promise<PortResult<unknown>>;
  compute?: (input: unknown) => unknown;
}

/** A run reached a step whose port has no adapter (activation should have refused it). */
export class MissingPortError extends Error {
  constructor(readonly port: PortName) {
    super(`no ${port} adapter is bound for this run`);
    this.name = 'MissingPortError';
  }
}

export function requirePort<P extends keyof FlowPorts>(
  ports: FlowPorts,
  port: P,
): NonNullable<FlowPorts[P]> {
  const adapter = ports[port];
  if (adapter === undefined) throw new MissingPortError(port);
  return adapter;
}

interface PortMethods {
  crm: CrmPort;
  calendar: CalendarPort;
  voice: VoicePort;
  messaging: MessagingPort;
  llm: LlmPort;
  workflow: WorkflowDelegatePort;
}

/**
 * A step that calls one port method. `input` parses the resolved inputs before `call` sees them,
 * so `call` gets typed arguments; the method name is checked against the port interface.
 */
export function portStep<P extends keyof PortMethods, S extends z.ZodObject>(spec: {
  summary: string;
  port: P;
  method: keyof PortMethods[P] & string;
  sideEffecting: boolean;
  costBearing: boolean;
  input: S;
  sampleOutput: unknown;
  call: (
    port: PortMethods[P],
    input: z.output<S>,
    options: CallOptions,
  ) => Promise<PortResult<unknown>>;
}): StepTypeSpec {
  const { call, ...rest } = spec;
  return {
    ...rest,
    execution: 'port',
    // Async, so that a missing port or a bad input rejects like a failing call does.
    invoke: async (ports, input, options) => {
      const port = requirePort(ports, spec.port) as PortMethods[P];
      return await call(port, spec.input.parse(input), options);
    },
  };
}
