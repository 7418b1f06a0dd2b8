import { MESSAGE_QUERY_DEFAULT_LIMIT, MESSAGE_QUERY_MAX_LIMIT } from '@maxai/core';
import { z } from 'zod';
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

/** Messaging steps: one per MessagingPort method. */
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
  'messaging.list_messages': portStep({
    summary:
      'The latest messages with a number (to and from it, optionally only with our number), newest first (an array).',
    port: 'messaging',
    method: 'listMessages',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({
      with: e164,
      ours: e164.optional(),
      limit: z.int().min(1).max(MESSAGE_QUERY_MAX_LIMIT).default(MESSAGE_QUERY_DEFAULT_LIMIT),
    }),
    sampleOutput: [
      { ...SAMPLE_MESSAGE, status: 'received', from: '+15550100001', to: '+15550100000' },
    ],
    call: (messaging, input, options) => messaging.listMessages(input, options),
  }),
};
