import type { CallOptions, PortResult } from './provider';

export interface SmsInput {
  /** E.164 sender (one of the account's numbers). */
  from: string;
  to: string;
  body: string;
  /** Where the provider reports delivery status. */
  statusCallbackUrl?: string | undefined;
}

export type MessageStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';

export interface Message {
  id: string;
  status: MessageStatus;
  from: string;
  to: string;
  body: string;
  /** Billed segments (GSM-7: 160/153 characters; UCS-2: 70/67). */
  segments: number;
  errorCode?: string | undefined;
  sentAt?: string | undefined;
}

/** The default and the largest `MessageQuery.limit`. */
export const MESSAGE_QUERY_DEFAULT_LIMIT = 20;
export const MESSAGE_QUERY_MAX_LIMIT = 100;

/** The conversation with one party: messages from them to us and from us to them. */
export interface MessageQuery {
  /** The other party's E.164 number. */
  with: string;
  /** Our number (one of the account's): only messages between it and `with`; absent: any of ours. */
  ours?: string | undefined;
  /** At most this many messages (default 20, at most 100). */
  limit?: number | undefined;
}

/** SMS (Twilio; GoHighLevel Conversations). */
export interface MessagingPort {
  sendSms(input: SmsInput, options?: CallOptions): Promise<PortResult<Message>>;
  getMessage(messageId: string, options?: CallOptions): Promise<PortResult<Message>>;
  /** Both directions of the conversation with `query.with`, newest first. */
  listMessages(query: MessageQuery, options?: CallOptions): Promise<PortResult<Message[]>>;
}

/** `MessageQuery.limit` as adapters apply it: an integer in 1…100 (clamped), 20 when absent. */
export function messageQueryLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return MESSAGE_QUERY_DEFAULT_LIMIT;
  return Math.min(MESSAGE_QUERY_MAX_LIMIT, Math.max(1, Math.floor(limit)));
}

// GSM 03.38 basic set and its extension table (each extension character takes two septets).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';

/**
 * How many segments an SMS body is billed as: GSM-7 when every character is in the GSM 03.38
 * set (160 septets alone, 153 per part when concatenated), else UCS-2 (70, or 67 per part;
 * characters outside the BMP take two code units).
 */
export function smsSegments(body: string): { segments: number; encoding: 'GSM-7' | 'UCS-2' } {
  let septets = 0;
  let gsm = true;
  for (const char of body) {
    if (GSM_BASIC.includes(char)) septets += 1;
    else if (GSM_EXTENSION.includes(char)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) {
    if (septets === 0) return { segments: 1, encoding: 'GSM-7' };
    return { segments: septets <= 160 ? 1 : Math.ceil(septets / 153), encoding: 'GSM-7' };
  }
  const units = body.length; // UTF-16 code units, as UCS-2 counts them
  return { segments: units <= 70 ? 1 : Math.ceil(units / 67), encoding: 'UCS-2' };
}
