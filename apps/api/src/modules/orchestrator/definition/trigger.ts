import type { ExpressionScope } from './expressions';
import { evaluate, evaluateAt, truthy } from './expressions';
import type { FlowDefinition, WaitForEventStep } from './flow-types';
import { exprFieldSource } from './value-expressions';

/** A CloudEvent as flows see it (`tenantid`, `clientid` are our extensions). */
export interface FlowEvent {
  id?: string;
  type: string;
  source?: string;
  subject?: string;
  time?: string;
  tenantid?: string;
  clientid?: string;
  data?: unknown;
  [extension: string]: unknown;
}

/** The scope a run starts with: the trigger event, no steps yet, the initial vars. */
export function initialScope(
  definition: FlowDefinition,
  event: FlowEvent,
  run?: Record<string, unknown>,
): ExpressionScope {
  return { event, steps: {}, vars: { ...definition.vars }, ...(run === undefined ? {} : { run }) };
}

/** Whether the event starts a run: one of the trigger's types, and the filter (if any) holds. */
export async function matchesTrigger(
  definition: FlowDefinition,
  event: FlowEvent,
): Promise<boolean> {
  if (!definition.trigger.events.includes(event.type)) return false;
  const filter = definition.trigger.filter;
  if (filter === undefined) return true;
  const scope = initialScope(definition, event);
  return truthy(await evaluateAt(exprFieldSource(filter), scope, '/trigger/filter'));
}

/** The run's concurrency key (runs with equal keys run one at a time), or null without one. */
export async function concurrencyKeyOf(
  definition: FlowDefinition,
  event: FlowEvent,
): Promise<string | null> {
  if (definition.concurrencyKey === undefined) return null;
  const key = await evaluateAt(
    exprFieldSource(definition.concurrencyKey),
    initialScope(definition, event),
    '/concurrencyKey',
  );
  return key === undefined || key === null ? null : JSON.stringify(key);
}

/** A candidate event's correlation key for a waiting step (it sees only the event). */
export async function eventKeyOf(step: WaitForEventStep, candidate: FlowEvent): Promise<unknown> {
  return evaluate(exprFieldSource(step.correlate.eventKey), {
    event: candidate,
    steps: {},
    vars: {},
  });
}
