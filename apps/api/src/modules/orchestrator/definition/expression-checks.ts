import type { ExpressionError } from './expressions';
import { scopeReferences, type ScopeReference } from './expression-references';
import { expressionSites, type ExpressionSite } from './flow-expressions';
import { flowGraph, reachableFrom, type FlowGraph } from './flow-graph';
import type { FlowDefinition, FlowIssue } from './flow-types';

/**
 * Every expression compiles, and reads only what it can see: the trigger's expressions run
 * before any step, a wait's eventKey sees only the candidate event, and a step reads
 * `steps.<id>` only for known steps that can have run before it (itself too, in a loop). The
 * order is checked only on a sound graph (unique ids, known jumps) and for reachable steps
 * (an unreachable one is warned about already).
 */
export function expressionErrors(definition: FlowDefinition, checkOrder: boolean): FlowIssue[] {
  const graph = flowGraph(definition);
  const reachable = reachableFrom(graph, 0).add(0);
  const errors: FlowIssue[] = [];
  for (const site of expressionSites(definition)) {
    let references: ScopeReference[];
    try {
      references = scopeReferences(site.source);
    } catch (error) {
      const message = `does not compile: ${(error as ExpressionError).message}`;
      errors.push({ pointer: site.pointer, message });
      continue;
    }
    for (const reference of references) {
      const order = checkOrder && (site.stepIndex === null || reachable.has(site.stepIndex));
      const message = referenceError(site, reference, graph, order);
      if (message !== null) errors.push({ pointer: site.pointer, message });
    }
  }
  return errors;
}

function referenceError(
  site: ExpressionSite,
  { root, member }: ScopeReference,
  graph: FlowGraph,
  checkOrder: boolean,
): string | null {
  if (site.context === 'candidate') {
    return ['steps', 'vars', 'run'].includes(root)
      ? `an eventKey sees only the candidate event, not ${root}`
      : null;
  }
  if (root !== 'steps' || member === undefined) return null;
  if (site.context === 'trigger') return `runs before any step: steps.${member} is not available`;
  const from = graph.indexOf.get(member);
  if (from === undefined) return `refers to unknown step ${JSON.stringify(member)}`;
  return !checkOrder || reachableFrom(graph, from).has(site.stepIndex)
    ? null
    : `reads steps.${member}, which cannot have run before this step`;
}
