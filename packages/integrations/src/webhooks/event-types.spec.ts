import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  CALL_OUTCOMES,
  EVENT_TYPES,
  eventMappingMarkdown,
  MAXAI_EVENT_TYPES,
  maxaiTypeFor,
  WEBHOOK_EVENT_MAPPINGS,
} from './event-types';
import { WEBHOOK_PROVIDERS } from './contract';

const ajv = new Ajv({ strict: true, allErrors: true });

describe('EVENT_TYPES', () => {
  it('defines every maxai type with a description and a draft-07 schema ajv compiles strictly', () => {
    expect(Object.keys(EVENT_TYPES).sort()).toEqual([...MAXAI_EVENT_TYPES].sort());
    for (const type of MAXAI_EVENT_TYPES) {
      const { description, schema } = EVENT_TYPES[type];
      expect(description.length, type).toBeGreaterThan(10);
      expect(schema).toMatchObject({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        additionalProperties: true,
      });
      expect(() => ajv.compile(schema), type).not.toThrow();
    }
  });

  it('holds the field names the flow engine relies on', () => {
    const fields = (type: keyof typeof EVENT_TYPES) => ({
      required: EVENT_TYPES[type].schema.required,
      properties: Object.keys(EVENT_TYPES[type].schema.properties as object),
    });
    expect(fields('maxai.voice.call.ended').required).toEqual([
      'provider',
      'callId',
      'direction',
      'from',
      'to',
      'outcome',
    ]);
    expect(fields('maxai.voice.call.ended').properties).toEqual(
      expect.arrayContaining([
        'agentExternalId',
        'startedAt',
        'endedAt',
        'durationSeconds',
        'disconnectionReason',
        'transcript',
      ]),
    );
    expect(fields('maxai.voice.call.analyzed').properties).toEqual(
      expect.arrayContaining(['summary', 'sentiment', 'successful', 'inVoicemail', 'custom']),
    );
    expect(fields('maxai.messaging.sms.received').required).toEqual([
      'provider',
      'messageId',
      'from',
      'to',
      'body',
      'segments',
      'media',
    ]);
    expect(fields('maxai.messaging.message.received').properties).toEqual(
      expect.arrayContaining(['conversationId', 'contactId', 'channel', 'from', 'to']),
    );
    expect(fields('maxai.crm.contact.updated').properties).toEqual(
      expect.arrayContaining(['firstName', 'lastName', 'email', 'phone', 'tags']),
    );
    expect(fields('maxai.calendar.appointment.created').properties).toEqual(
      expect.arrayContaining(['contactId', 'title', 'status', 'startTime', 'endTime']),
    );
    expect(fields('maxai.calendar.changed').properties).toEqual(
      expect.arrayContaining(['resourceUri', 'expiration']),
    );
    expect(fields('maxai.payments.invoice.paid').properties).toEqual(
      expect.arrayContaining([
        'customerId',
        'subscriptionId',
        'invoiceId',
        'amountMinor',
        'currency',
        'status',
        'livemode',
      ]),
    );
    expect(fields('maxai.workflow.callback.received').properties).toEqual([
      'provider',
      'correlationId',
      'executionId',
      'status',
      'output',
      'error',
    ]);
    expect(CALL_OUTCOMES).toEqual(['completed', 'unanswered', 'voicemail', 'busy', 'failed']);
  });

  it('rejects data that breaks the contract', () => {
    const valid = (type: keyof typeof EVENT_TYPES, data: unknown) =>
      ajv.validate(EVENT_TYPES[type].schema, data);
    const ended = {
      provider: 'retell',
      callId: 'c',
      direction: 'outbound',
      from: '+1',
      to: '+2',
      outcome: 'voicemail',
      endedAt: '2026-12-01T15:00:00.000Z',
    };
    expect(valid('maxai.voice.call.ended', ended)).toBe(true);
    expect(valid('maxai.voice.call.ended', { ...ended, outcome: 'hung_up' })).toBe(false);
    expect(
      valid('maxai.voice.call.ended', { ...ended, endedAt: '2026-12-01T16:00:00+01:00' }),
    ).toBe(false);
    const { outcome: _outcome, ...withoutOutcome } = ended;
    expect(valid('maxai.voice.call.ended', withoutOutcome)).toBe(false);
    const payment = { provider: 'stripe', objectId: 'in_1', livemode: false, currency: 'USD' };
    expect(valid('maxai.payments.invoice.paid', payment)).toBe(true);
    expect(valid('maxai.payments.invoice.paid', { ...payment, currency: 'usd' })).toBe(false);
    expect(valid('maxai.payments.invoice.paid', { ...payment, amountMinor: 12.5 })).toBe(false);
    expect(valid('maxai.payments.invoice.paid', { ...payment, provider: 'paypal' })).toBe(false);
  });
});

describe('WEBHOOK_EVENT_MAPPINGS', () => {
  it('maps only to published types, once per provider event, and covers every type', () => {
    const keys = WEBHOOK_EVENT_MAPPINGS.map((m) => `${m.provider}/${m.providerEventType}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const mapping of WEBHOOK_EVENT_MAPPINGS) {
      expect(WEBHOOK_PROVIDERS).toContain(mapping.provider);
      if (mapping.maxaiType !== null) expect(MAXAI_EVENT_TYPES).toContain(mapping.maxaiType);
      expect(mapping.dedupeKey).not.toBe('');
    }
    const mapped = new Set(WEBHOOK_EVENT_MAPPINGS.map((m) => m.maxaiType));
    for (const type of MAXAI_EVENT_TYPES) expect(mapped.has(type), type).toBe(true);
    for (const provider of WEBHOOK_PROVIDERS) {
      expect(
        WEBHOOK_EVENT_MAPPINGS.some((m) => m.provider === provider),
        provider,
      ).toBe(true);
    }
  });

  it('answers a type, null (known, nothing of ours) or undefined (unknown)', () => {
    expect(maxaiTypeFor('stripe', 'invoice.paid')).toBe('maxai.payments.invoice.paid');
    expect(maxaiTypeFor('google', 'sync')).toBeNull();
    expect(maxaiTypeFor('stripe', 'charge.refunded')).toBeUndefined();
    expect(maxaiTypeFor('retell', 'invoice.paid')).toBeUndefined();
  });

  it('renders as a Markdown table, one row per mapping', () => {
    const markdown = eventMappingMarkdown();
    const lines = markdown.trimEnd().split('\n');
    expect(lines[0]).toBe(
      '| Provider | Provider event | MaxAI event | Dedupe key (`providerEventId`) |',
    );
    expect(lines[1]).toBe('| --- | --- | --- | --- |');
    expect(lines).toHaveLength(WEBHOOK_EVENT_MAPPINGS.length + 2);
    for (const line of lines) expect(line.split(' | ')).toHaveLength(4);
    expect(markdown).toContain(
      '| stripe | `invoice.paid` | `maxai.payments.invoice.paid` | event `id` (`evt_…`) |',
    );
    expect(markdown).toContain(
      '| google | `sync` (first message of a new channel: confirms it, nothing changed) | — (acknowledged only) |',
    );
    expect(markdown.endsWith('\n')).toBe(true);
  });
});
