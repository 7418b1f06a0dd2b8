import { createHash } from 'node:crypto';
import type {
  InboundWebhook,
  NormalizationResult,
  NormalizedEvent,
  WebhookProvider,
} from '../webhooks/contract';
import { maxaiTypeFor, type MaxaiEventType } from '../webhooks/event-types';
import {
  compact,
  isObject,
  isoFromDateText,
  neverThrows,
  parseJsonObject,
  text,
  unknownType,
  unparseable,
  type JsonObject,
} from '../webhooks/payload-fields';
import { verificationResult } from '../webhooks/signature-check';
import { checkGhlWebhookSignature } from './ghl-webhook-signature';

/**
 * GoHighLevel (LeadConnector) webhooks: one JSON event per delivery with `type`, `locationId`,
 * `webhookId` and `timestamp` (marketplace.gohighlevel.com/docs/webhook/WebhookIntegrationGuide)
 * and the event's own fields (…/docs/webhook/ContactCreate, InboundMessage, AppointmentCreate).
 * `webhookId` is the dedupe key.
 */
export const gohighlevelWebhooks: WebhookProvider = {
  name: 'gohighlevel',
  contentTypes: ['application/json'],
  acknowledgement: { status: 200, body: '' },
  verify(request, secrets, now) {
    if (secrets.provider !== 'gohighlevel') return { valid: false, reason: 'bad_signature' };
    const { check, scheme } = checkGhlWebhookSignature(
      request.rawBody,
      request.headers,
      secrets,
      now,
    );
    return verificationResult(check, scheme);
  },
  normalize: neverThrows(normalizeGhl),
};

function normalizeGhl(request: InboundWebhook): NormalizationResult {
  const body = parseJsonObject(request.rawBody);
  if (!body) return unparseable('body is not a JSON object');
  // Every delivery GoHighLevel signs carries a webhookId; for a body without one, the same
  // bytes still dedupe to the same key.
  const providerEventId =
    text(body.webhookId) ??
    `body-sha256:${createHash('sha256').update(request.rawBody).digest('hex')}`;
  const type = text(body.type);
  if (type === undefined) return unparseable('a GoHighLevel webhook needs a type', providerEventId);
  const maxaiType = maxaiTypeFor('gohighlevel', type);
  if (maxaiType === undefined) return unknownType(providerEventId, type);
  const locationId = text(body.locationId);
  const ok = (events: NormalizedEvent[]): NormalizationResult => ({
    ok: true,
    providerEventId,
    providerEventType: type,
    attribution: { ghlLocationId: locationId },
    events,
  });
  if (maxaiType === null) return ok([]);
  const data = locationId === undefined ? undefined : eventData(maxaiType, body, locationId);
  if (data === undefined) {
    return unparseable(`${type} lacks locationId or the ids it is about`, providerEventId, type);
  }
  return ok([
    {
      type: maxaiType,
      subject: data.subject,
      time: isoFromDateText(body.timestamp),
      data: data.fields,
    },
  ]);
}

function eventData(
  maxaiType: MaxaiEventType,
  body: JsonObject,
  locationId: string,
): { subject: string; fields: JsonObject } | undefined {
  const provider = 'gohighlevel';
  if (maxaiType.startsWith('maxai.crm.contact.')) {
    // Contact events carry the contact itself: its id is `id` (ContactCreate example).
    const contactId = text(body.id) ?? text(body.contactId);
    if (contactId === undefined) return undefined;
    return {
      subject: contactId,
      fields: compact({
        provider,
        contactId,
        locationId,
        firstName: text(body.firstName),
        lastName: text(body.lastName),
        email: text(body.email),
        phone: text(body.phone),
        tags: Array.isArray(body.tags)
          ? body.tags.filter((tag): tag is string => typeof tag === 'string')
          : undefined,
      }),
    };
  }
  if (maxaiType === 'maxai.messaging.message.received') {
    const messageId = text(body.messageId);
    if (messageId === undefined) return undefined;
    return {
      subject: messageId,
      fields: compact({
        provider,
        messageId,
        conversationId: text(body.conversationId),
        contactId: text(body.contactId),
        // `SMS`, `Email`, `WhatsApp`… as ours: `sms`, `email`, `whatsapp`.
        channel: (text(body.messageType) ?? 'unknown').toLowerCase(),
        body: typeof body.body === 'string' ? body.body : '',
        from: text(body.from),
        to: text(body.to),
        locationId,
        sentAt: isoFromDateText(body.dateAdded),
      }),
    };
  }
  // maxai.calendar.appointment.*: the appointment is nested (AppointmentCreate example).
  const appointment = isObject(body.appointment) ? body.appointment : {};
  const appointmentId = text(appointment.id);
  const calendarId = text(appointment.calendarId);
  if (appointmentId === undefined || calendarId === undefined) return undefined;
  return {
    subject: appointmentId,
    fields: compact({
      provider,
      appointmentId,
      calendarId,
      contactId: text(appointment.contactId),
      title: text(appointment.title),
      status: text(appointment.appointmentStatus),
      // GoHighLevel writes local offsets (`2023-09-25T16:00:00+05:30`); ours are UTC.
      startTime: isoFromDateText(appointment.startTime),
      endTime: isoFromDateText(appointment.endTime),
      locationId,
    }),
  };
}
