import { z } from 'zod';
import type { StepTypeSpec } from '../step-spec';
import { portStep } from '../step-spec';
import { e164, nonEmpty } from './input-schemas';

const SAMPLE_MESSAGE = {
  id: 'SM00000000000000000000000000000000',
  status: 'queued',
  from: '+15550100000',
  to: '+15550100001',
  body: 'Sample text',
  segments: 1,
};

/** Messaging steps: one per MessagingPort method, and the history the SMS templates need. */
export const MESSAGING_STEPS = {
  'messaging.send_sms': portStep({
    summary: 'Send an SMS from one of the account numbers.',
    port: 'messaging',
    method: 'sendSms',
    sideEffecting: true,
    costBearing: true,
    input: z.strictObject({
      from: e164,
      to: e164,
      body: z.string().min(1).max(1600),
      statusCallbackUrl: z.url().optional(),
    }),
    sampleOutput: SAMPLE_MESSAGE,
    call: (messaging, input, options) => messaging.sendSms(input, options),
  }),
  'messaging.get_message': portStep({
    summary: 'Read one message (its delivery status).',
    port: 'messaging',
    method: 'getMessage',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({ messageId: nonEmpty }),
    sampleOutput: { ...SAMPLE_MESSAGE, status: 'delivered' },
    call: (messaging, input, options) => messaging.getMessage(input.messageId, options),
  }),
  'messaging.list_messages': {
    summary: 'The latest messages between two numbers, newest first (an array).',
    execution: 'port',
    port: 'messaging',
    method: 'listMessages',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({
      between: z.tuple([e164, e164]),
      limit: z.int().min(1).max(50).default(10),
    }),
    sampleOutput: [
      { ...SAMPLE_MESSAGE, status: 'received', from: '+15550100001', to: '+15550100000' },
    ],
    portGap:
      'MessagingPort has no listMessages(query: { between: [string, string]; limit?: number }) → Message[]',
  } satisfies StepTypeSpec,
};
