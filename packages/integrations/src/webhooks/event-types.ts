import type { WebhookProviderName } from './contract';

/**
 * The normalized events we publish (CloudEvents `type`) and the JSON Schema of each one's
 * `data`. The field names are a contract with the flow engine: add optional fields freely,
 * never rename or remove one.
 *
 * Schemas are JSON Schema draft-07, what ajv 8's default `Ajv` class compiles in strict mode
 * without plugins: times are checked with a pattern (ISO 8601 UTC, as every normalizer writes
 * them) instead of `format`, which would need ajv-formats.
 */

export const MAXAI_EVENT_TYPES = [
  'maxai.voice.call.started',
  'maxai.voice.call.ended',
  'maxai.voice.call.analyzed',
  'maxai.messaging.sms.received',
  'maxai.messaging.sms.status_changed',
  'maxai.messaging.message.received',
  'maxai.crm.contact.created',
  'maxai.crm.contact.updated',
  'maxai.crm.contact.deleted',
  'maxai.calendar.appointment.created',
  'maxai.calendar.appointment.updated',
  'maxai.calendar.appointment.deleted',
  'maxai.calendar.changed',
  'maxai.payments.invoice.paid',
  'maxai.payments.invoice.payment_failed',
  'maxai.payments.payment.succeeded',
  'maxai.payments.payment.failed',
  'maxai.payments.checkout.completed',
  'maxai.payments.subscription.created',
  'maxai.payments.subscription.updated',
  'maxai.payments.subscription.deleted',
  'maxai.payments.subscription.trial_will_end',
  'maxai.workflow.callback.received',
] as const;
export type MaxaiEventType = (typeof MAXAI_EVENT_TYPES)[number];

/** A JSON Schema document (draft-07). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface EventTypeDefinition {
  description: string;
  /** JSON Schema (draft-07) of the event's `data`. */
  schema: JsonSchema;
}

/** What a call ended as, whatever the provider's own vocabulary. */
export const CALL_OUTCOMES = ['completed', 'unanswered', 'voicemail', 'busy', 'failed'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

const ISO_UTC = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';
const id = { type: 'string', minLength: 1 };
const str = { type: 'string' };
const time = { type: 'string', pattern: ISO_UTC };
const bool = { type: 'boolean' };
const stringList = { type: 'array', items: str };

function dataSchema(
  title: string,
  required: string[],
  properties: Record<string, JsonSchema>,
): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `${title} data`,
    type: 'object',
    required,
    properties,
    additionalProperties: true,
  };
}

const callParties = {
  provider: id,
  callId: id,
  agentExternalId: str,
  // A web call has no phone numbers: from and to are then empty.
  from: str,
  to: str,
  direction: { type: 'string', enum: ['inbound', 'outbound'] },
};

const callLifecycle = {
  ...callParties,
  callType: str,
  startedAt: time,
  endedAt: time,
  durationSeconds: { type: 'number', minimum: 0 },
  disconnectionReason: str,
  transcript: str,
  metadata: { type: 'object' },
};

const contact = (title: string): JsonSchema =>
  dataSchema(title, ['provider', 'contactId', 'locationId'], {
    provider: id,
    contactId: id,
    locationId: id,
    firstName: str,
    lastName: str,
    email: str,
    phone: str,
    tags: stringList,
  });

const appointment = (title: string): JsonSchema =>
  dataSchema(title, ['provider', 'appointmentId', 'calendarId', 'locationId'], {
    provider: id,
    appointmentId: id,
    calendarId: id,
    contactId: str,
    title: str,
    status: str,
    startTime: time,
    endTime: time,
    locationId: id,
  });

/** One shape for every payments event; which ids are present depends on the Stripe object. */
const payment = (title: string): JsonSchema =>
  dataSchema(title, ['provider', 'objectId', 'livemode'], {
    provider: { const: 'stripe' },
    objectId: id,
    customerId: str,
    subscriptionId: str,
    invoiceId: str,
    paymentIntentId: str,
    amountMinor: { type: 'integer' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    status: str,
    livemode: bool,
    failureCode: str,
    declineCode: str,
    mode: str,
    paymentStatus: str,
    clientReferenceId: str,
    cancelAtPeriodEnd: bool,
    currentPeriodEnd: time,
    trialEnd: time,
    priceIds: stringList,
    metadata: { type: 'object', additionalProperties: str },
  });

export const EVENT_TYPES: Readonly<Record<MaxaiEventType, EventTypeDefinition>> = {
  'maxai.voice.call.started': {
    description: 'A voice call was connected (an AI agent is talking with the caller).',
    schema: dataSchema(
      'maxai.voice.call.started',
      ['provider', 'callId', 'direction', 'from', 'to'],
      callLifecycle,
    ),
  },
  'maxai.voice.call.ended': {
    description:
      'A voice call ended, connected or not; `outcome` says how (completed, unanswered, voicemail, busy, failed).',
    schema: dataSchema(
      'maxai.voice.call.ended',
      ['provider', 'callId', 'direction', 'from', 'to', 'outcome'],
      {
        ...callLifecycle,
        outcome: { type: 'string', enum: [...CALL_OUTCOMES] },
        // A call forwarded elsewhere (Twilio `<Dial>`): the forwarded leg's id.
        forwardedCallId: id,
      },
    ),
  },
  'maxai.voice.call.analyzed': {
    description:
      "The provider's post-call analysis is ready: summary, sentiment, success and the agent's custom extraction.",
    schema: dataSchema(
      'maxai.voice.call.analyzed',
      ['provider', 'callId', 'from', 'to', 'custom'],
      {
        ...callParties,
        summary: str,
        sentiment: str,
        successful: bool,
        inVoicemail: bool,
        custom: { type: 'object' },
      },
    ),
  },
  'maxai.messaging.sms.received': {
    description: 'An SMS/MMS arrived at one of our numbers.',
    schema: dataSchema(
      'maxai.messaging.sms.received',
      ['provider', 'messageId', 'from', 'to', 'body', 'segments', 'media'],
      {
        provider: id,
        messageId: id,
        from: str,
        to: str,
        body: str,
        segments: { type: 'integer', minimum: 0 },
        media: {
          type: 'array',
          items: {
            type: 'object',
            required: ['url', 'contentType'],
            properties: { url: id, contentType: str },
          },
        },
        accountId: str,
        messagingServiceId: str,
      },
    ),
  },
  'maxai.messaging.sms.status_changed': {
    description:
      'An SMS we sent changed delivery status (queued, sent, delivered, undelivered, failed…).',
    schema: dataSchema('maxai.messaging.sms.status_changed', ['provider', 'messageId', 'status'], {
      provider: id,
      messageId: id,
      status: id,
      errorCode: str,
      from: str,
      to: str,
    }),
  },
  'maxai.messaging.message.received': {
    description: 'A message arrived in a CRM conversation (SMS, email, chat… as `channel`).',
    schema: dataSchema(
      'maxai.messaging.message.received',
      ['provider', 'messageId', 'channel', 'body', 'locationId'],
      {
        provider: id,
        messageId: id,
        conversationId: str,
        contactId: str,
        channel: id,
        body: str,
        from: str,
        to: str,
        locationId: id,
        sentAt: time,
      },
    ),
  },
  'maxai.crm.contact.created': {
    description: 'A contact was created in the CRM.',
    schema: contact('maxai.crm.contact.created'),
  },
  'maxai.crm.contact.updated': {
    description: 'A CRM contact changed (fields, tags or do-not-disturb).',
    schema: contact('maxai.crm.contact.updated'),
  },
  'maxai.crm.contact.deleted': {
    description: 'A CRM contact was deleted.',
    schema: contact('maxai.crm.contact.deleted'),
  },
  'maxai.calendar.appointment.created': {
    description: 'An appointment was booked in the CRM calendar.',
    schema: appointment('maxai.calendar.appointment.created'),
  },
  'maxai.calendar.appointment.updated': {
    description: 'A CRM appointment changed (time, status…).',
    schema: appointment('maxai.calendar.appointment.updated'),
  },
  'maxai.calendar.appointment.deleted': {
    description: 'A CRM appointment was deleted.',
    schema: appointment('maxai.calendar.appointment.deleted'),
  },
  'maxai.calendar.changed': {
    description:
      'A watched calendar changed; the notification names the resource only, so a consumer syncs to learn what changed.',
    schema: dataSchema(
      'maxai.calendar.changed',
      ['provider', 'channelId', 'resourceId', 'resourceState', 'messageNumber'],
      {
        provider: id,
        channelId: id,
        resourceId: id,
        resourceUri: str,
        resourceState: id,
        messageNumber: { type: 'integer', minimum: 0 },
        expiration: time,
      },
    ),
  },
  'maxai.payments.invoice.paid': {
    description: 'An invoice was paid.',
    schema: payment('maxai.payments.invoice.paid'),
  },
  'maxai.payments.invoice.payment_failed': {
    description: 'Paying an invoice failed (the subscription may go past due).',
    schema: payment('maxai.payments.invoice.payment_failed'),
  },
  'maxai.payments.payment.succeeded': {
    description: 'A payment succeeded.',
    schema: payment('maxai.payments.payment.succeeded'),
  },
  'maxai.payments.payment.failed': {
    description: 'A payment attempt failed (decline codes, never card details).',
    schema: payment('maxai.payments.payment.failed'),
  },
  'maxai.payments.checkout.completed': {
    description: 'A hosted checkout was completed by the payer.',
    schema: payment('maxai.payments.checkout.completed'),
  },
  'maxai.payments.subscription.created': {
    description: 'A subscription was created.',
    schema: payment('maxai.payments.subscription.created'),
  },
  'maxai.payments.subscription.updated': {
    description: 'A subscription changed (status, plan, cancellation…).',
    schema: payment('maxai.payments.subscription.updated'),
  },
  'maxai.payments.subscription.deleted': {
    description: 'A subscription ended.',
    schema: payment('maxai.payments.subscription.deleted'),
  },
  'maxai.payments.subscription.trial_will_end': {
    description: "A subscription's trial ends in three days.",
    schema: payment('maxai.payments.subscription.trial_will_end'),
  },
  'maxai.workflow.callback.received': {
    description: 'A delegated n8n workflow reported its result.',
    schema: dataSchema(
      'maxai.workflow.callback.received',
      ['provider', 'correlationId', 'status'],
      {
        provider: { const: 'n8n' },
        correlationId: id,
        executionId: id,
        status: id,
        output: {},
        error: {},
      },
    ),
  },
};

export interface WebhookEventMapping {
  provider: WebhookProviderName;
  /** The provider's event type as the normalizer reports it (`providerEventType`). */
  providerEventType: string;
  /** `null`: acknowledged and stored, but nothing of ours happened. */
  maxaiType: MaxaiEventType | null;
  /** How `providerEventId` (the dedupe key) is built. */
  dedupeKey: string;
  note?: string;
}

const STRIPE_ID = 'event `id` (`evt_…`)';
const RETELL_ID = '`${call.call_id}:${event}`';
const GHL_ID = '`webhookId`';

/**
 * Every provider event the normalizers know. The normalizers read their maxai type from here
 * (`maxaiTypeFor`), so this table — and the Markdown made from it — cannot drift from what
 * they do.
 */
export const WEBHOOK_EVENT_MAPPINGS: readonly WebhookEventMapping[] = [
  ...(
    [
      ['invoice.paid', 'maxai.payments.invoice.paid'],
      ['invoice.payment_failed', 'maxai.payments.invoice.payment_failed'],
      ['payment_intent.succeeded', 'maxai.payments.payment.succeeded'],
      ['payment_intent.payment_failed', 'maxai.payments.payment.failed'],
      ['checkout.session.completed', 'maxai.payments.checkout.completed'],
      ['customer.subscription.created', 'maxai.payments.subscription.created'],
      ['customer.subscription.updated', 'maxai.payments.subscription.updated'],
      ['customer.subscription.deleted', 'maxai.payments.subscription.deleted'],
      ['customer.subscription.trial_will_end', 'maxai.payments.subscription.trial_will_end'],
    ] as const
  ).map(([providerEventType, maxaiType]) => ({
    provider: 'stripe' as const,
    providerEventType,
    maxaiType,
    dedupeKey: STRIPE_ID,
  })),
  {
    provider: 'twilio',
    providerEventType: 'message.received',
    maxaiType: 'maxai.messaging.sms.received',
    dedupeKey: "`${MessageSid}:${MessageStatus ?? SmsStatus ?? 'received'}`",
    note: 'incoming message webhook',
  },
  {
    provider: 'twilio',
    providerEventType: 'message.status',
    maxaiType: 'maxai.messaging.sms.status_changed',
    dedupeKey: '`${MessageSid}:${MessageStatus ?? SmsStatus}`',
    note: 'message status callback',
  },
  {
    provider: 'twilio',
    providerEventType: 'call.status',
    maxaiType: 'maxai.voice.call.ended',
    dedupeKey: '`${CallSid}:${CallStatus}`',
    note: 'voice status callback; only final statuses (completed, busy, no-answer, failed, canceled) emit',
  },
  {
    provider: 'twilio',
    providerEventType: 'call.dial',
    maxaiType: 'maxai.voice.call.ended',
    dedupeKey: '`${CallSid}:dial:${DialCallSid ?? DialCallStatus}`',
    note: '`<Dial>` action request of a forwarded call; outcome from `DialCallStatus`',
  },
  ...(
    [
      ['call_started', 'maxai.voice.call.started'],
      ['call_ended', 'maxai.voice.call.ended'],
      ['call_analyzed', 'maxai.voice.call.analyzed'],
    ] as const
  ).map(([providerEventType, maxaiType]) => ({
    provider: 'retell' as const,
    providerEventType,
    maxaiType,
    dedupeKey: RETELL_ID,
  })),
  ...(
    [
      ['ContactCreate', 'maxai.crm.contact.created'],
      ['ContactUpdate', 'maxai.crm.contact.updated'],
      ['ContactTagUpdate', 'maxai.crm.contact.updated'],
      ['ContactDndUpdate', 'maxai.crm.contact.updated'],
      ['ContactDelete', 'maxai.crm.contact.deleted'],
      ['InboundMessage', 'maxai.messaging.message.received'],
      ['AppointmentCreate', 'maxai.calendar.appointment.created'],
      ['AppointmentUpdate', 'maxai.calendar.appointment.updated'],
      ['AppointmentDelete', 'maxai.calendar.appointment.deleted'],
      ['OutboundMessage', null],
      ['AppInstall', null],
      ['AppUninstall', null],
    ] as const
  ).map(([providerEventType, maxaiType]) => ({
    provider: 'gohighlevel' as const,
    providerEventType,
    maxaiType,
    dedupeKey: GHL_ID,
  })),
  {
    provider: 'google',
    providerEventType: 'exists',
    maxaiType: 'maxai.calendar.changed',
    dedupeKey: '`${X-Goog-Channel-ID}:${X-Goog-Message-Number}`',
  },
  {
    provider: 'google',
    providerEventType: 'not_exists',
    maxaiType: 'maxai.calendar.changed',
    dedupeKey: '`${X-Goog-Channel-ID}:${X-Goog-Message-Number}`',
  },
  {
    provider: 'google',
    providerEventType: 'sync',
    maxaiType: null,
    dedupeKey: '`${X-Goog-Channel-ID}:${X-Goog-Message-Number}`',
    note: 'first message of a new channel: confirms it, nothing changed',
  },
  {
    provider: 'n8n',
    providerEventType: 'callback',
    maxaiType: 'maxai.workflow.callback.received',
    dedupeKey: '`${correlationId}:${status}`',
  },
];

/**
 * The maxai type a provider event maps to: a type, `null` (known, maps to nothing) or
 * `undefined` (unknown to us).
 */
export function maxaiTypeFor(
  provider: WebhookProviderName,
  providerEventType: string,
): MaxaiEventType | null | undefined {
  const row = WEBHOOK_EVENT_MAPPINGS.find(
    (mapping) => mapping.provider === provider && mapping.providerEventType === providerEventType,
  );
  return row?.maxaiType;
}

/** The mapping table as Markdown, for the README (a test keeps the published copy current). */
export function eventMappingMarkdown(): string {
  const lines = [
    '| Provider | Provider event | MaxAI event | Dedupe key (`providerEventId`) |',
    '| --- | --- | --- | --- |',
  ];
  for (const row of WEBHOOK_EVENT_MAPPINGS) {
    const target = row.maxaiType === null ? '— (acknowledged only)' : `\`${row.maxaiType}\``;
    const note = row.note === undefined ? '' : ` (${row.note})`;
    lines.push(
      `| ${row.provider} | \`${row.providerEventType}\`${note} | ${target} | ${row.dedupeKey} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
