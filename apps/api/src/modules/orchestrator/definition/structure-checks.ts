import { durationSeconds, MAX_DELAY_SECONDS, MIN_DELAY_SECONDS } from './durations';
import { END, flowGraph, reachableFrom, stepEdges, type FlowGraph } from './flow-graph';
import type { FlowDefinition, FlowIssue } from './flow-types';
import { present } from './present';

export interface Findings {
  errors: FlowIssue[];
  warnings: FlowIssue[];
}

/**
 * Duplicate ids, jumps to unknown steps, delay and backoff bounds; and, when the ids and jumps
 * are sound (`sound`), unbounded loops and unreachable steps. On an unsound graph those would
 * only be echoes of the first errors.
 */
export function structureFindings(definition: FlowDefinition): Findings & { sound: boolean } {
  const errors: FlowIssue[] = [];
  /** Duplicate ids and unknown targets: the graph cannot be trusted with them. */
  const broken: FlowIssue[] = [];
  const graph = flowGraph(definition);
  definition.steps.forEach((step, i) => {
    const first = present(graph.indexOf.get(step.id), step.id);
    if (first !== i) {
      broken.push({ pointer: `/steps/${i}/id`, message: `duplicates the id of /steps/${first}` });
    }
    for (const edge of stepEdges(definition, i)) {
      if (edge.to !== END && !graph.indexOf.has(edge.to)) {
        broken.push({
          pointer: `/steps/${i}${edge.via}`,
          message: `refers to unknown step ${JSON.stringify(edge.to)}`,
        });
      }
    }
    if (step.type === 'delay') {
      const seconds = present(durationSeconds(step.duration), 'duration');
      if (seconds < MIN_DELAY_SECONDS || seconds > MAX_DELAY_SECONDS) {
        errors.push({
          pointer: `/steps/${i}/duration`,
          message: `must be between one minute and 30 days (it is ${seconds} s)`,
        });
      }
    }
    if ('retry' in step && step.retry !== undefined) {
      const { initialMs, maxMs } = step.retry.backoff;
      if (maxMs < initialMs) {
        errors.push({
          pointer: `/steps/${i}/retry/backoff/maxMs`,
          message: `must not be below initialMs (${initialMs})`,
        });
      }
    }
  });
  if (broken.length > 0) return { errors: [...broken, ...errors], warnings: [], sound: false };
  return {
    errors: [...errors, ...cycleErrors(definition, graph)],
    warnings: unreachable(definition, graph),
    sound: true,
  };
}

function unreachable(definition: FlowDefinition, graph: FlowGraph): FlowIssue[] {
  const seen = reachableFrom(graph, 0).add(0);
  return definition.steps
    .map((step, i) => ({ step, i }))
    .filter(({ i }) => !seen.has(i))
    .map(({ step, i }) => ({
      pointer: `/steps/${i}`,
      message: `step ${JSON.stringify(step.id)} is never reached`,
    }));
}

/**
 * Every cycle must pass through a step with maxIterations (the loop's bound). Edges into bounded
 * steps are dropped; whatever cycle remains is unbounded and reported at the jump that closes it.
 */
function cycleErrors(definition: FlowDefinition, graph: FlowGraph): FlowIssue[] {
  const errors: FlowIssue[] = [];
  const state = new Map<number, 'open' | 'done'>();
  const path: number[] = [];
  const stepAt = (k: number) => present(definition.steps[k], `step ${k}`);
  const visit = (i: number): void => {
    state.set(i, 'open');
    path.push(i);
    for (const edge of stepEdges(definition, i)) {
      const to = graph.indexOf.get(edge.to);
      if (to === undefined || stepAt(to).maxIterations !== undefined) continue;
      if (state.get(to) === 'open') {
        const loop = path.slice(path.indexOf(to)).map((k) => stepAt(k).id);
        errors.push({
          pointer: `/steps/${i}${edge.via}`,
          message: `closes the loop ${[...loop, edge.to].join(' → ')} without a bound: give step ${JSON.stringify(edge.to)} maxIterations`,
        });
      } else if (state.get(to) === undefined) {
        visit(to);
      }
    }
    path.pop();
    state.set(i, 'done');
  };
  definition.steps.forEach((_, i) => {
    if (state.get(i) === undefined) visit(i);
  });
  return errors;
}
