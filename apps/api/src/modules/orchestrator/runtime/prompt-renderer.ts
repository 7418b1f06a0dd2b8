import { PermanentStepError } from './step-calls';
import type { PromptRenderer } from './step-services';

/** The PromptRenderer the flow engine renders `llm.generate` prompts with. */
export const PROMPT_RENDERER = Symbol('PROMPT_RENDERER');

/** Until the prompt service is wired: every render fails the step. */
export const unavailablePrompts: PromptRenderer = {
  render: () => Promise.reject(new PermanentStepError('the prompt service is not available')),
};
