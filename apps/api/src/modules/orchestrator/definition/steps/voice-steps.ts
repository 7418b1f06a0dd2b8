import { z } from 'zod';
import { portStep } from '../step-spec';
import { e164, nonEmpty } from './input-schemas';

const SAMPLE_CALL = {
  id: 'call_sample',
  agentId: 'agent_sample',
  status: 'registered',
  direction: 'outbound',
  fromNumber: '+15550100000',
  toNumber: '+15550100001',
};

/** Voice steps: the VoicePort methods a flow uses (agents are configured elsewhere). */
export const VOICE_STEPS = {
  'voice.start_call': portStep({
    summary: 'Have an AI voice agent call a number.',
    port: 'voice',
    method: 'startCall',
    sideEffecting: true,
    costBearing: true,
    input: z.strictObject({
      agentId: nonEmpty,
      fromNumber: e164,
      toNumber: e164,
      metadata: z.record(z.string(), z.string()).optional(),
      dynamicVariables: z.record(z.string(), z.string()).optional(),
    }),
    sampleOutput: SAMPLE_CALL,
    call: (voice, input, options) => voice.startCall(input, options),
  }),
  'voice.get_call': portStep({
    summary: 'Read one call (status, transcript, analysis).',
    port: 'voice',
    method: 'getCall',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({ callId: nonEmpty }),
    sampleOutput: { ...SAMPLE_CALL, status: 'ended', transcript: 'Agent: Hello…' },
    call: (voice, input, options) => voice.getCall(input.callId, options),
  }),
};
