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

/** SMS (Twilio; GoHighLevel Conversations). */
export interface MessagingPort {
  sendSms(input: SmsInput, options?: CallOptions): Promise<PortResult<Message>>;
  getMessage(messageId: string, options?: CallOptions): Promise<PortResult<Message>>;
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
