import {
  smsSegments,
  type CallOptions,
  type Message,
  type MessageStatus,
  type MessagingPort,
  type PortResult,
  type SmsInput,
} from '@maxai/core';
import type { ProviderHttp } from '../http';
import { upsertBody } from './ghl-crm';
import {
  GHL_VERSION_CALENDARS,
  GHL_VERSION_CRM,
  ghlHttp,
  replaySafeKey,
  type GhlAdapterOptions,
  type GhlContactBody,
} from './ghl-http';

interface GhlMessageBody {
  id: string;
  body?: string | null;
  direction?: string | null;
  status?: string | null;
  dateAdded?: string | null;
  from?: string | null;
  to?: string | null;
}

/**
 * GoHighLevel message statuses (`pending`, `scheduled`, `sent`, `delivered`, `read`,
 * `undelivered`, `connected`, `failed`, `opened`; docs/ghl/conversations/get-message) as ours.
 */
export function messageStatusFromGhl(
  status: string | null | undefined,
  direction: string | null | undefined,
): MessageStatus {
  if (direction === 'inbound') return 'received';
  switch (status) {
    case 'sent':
    case 'connected':
      return 'sent';
    case 'delivered':
    case 'read':
    case 'opened':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
      return 'failed';
    default:
      return 'queued';
  }
}

/**
 * MessagingPort on GoHighLevel Conversations (Version 2021-04-15): an SMS goes to a contact, so
 * the recipient is upserted by phone first; the sub-account's phone system (LC Phone or its
 * Twilio) sends it. GoHighLevel has no per-message status callback: statuses come back on
 * `getMessage` and the OutboundMessage webhook (`statusCallbackUrl` is not used).
 */
export class GhlMessaging implements MessagingPort {
  private readonly http: ProviderHttp;
  private readonly contactsHttp: ProviderHttp;

  constructor(private readonly options: GhlAdapterOptions) {
    this.http = ghlHttp(options, GHL_VERSION_CALENDARS);
    this.contactsHttp = ghlHttp(options, GHL_VERSION_CRM);
  }

  /** POST /conversations/messages `{type: 'SMS', contactId, message, fromNumber, toNumber}`. */
  async sendSms(input: SmsInput, options?: CallOptions): Promise<PortResult<Message>> {
    const contact = await this.contactsHttp.request<{ contact: GhlContactBody }>(
      'POST',
      '/contacts/upsert',
      {
        json: upsertBody(this.options.locationId, { phone: input.to }),
        idempotencyKey: replaySafeKey(undefined),
        signal: options?.signal,
      },
    );
    const res = await this.http.request<{ messageId: string; conversationId: string }>(
      'POST',
      '/conversations/messages',
      {
        json: {
          type: 'SMS',
          contactId: contact.body.contact.id,
          message: input.body,
          fromNumber: input.from,
          toNumber: input.to,
        },
        idempotencyKey: options?.idempotencyKey,
        signal: options?.signal,
      },
    );
    const { segments } = smsSegments(input.body);
    return {
      data: {
        id: res.body.messageId,
        status: 'queued',
        from: input.from,
        to: input.to,
        body: input.body,
        segments,
      },
      usage: {
        provider: 'gohighlevel',
        operation: 'messaging.send_sms',
        units: [{ name: 'sms_segment', quantity: segments }],
        reference: res.body.messageId,
      },
    };
  }

  async getMessage(messageId: string, options?: CallOptions): Promise<PortResult<Message>> {
    const res = await this.http.request<{ message: GhlMessageBody }>(
      'GET',
      `/conversations/messages/${encodeURIComponent(messageId)}`,
      { signal: options?.signal },
    );
    const message = res.body.message;
    const body = message.body ?? '';
    return {
      data: {
        id: message.id,
        status: messageStatusFromGhl(message.status, message.direction),
        from: message.from ?? '',
        to: message.to ?? '',
        body,
        segments: smsSegments(body).segments,
        sentAt: message.dateAdded ?? undefined,
      },
    };
  }
}
