import Ajv from 'ajv';
import { NAME_PATTERN } from '../definition/flow-schema';
import { promptUses, type PromptUse } from '../definition/flow-facts';
import type { FlowDefinition, FlowIssue, PortName } from '../definition/flow-types';
import { parseFlowDocument } from '../definition/parse-flow-document';
import { present } from '../definition/present';
import { schemaIssues } from '../definition/schema-errors';
import { isTimeZone } from '../definition/steps/next-free-slot';
import { requiredPorts } from '../definition/step-catalogue';
import { validateFlow } from '../definition/validate-flow';
import { TEMPLATE_PARAMETERS } from './template-parameters';
import { TEMPLATE_SOURCES, type TemplateId } from './template-sources.generated';

/**
 * The bundled flow templates. Each is a YAML flow definition, a .yaml file beside this one; the
 * build (tsc) copies no assets, so their text is embedded in template-sources.generated.ts, which
 * templates.spec.ts keeps equal to the files. Install-time parameters are initial `vars`.
 */

export interface TemplateParameter {
  name: string;
  description: string;
  /** Required parameters have no default. */
  required: boolean;
  default?: unknown;
  schema: object;
}

export interface FlowTemplate {
  id: TemplateId;
  title: string;
  description: string;
  /** The YAML as bundled. */
  source: string;
  definition: FlowDefinition;
  parameters: TemplateParameter[];
  prompts: PromptUse[];
  ports: PortName[];
  events: string[];
}

/** A template from its YAML; a bundled template that does not validate is a build error. */
export function parseTemplate(id: TemplateId, source: string): FlowTemplate {
  const parsed = parseFlowDocument(source, 'yaml');
  if (!parsed.ok) throw new Error(`template ${id} is not YAML: ${JSON.stringify(parsed.errors)}`);
  const validation = validateFlow(parsed.value);
  if (!validation.ok) {
    throw new Error(`template ${id} is invalid: ${JSON.stringify(validation.errors)}`);
  }
  const { definition } = validation;
  const vars = definition.vars ?? {};
  const parameters = Object.entries(TEMPLATE_PARAMETERS[id]).map(
    ([name, { description, schema }]) => {
      const value = vars[name] ?? null;
      return value === null
        ? { name, description, required: true, schema }
        : { name, description, required: false, default: value, schema };
    },
  );
  return {
    id,
    title: definition.name,
    description: present(definition.description, `${id} description`),
    source,
    definition,
    parameters,
    prompts: promptUses(definition),
    ports: [...requiredPorts(definition)].sort(),
    events: definition.trigger.events,
  };
}

let loaded: Map<TemplateId, FlowTemplate> | undefined;

/** The bundled templates, parsed and validated once. */
export function flowTemplates(): FlowTemplate[] {
  loaded ??= new Map(
    (Object.entries(TEMPLATE_SOURCES) as [TemplateId, string][]).map(([id, source]) => [
      id,
      parseTemplate(id, source),
    ]),
  );
  return [...loaded.values()];
}

export function flowTemplate(id: string): FlowTemplate | undefined {
  return flowTemplates().find((t) => t.id === id);
}

const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addFormat('time-zone', isTimeZone);

/** JSON Schema of a template's parameters (for the install form, and checked on install). */
export function parametersSchema(template: FlowTemplate): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: template.parameters.filter((p) => p.required).map((p) => p.name),
    propertyNames: { pattern: NAME_PATTERN },
    properties: Object.fromEntries(template.parameters.map((p) => [p.name, p.schema])),
  };
}

/**
 * The flow definition a client installs: the template with its parameters as initial vars,
 * validated again (so a bad time zone or number shows where it is: `/vars/fromNumber`).
 */
export function instantiateTemplate(
  template: FlowTemplate,
  parameters: Record<string, unknown>,
): { ok: true; definition: FlowDefinition } | { ok: false; errors: FlowIssue[] } {
  const validate = ajv.compile(parametersSchema(template));
  if (!validate(parameters)) {
    return { ok: false, errors: schemaIssues(present(validate.errors, 'errors'), '/vars') };
  }
  const definition = {
    ...template.definition,
    vars: { ...template.definition.vars, ...parameters },
  };
  const validation = validateFlow(definition);
  return validation.ok ? { ok: true, definition: validation.definition } : validation;
}
