import { ProviderError, type VoicePort } from '@maxai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface VoiceContractSetup {
  adapter: VoicePort;
  /** A number the workspace may call from. */
  fromNumber: string;
  /** Plays a call out at the provider (sandbox scenario): answered then hung up, or no answer. */
  finishCall(callId: string, outcome: 'answered' | 'no_answer'): Promise<void>;
  teardown?(): Promise<void>;
}

/** What every `VoicePort` adapter does, whoever the provider. */
export function runVoiceContract(label: string, setup: () => Promise<VoiceContractSetup>): void {
  describe(`VoicePort contract: ${label}`, () => {
    let s: VoiceContractSetup;
    const toNumber = '+14155550199';

    beforeAll(async () => {
      s = await setup();
    });
    afterAll(async () => {
      await s.teardown?.();
    });

    const agent = () =>
      s.adapter.createAgent({
        name: 'Front desk',
        prompt: 'You book appointments for {{customer_name}}.',
        voiceId: '11labs-Adrian',
        webhookUrl: 'https://platform.example/webhooks/retell',
        beginMessage: 'Hello!',
      });

    it('creates an agent', async () => {
      const { data } = await agent();
      expect(data.id).not.toBe('');
      expect(data).toMatchObject({
        name: 'Front desk',
        voiceId: '11labs-Adrian',
        webhookUrl: 'https://platform.example/webhooks/retell',
      });
    });

    it('updates an agent: prompt, name and voice', async () => {
      const { data: created } = await agent();
      const renamed = await s.adapter.updateAgent(created.id, {
        name: 'Reception',
        prompt: 'New prompt',
      });
      expect(renamed.data).toMatchObject({
        id: created.id,
        name: 'Reception',
        voiceId: '11labs-Adrian',
      });
      const revoiced = await s.adapter.updateAgent(created.id, { voiceId: '11labs-Emily' });
      expect(revoiced.data).toMatchObject({ name: 'Reception', voiceId: '11labs-Emily' });
      const promptOnly = await s.adapter.updateAgent(created.id, { beginMessage: 'Hi again' });
      expect(promptOnly.data.id).toBe(created.id);
    });

    it('starts a call, then reports it ended with transcript, analysis and usage', async () => {
      const { data: created } = await agent();
      const { data: call, usage } = await s.adapter.startCall({
        agentId: created.id,
        fromNumber: s.fromNumber,
        toNumber,
        metadata: { leadId: 'lead_1' },
        dynamicVariables: { customer_name: 'Ada' },
      });
      expect(usage).toBeUndefined();
      expect(call).toMatchObject({
        agentId: created.id,
        status: 'registered',
        direction: 'outbound',
        fromNumber: s.fromNumber,
        toNumber,
      });
      const pending = await s.adapter.getCall(call.id);
      expect(pending.usage).toBeUndefined();

      await s.finishCall(call.id, 'answered');
      const ended = await s.adapter.getCall(call.id);
      expect(ended.data).toMatchObject({ id: call.id, status: 'ended' });
      expect(ended.data.durationMs).toBeGreaterThan(0);
      expect(ended.data.startedAt).toEqual(expect.any(String));
      expect(ended.data.endedAt).toEqual(expect.any(String));
      expect(ended.data.transcript).not.toBe('');
      expect(ended.data.recordingUrl).toEqual(expect.any(String));
      expect(ended.data.disconnectionReason).toEqual(expect.any(String));
      expect(ended.data.analysis?.summary).toEqual(expect.any(String));
      expect(ended.usage).toMatchObject({ operation: 'voice.call', reference: call.id });
      expect(ended.usage?.units[0]).toMatchObject({ name: 'call_seconds' });
      expect(ended.usage?.units[0]?.quantity).toBeGreaterThan(0);
      expect(ended.usage?.costUsd).toBeGreaterThan(0);
    });

    it('reports an unanswered call as not connected', async () => {
      const { data: created } = await agent();
      const { data: call } = await s.adapter.startCall({
        agentId: created.id,
        fromNumber: s.fromNumber,
        toNumber,
      });
      await s.finishCall(call.id, 'no_answer');
      const { data } = await s.adapter.getCall(call.id);
      expect(data).toMatchObject({
        status: 'not_connected',
        disconnectionReason: 'dial_no_answer',
      });
    });

    it('answers not_found for unknown agents and calls', async () => {
      const unknownCall = await s.adapter.getCall('call_does_not_exist').catch((e: unknown) => e);
      expect(unknownCall).toBeInstanceOf(ProviderError);
      expect(unknownCall).toMatchObject({ kind: 'not_found' });
      const unknownAgent = await s.adapter
        .updateAgent('agent_does_not_exist', { name: 'x' })
        .catch((e: unknown) => e);
      expect(unknownAgent).toMatchObject({ kind: 'not_found' });
      const callUnknownAgent = await s.adapter
        .startCall({ agentId: 'agent_does_not_exist', fromNumber: s.fromNumber, toNumber })
        .catch((e: unknown) => e);
      expect(callUnknownAgent).toMatchObject({ kind: 'not_found' });
    });
  });
}
