import type { ChatMessage } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import { DEFAULT_LABEL } from './dto/prompt-schemas';
import type { PromptResolver, ResolvedPrompt, Selector } from './prompt-resolver';
import { promptNotFound } from './prompt-scope';
import { RenderFailure, renderBody } from './template-engine';
import { variableErrors } from './variables-schema';

/** What to render: a key, for a client (and agent) or the tenant, with its variables. */
export interface RenderInput {
  /** Resolve in this client's overrides first, then the tenant's library. */
  clientId?: string | undefined;
  /** Use this agent's pin for the key (needs clientId; excludes label/version/versionId). */
  agentId?: string | undefined;
  key: string;
  /** Default: the agent's pin with agentId, else `production`. */
  label?: string | undefined;
  version?: number | undefined;
  versionId?: string | undefined;
  variables?: Record<string, unknown> | undefined;
}

/** A rendered prompt and what the LLM call needs, stamped with the version that produced it. */
export interface RenderResult {
  key: string;
  kind: 'text' | 'chat';
  templateId: string;
  versionId: string;
  version: number;
  label: string | null;
  /** Whose template answered: the tenant's library or the client's override. */
  scope: 'tenant' | 'client';
  text?: string;
  messages?: ChatMessage[];
  modelSettings: Readonly<Record<string, unknown>>;
}

/**
 * The hot path: which version (label, number, id or an agent's pin), from the resolver's cache,
 * then the variables checked against its schema and its compiled templates rendered.
 */
export class PromptRenderer {
  constructor(private readonly resolver: PromptResolver) {}

  /**
   * Resolves (cached) and renders a prompt. The variables are validated against the version's
   * schema first (422 prompt-variables-invalid, one error per field) and are the template's
   * only scope. No permission check: for callers inside the platform that checked theirs.
   */
  async render(tenantId: string, input: RenderInput): Promise<RenderResult> {
    const resolved = await this.resolve(tenantId, input);
    const variables = input.variables ?? {};
    const { validate, body } = resolved.compiled;
    if (!validate(variables)) {
      throw new ProblemError('prompt-variables-invalid', 'The variables do not fit the schema.', {
        errors: variableErrors(validate.errors),
      });
    }
    const rendered = renderBody(body, variables);
    if (rendered instanceof RenderFailure) throw renderProblem(rendered);
    return {
      key: resolved.key,
      kind: resolved.kind,
      templateId: resolved.templateId,
      versionId: resolved.versionId,
      version: resolved.version,
      label: resolved.label,
      scope: resolved.clientId === null ? 'tenant' : 'client',
      ...(rendered.kind === 'text' ? { text: rendered.text } : { messages: rendered.messages }),
      modelSettings: resolved.modelSettings,
    };
  }

  async resolve(tenantId: string, input: Omit<RenderInput, 'variables'>): Promise<ResolvedPrompt> {
    const selector = await this.selectorOf(tenantId, input);
    const resolved = await this.resolver.resolve(tenantId, input.clientId, input.key, selector);
    if (!resolved)
      throw promptNotFound(`Nothing to render for ${input.key} (${describe(selector)}).`);
    return resolved;
  }

  private async selectorOf(
    tenantId: string,
    input: Omit<RenderInput, 'variables'>,
  ): Promise<Selector> {
    const given = [input.label, input.version, input.versionId].filter((v) => v !== undefined);
    if (given.length > 1 || (input.agentId !== undefined && given.length > 0)) {
      throw new ProblemError(
        'validation-error',
        'Name one of label, version, versionId or agentId.',
        {
          errors: [
            {
              field: 'body',
              message: 'expected at most one of label, version, versionId, agentId',
            },
          ],
        },
      );
    }
    if (input.versionId !== undefined) return { versionId: input.versionId };
    if (input.version !== undefined) return { version: input.version };
    if (input.label !== undefined) return { label: input.label };
    if (input.agentId === undefined) return { label: DEFAULT_LABEL };
    if (input.clientId === undefined) {
      throw new ProblemError('validation-error', "An agent's prompt is rendered for its client.", {
        errors: [{ field: 'clientId', message: 'required with agentId' }],
      });
    }
    const lookup = await this.resolver.pin(tenantId, input.clientId, input.agentId, input.key);
    if (!lookup.agent) throw new ProblemError('not-found', 'No such agent in this client.');
    return lookup.pin ?? { label: DEFAULT_LABEL };
  }
}

function renderProblem(failure: RenderFailure): ProblemError {
  if (failure.undefinedVariable !== undefined) {
    return new ProblemError('prompt-variables-invalid', 'The template reads a missing variable.', {
      errors: [
        { field: `variables.${failure.undefinedVariable}`, message: 'is required by the template' },
      ],
    });
  }
  return new ProblemError('prompt-render-failed', failure.message);
}

function describe(selector: Selector): string {
  if ('label' in selector) return `label ${selector.label}`;
  if ('version' in selector) return `version ${selector.version}`;
  return `version id ${selector.versionId}`;
}
