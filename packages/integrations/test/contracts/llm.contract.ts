import { ProviderError, type LlmPort } from '@maxai/core';
import { describe, expect, it } from 'vitest';

export interface LlmContractSetup {
  llm: LlmPort;
  /** A model the provider serves. */
  model: string;
  /** Makes the provider's next answer this text or JSON (scripted in the simulator). */
  scriptAnswer: (answer: { text: string } | { json: unknown }) => Promise<void>;
}

/**
 * What every LlmPort adapter must do: a completion with the provider's id, text, model and finish
 * reason; token counts and the provider's cost as usage; JSON parsed when a schema was asked for,
 * and an answer that is not JSON reported as `invalid`; a length-limited answer says so.
 */
export function runLlmContract(
  label: string,
  setup: () => LlmContractSetup | Promise<LlmContractSetup>,
): void {
  describe(`LlmPort contract: ${label}`, () => {
    it('completes a chat with tokens and cost as usage', async () => {
      const { llm, model, scriptAnswer } = await setup();
      await scriptAnswer({ text: 'Tuesday at 3 pm works.' });
      const { data, usage } = await llm.complete({
        model,
        messages: [
          { role: 'system', content: 'You book appointments.' },
          { role: 'user', content: 'When are you free?' },
        ],
        temperature: 0.2,
      });
      expect(data.text).toBe('Tuesday at 3 pm works.');
      expect(data.id).toMatch(/\S/);
      expect(data.model).toBe(model);
      expect(data.finishReason).toBe('stop');
      expect(data.json).toBeUndefined();
      expect(data.tokens.promptTokens).toBeGreaterThan(0);
      expect(data.tokens.completionTokens).toBeGreaterThan(0);
      expect(data.tokens.totalTokens).toBe(data.tokens.promptTokens + data.tokens.completionTokens);
      expect(usage).toMatchObject({ operation: 'llm.complete', reference: data.id });
      expect(usage?.units).toEqual([
        { name: 'prompt_tokens', quantity: data.tokens.promptTokens },
        { name: 'completion_tokens', quantity: data.tokens.completionTokens },
      ]);
      expect(usage?.costUsd).toBeGreaterThan(0);
    });

    it('parses JSON when a schema is asked for', async () => {
      const { llm, model, scriptAnswer } = await setup();
      await scriptAnswer({ json: { intent: 'book', slot: '2026-12-01T15:00:00Z' } });
      const { data } = await llm.complete({
        model,
        messages: [{ role: 'user', content: 'Book me Tuesday 3pm' }],
        jsonSchema: {
          name: 'booking',
          schema: {
            type: 'object',
            properties: { intent: { type: 'string' }, slot: { type: 'string' } },
            required: ['intent', 'slot'],
          },
        },
      });
      expect(data.json).toEqual({ intent: 'book', slot: '2026-12-01T15:00:00Z' });
    });

    it('reports an answer that is not the asked-for JSON as invalid', async () => {
      const { llm, model, scriptAnswer } = await setup();
      await scriptAnswer({ text: 'Sure! {"intent": ' });
      const error = await llm
        .complete({
          model,
          messages: [{ role: 'user', content: 'json please' }],
          jsonSchema: { name: 'x', schema: { type: 'object' }, strict: false },
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'invalid', providerCode: 'invalid_json' });
    });

    it('says when the answer was cut at maxTokens', async () => {
      const { llm, model, scriptAnswer } = await setup();
      await scriptAnswer({ text: 'word '.repeat(200) });
      const { data } = await llm.complete({
        model,
        messages: [{ role: 'user', content: 'talk a lot' }],
        maxTokens: 5,
      });
      expect(data.finishReason).toBe('length');
      expect(data.tokens.completionTokens).toBeLessThanOrEqual(5);
    });

    it('refuses an unknown model as invalid', async () => {
      const { llm } = await setup();
      await expect(
        llm.complete({
          model: 'nobody/no-such-model',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ).rejects.toMatchObject({ kind: 'invalid', status: 400 });
    });
  });
}
