import { httpTargets, hostAllowed } from './flow-facts';
import type { FlowDefinition, FlowIssue, PortName } from './flow-types';
import { pointer } from './json-pointer';
import { stepSpec } from './step-catalogue';
import type { Findings } from './structure-checks';

export interface BindingContext {
  /** `save` reports what the tenant lacks as warnings, `activate` as errors. */
  phase: 'save' | 'activate';
  /** The ports the tenant (or client) has bindings for; absent: not checked. */
  boundPorts?: Iterable<PortName> | undefined;
  /** The tenant's allowlisted hosts for http.request (`api.example.com`, `*.example.com`). */
  allowedHosts?: Iterable<string> | undefined;
}

/** What the flow needs from the tenant: port bindings, allowlisted hosts, executable steps. */
export function bindingFindings(definition: FlowDefinition, context: BindingContext): Findings {
  const missing: FlowIssue[] = [];
  const notes: FlowIssue[] = [];
  const bound = context.boundPorts === undefined ? undefined : new Set(context.boundPorts);
  const reported = new Set<PortName>();
  definition.steps.forEach((step, i) => {
    const spec = stepSpec(step.type);
    const at = pointer('/steps', i, 'type');
    if (spec.portGap !== undefined) {
      missing.push({ pointer: at, message: `${step.type} cannot run yet: ${spec.portGap}` });
    }
    if (
      bound !== undefined &&
      spec.port !== null &&
      !bound.has(spec.port) &&
      !reported.has(spec.port)
    ) {
      reported.add(spec.port);
      missing.push({ pointer: at, message: `needs a ${spec.port} binding, which is not set up` });
    }
  });
  if (context.allowedHosts !== undefined) {
    const allowlist = [...context.allowedHosts];
    for (const target of httpTargets(definition)) {
      if (target.host === null) {
        notes.push({
          pointer: target.pointer,
          message: 'the url is computed: its host is checked at each request',
        });
      } else if (!hostAllowed(target.host, allowlist)) {
        missing.push({
          pointer: target.pointer,
          message: `host ${target.host} is not on the allowlist`,
        });
      }
    }
  }
  return context.phase === 'activate'
    ? { errors: missing, warnings: notes }
    : { errors: [], warnings: [...missing, ...notes] };
}
