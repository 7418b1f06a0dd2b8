import type { FlowDefinition } from './flow-types';
import { pointer } from './json-pointer';
import { expressionOf, literalValue } from './value-expressions';

/** What the runtime and the portal need to know about a flow without running it. */

export interface HttpTarget {
  stepId: string;
  /** The url input's pointer. */
  pointer: string;
  /** Lower-cased host of a literal url; null when the url is computed (checked at run time). */
  host: string | null;
}

/** The hosts the flow's http.request steps call, where the url is literal. */
export function httpTargets(definition: FlowDefinition): HttpTarget[] {
  return definition.steps.flatMap((step, i) => {
    if (step.type !== 'http.request') return [];
    const url = step.inputs?.url;
    const at = pointer('/steps', i, 'inputs', 'url');
    if (typeof url !== 'string' || expressionOf(url) !== undefined) {
      return [{ stepId: step.id, pointer: at, host: null }];
    }
    return [{ stepId: step.id, pointer: at, host: hostOf(literalValue(url) as string) }];
  });
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase() || null;
  } catch {
    return null;
  }
}

/** `host` is allowed by an entry equal to it, or by `*.example.com` for its subdomains. */
export function hostAllowed(host: string, allowlist: Iterable<string>): boolean {
  const name = host.toLowerCase();
  for (const entry of allowlist) {
    const rule = entry.toLowerCase();
    if (rule === name || (rule.startsWith('*.') && name.endsWith(rule.slice(1)))) return true;
  }
  return false;
}

export interface PromptUse {
  stepId: string;
  key: string;
  label?: string;
  version?: number;
  /** The variables the step passes to the prompt. */
  variables: string[];
}

/** The prompts the flow's llm.generate steps use (keys and labels are always literal). */
export function promptUses(definition: FlowDefinition): PromptUse[] {
  return definition.steps.flatMap((step) =>
    step.type === 'llm.generate'
      ? [{ stepId: step.id, ...step.prompt, variables: Object.keys(step.variables ?? {}) }]
      : [],
  );
}
