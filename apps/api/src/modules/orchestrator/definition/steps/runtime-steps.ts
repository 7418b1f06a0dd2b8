import { z } from 'zod';
import type { StepTypeSpec } from '../step-spec';

/** Prompt keys and labels are literal so that a flow's prompts are known before it runs. */
export const PROMPT_KEY_PATTERN = '^[a-z0-9][a-z0-9._/-]{0,127}$';

/**
 * Steps the runtime executes with its own services: prompt resolution and rendering before the
 * LLM call, the tenant's host allowlist before any HTTP request, n8n callbacks.
 */
export const RUNTIME_STEPS = {
  'llm.generate': {
    summary:
      'Render a stored prompt (key + label, or a pinned version) with variables and complete it; the resolved prompt version is recorded in the output.',
    execution: 'runtime',
    port: 'llm',
    method: 'complete',
    sideEffecting: false,
    costBearing: true,
    input: z.strictObject({
      prompt: z.strictObject({
        key: z.string().regex(new RegExp(PROMPT_KEY_PATTERN)),
        label: z.string().min(1).optional(),
        version: z.int().min(1).optional(),
      }),
      variables: z.record(z.string(), z.unknown()).default({}),
      model: z
        .strictObject({
          id: z.string().min(1).optional(),
          temperature: z.number().min(0).max(2).optional(),
          maxTokens: z.int().min(1).max(32_000).optional(),
        })
        .optional(),
    }),
    sampleOutput: {
      text: 'Sample generated text.',
      model: 'openai/gpt-4o-mini',
      prompt: { key: 'sample', label: 'production', version: 1 },
      finishReason: 'stop',
      tokens: { promptTokens: 120, completionTokens: 30, totalTokens: 150 },
    },
  },
  'http.request': {
    summary: 'Call an HTTP(S) endpoint on a host the tenant allowlisted.',
    execution: 'runtime',
    port: null,
    method: null,
    sideEffecting: true,
    costBearing: false,
    input: z.strictObject({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
      url: z.url({ protocol: /^https?$/ }),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
    sampleOutput: { status: 200, headers: { 'content-type': 'application/json' }, body: {} },
  },
  'n8n.delegate': {
    summary:
      'Run an n8n workflow through the WorkflowDelegate port: `sync` takes its answer, `callback` waits for its signed callback.',
    execution: 'runtime',
    port: 'workflow',
    method: 'trigger',
    sideEffecting: true,
    costBearing: false,
    input: z.strictObject({
      workflow: z.string().min(1),
      mode: z.enum(['sync', 'callback']),
      payload: z.record(z.string(), z.unknown()).default({}),
    }),
    sampleOutput: { status: 'succeeded', executionId: 'execution_sample', output: {} },
  },
} satisfies Record<string, StepTypeSpec>;
