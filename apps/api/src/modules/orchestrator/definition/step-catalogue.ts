import type { FlowDefinition, PortName } from './flow-types';
import type { StepTypeSpec } from './step-spec';
import { CALENDAR_STEPS } from './steps/calendar-steps';
import { CONTROL_STEPS } from './steps/control-steps';
import { CRM_STEPS } from './steps/crm-steps';
import { MESSAGING_STEPS } from './steps/messaging-steps';
import { RUNTIME_STEPS } from './steps/runtime-steps';
import { VOICE_STEPS } from './steps/voice-steps';

const CATALOGUE = {
  ...CRM_STEPS,
  ...CALENDAR_STEPS,
  ...MESSAGING_STEPS,
  ...VOICE_STEPS,
  ...RUNTIME_STEPS,
  ...CONTROL_STEPS,
};

export type StepType = keyof typeof CATALOGUE;

/** Every step type a flow may use, by name. */
export const STEP_CATALOGUE: Readonly<Record<StepType, StepTypeSpec>> = CATALOGUE;
export type ControlStepType = keyof typeof CONTROL_STEPS;
/** The step types whose arguments are all in `inputs` (port calls, pure helpers, HTTP). */
export type CallStepType = Exclude<StepType, ControlStepType | 'llm.generate' | 'n8n.delegate'>;

export const STEP_TYPES = Object.keys(STEP_CATALOGUE) as StepType[];

export function isStepType(type: string): type is StepType {
  return Object.hasOwn(STEP_CATALOGUE, type);
}

/** The spec of a step type; the definition was validated, so the type is known. */
export function stepSpec(type: string): StepTypeSpec {
  if (!isStepType(type)) throw new Error(`unknown step type ${JSON.stringify(type)}`);
  return STEP_CATALOGUE[type];
}

/** The ports a flow's steps call: what the tenant needs bindings for. */
export function requiredPorts(definition: FlowDefinition): Set<PortName> {
  const ports = new Set<PortName>();
  for (const step of definition.steps) {
    const port = stepSpec(step.type).port;
    if (port !== null) ports.add(port);
  }
  return ports;
}
