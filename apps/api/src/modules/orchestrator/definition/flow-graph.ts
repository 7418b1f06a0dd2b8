import type { FlowDefinition, FlowStep } from './flow-types';
import { present } from './present';

export const END = '$end';

/** A way from one step to another (or to the end), and the field that makes it. */
export interface FlowEdge {
  to: string;
  /** Relative to the step: `/next`, `/conditions/0/next`, `/otherwise`, `/onTimeout`, or ''. */
  via: string;
}

/** After step i completes, or is skipped: `next`, else the following step, else the end. */
export function defaultSuccessor(definition: FlowDefinition, index: number): string {
  return explicitNext(definition.steps[index]) ?? definition.steps[index + 1]?.id ?? END;
}

function explicitNext(step: FlowStep | undefined): string | undefined {
  return step !== undefined && 'next' in step ? step.next : undefined;
}

function fallthrough(definition: FlowDefinition, index: number): FlowEdge {
  const via = explicitNext(definition.steps[index]) === undefined ? '' : '/next';
  return { to: defaultSuccessor(definition, index), via };
}

/** Every way a run can leave step i (a skipped step leaves by its default successor). */
export function stepEdges(definition: FlowDefinition, index: number): FlowEdge[] {
  const step = present(definition.steps[index], `step ${index}`);
  const skip = step.when === undefined ? [] : [fallthrough(definition, index)];
  switch (step.type) {
    case 'end':
      return skip;
    case 'branch':
      return [
        ...step.conditions.map((c, i) => ({ to: c.next, via: `/conditions/${i}/next` })),
        step.otherwise === undefined
          ? fallthrough(definition, index)
          : { to: step.otherwise, via: '/otherwise' },
        ...skip,
      ];
    case 'wait_for_event':
      return [fallthrough(definition, index), { to: step.onTimeout, via: '/onTimeout' }];
    default:
      return [fallthrough(definition, index)];
  }
}

export interface FlowGraph {
  indexOf: Map<string, number>;
  /** Per step, the indexes it can lead to directly (unknown targets and the end left out). */
  successors: number[][];
}

export function flowGraph(definition: FlowDefinition): FlowGraph {
  const indexOf = new Map<string, number>();
  definition.steps.forEach((step, i) => {
    if (!indexOf.has(step.id)) indexOf.set(step.id, i);
  });
  const successors = definition.steps.map((_, i) => [
    ...new Set(
      stepEdges(definition, i)
        .map((edge) => indexOf.get(edge.to))
        .filter((to) => to !== undefined),
    ),
  ]);
  return { indexOf, successors };
}

/** The steps reachable from `from` in one or more moves. */
export function reachableFrom(graph: FlowGraph, from: number): Set<number> {
  const seen = new Set<number>();
  const stack = [...present(graph.successors[from], `step ${from}`)];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...present(graph.successors[node], `step ${node}`));
  }
  return seen;
}
