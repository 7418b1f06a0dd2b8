import { callFields } from './call-fields';
import type { FlowDefinition } from './flow-types';
import { pointer } from './json-pointer';
import { exprFieldSource, valueExpressions } from './value-expressions';

/**
 * An expression of the definition and what it may see: `trigger` expressions (filter,
 * concurrencyKey) the event and the initial vars, `candidate` ones (a wait's eventKey) only the
 * candidate event, `step` ones the whole scope as it stands before their step.
 */
export type ExpressionSite = { pointer: string; source: string } & (
  | { context: 'trigger'; stepIndex: null }
  | { context: 'candidate'; stepIndex: null }
  | { context: 'step'; stepIndex: number }
);

/** Every expression of a definition, with its pointer and context. */
export function expressionSites(definition: FlowDefinition): ExpressionSite[] {
  const sites: ExpressionSite[] = [];
  const trigger = (at: string, field: string) =>
    sites.push({
      pointer: at,
      source: exprFieldSource(field),
      context: 'trigger',
      stepIndex: null,
    });
  const ofStep = (at: string, field: string, stepIndex: number) =>
    sites.push({ pointer: at, source: exprFieldSource(field), context: 'step', stepIndex });

  if (definition.trigger.filter !== undefined)
    trigger('/trigger/filter', definition.trigger.filter);
  if (definition.concurrencyKey !== undefined)
    trigger('/concurrencyKey', definition.concurrencyKey);
  definition.steps.forEach((step, i) => {
    const at = pointer('/steps', i);
    if (step.when !== undefined) ofStep(`${at}/when`, step.when, i);
    if (step.type === 'branch') {
      step.conditions.forEach((c, k) => ofStep(`${at}/conditions/${k}/when`, c.when, i));
    }
    if (step.type === 'wait_for_event') {
      sites.push({
        pointer: `${at}/correlate/eventKey`,
        source: exprFieldSource(step.correlate.eventKey),
        context: 'candidate',
        stepIndex: null,
      });
      ofStep(`${at}/correlate/runKey`, step.correlate.runKey, i);
    }
    for (const call of callFields(step)) {
      for (const found of valueExpressions(call.value, at + call.pointer)) {
        sites.push({ ...found, context: 'step', stepIndex: i });
      }
    }
  });
  return sites;
}
