import {
  messageQueryLimit,
  smsSegments,
  type CallOptions,
  type Message,
  type MessageQuery,
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
    return { data: messageFromGhl(res.body.message) };
  }

  /**
   * The SMS conversation with `query.with`: the contact with that phone (POST /contacts/search),
   * its conversation (GET /conversations/search?contactId=…), then the newest `limit` SMS of it
   * (GET /conversations/{id}/messages?type=TYPE_SMS, newest first; docs/ghl/conversations/
   * get-messages). No contact or no conversation: no messages. The conversation is the
   * contact's, over any of the location's numbers: `ours` cannot narrow it and only fills in our
   * side of each message.
   */
  async listMessages(query: MessageQuery, options?: CallOptions): Promise<PortResult<Message[]>> {
    const limit = messageQueryLimit(query.limit);
    const contacts = await this.contactsHttp.request<{ contacts: GhlContactBody[] }>(
      'POST',
      '/contacts/search',
      {
        json: {
          locationId: this.options.locationId,
          pageLimit: 1,
          filters: [{ field: 'phone', operator: 'eq', value: query.with }],
        },
        idempotencyKey: replaySafeKey(undefined),
        signal: options?.signal,
      },
    );
    const contact = contacts.body.contacts[0];
    if (!contact) return { data: [] };
    const found = await this.http.request<{ conversations: { id: string }[] }>(
      'GET',
      '/conversations/search',
      {
        query: { locationId: this.options.locationId, contactId: contact.id, limit: 1 },
        signal: options?.signal,
      },
    );
    const conversation = found.body.conversations[0];
    if (!conversation) return { data: [] };
    const res = await this.http.request<{ messages: { messages: GhlMessageBody[] } }>(
      'GET',
      `/conversations/${encodeURIComponent(conversation.id)}/messages`,
      { query: { limit, type: 'TYPE_SMS' }, signal: options?.signal },
    );
    // GoHighLevel's message schema names no phone numbers: the direction tells which side is
    // `with`; ours is `query.ours` when given, else unknown ('').
    const ours = query.ours ?? '';
    const data = res.body.messages.messages.map((message) => {
      const inbound = message.direction === 'inbound';
      return messageFromGhl({
        ...message,
        from: inbound ? query.with : ours,
        to: inbound ? ours : query.with,
      });
    });
    return { data };
  }
}

function messageFromGhl(message: GhlMessageBody): Message {
  const body = message.body ?? '';
  return {
    id: message.id,
    status: messageStatusFromGhl(message.status, message.direction),
    from: message.from ?? '',
    to: message.to ?? '',
    body,
    segments: smsSegments(body).segments,
    sentAt: message.dateAdded ?? undefined,
  };
}
