import { ProblemError } from '../../../platform/errors/problem';
import type { PromptsService } from '../../prompts/prompts.service';
import { PermanentStepError } from './step-calls';
import type { PromptRenderer, RenderedPrompt } from './step-services';

/** The PromptRenderer the flow engine renders `llm.generate` prompts with. */
export const PROMPT_RENDERER = Symbol('PROMPT_RENDERER');

const numberOf = (value: unknown) => (typeof value === 'number' ? value : undefined);

/**
 * `llm.generate` through the prompt service: the step's label or version, else the agent's pin
 * (else `production`). A prompt that cannot render (unknown key, variables that fail its schema)
 * fails the step at once — retrying cannot fix it.
 */
export function promptRenderer(prompts: PromptsService): PromptRenderer {
  return {
    async render(tenantId, request): Promise<RenderedPrompt> {
      const pinned = request.label === undefined && request.version === undefined;
      try {
        const result = await prompts.render(tenantId, {
          clientId: request.clientId,
          agentId: pinned && request.clientId ? request.agentId : undefined,
          key: request.key,
          label: request.label,
          version: request.version,
          variables: request.variables,
        });
        return {
          versionId: result.versionId,
          text: result.text,
          messages: result.messages,
          model:
            typeof result.modelSettings.model === 'string' ? result.modelSettings.model : undefined,
          temperature: numberOf(result.modelSettings.temperature),
          maxTokens: numberOf(result.modelSettings.maxTokens),
        };
      } catch (error) {
        if (error instanceof ProblemError) throw new PermanentStepError(error.message);
        throw error;
      }
    },
  };
}
