import {
  messageQueryLimit,
  ProviderError,
  smsSegments,
  type CallOptions,
  type Message,
  type MessageQuery,
  type MessageStatus,
  type MessagingPort,
  type PortResult,
  type ProviderErrorKind,
  type SmsInput,
} from '@maxai/core';
import { ProviderHttp } from '../http';

export interface TwilioMessagingOptions {
  accountSid: string;
  authToken: string;
  /** `https://api.twilio.com` live; the simulator's `/twilio` prefix in sandbox mode. */
  baseUrl?: string | undefined;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  retryBaseMs?: number | undefined;
  maxRetryAfterMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** The Message resource fields we read (twilio.com/docs/messaging/api/message-resource). */
interface TwilioMessageResource {
  sid: string;
  status: string;
  from: string | null;
  to: string;
  body: string | null;
  num_segments: string | null;
  price: string | null;
  price_unit: string | null;
  error_code: number | null;
  date_sent: string | null;
  date_created: string;
}

/** One page of the Messages list (…/Messages.json): the fields we read. */
interface TwilioMessagePage {
  messages: TwilioMessageResource[];
  next_page_uri: string | null;
}

/** Twilio's JSON error body: `{ code, message, more_info, status }`. */
interface TwilioErrorBody {
  code?: unknown;
  message?: unknown;
}

/**
 * Twilio error codes whose class differs from what the HTTP status alone says
 * (twilio.com/docs/api/errors): 14107 and 30022 are rate limits answered with a 400,
 * 20003/20005 are auth even when a proxy rewrites the status, 20404 is a missing resource.
 */
const CODE_KINDS: Record<string, ProviderErrorKind> = {
  '20003': 'auth',
  '20005': 'auth',
  '20404': 'not_found',
  '20429': 'rate_limited',
  '14107': 'rate_limited',
  '30022': 'rate_limited',
  '21211': 'invalid',
};

/** The class of a Twilio error: its code when we know it, else the status class. */
export function twilioErrorKind(
  code: string | undefined,
  statusKind: ProviderErrorKind,
): ProviderErrorKind {
  return (code !== undefined ? CODE_KINDS[code] : undefined) ?? statusKind;
}

// Twilio's message statuses → ours (twilio.com/docs/messaging/api/message-resource#message-status-values).
const STATUSES: Record<string, MessageStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  partially_delivered: 'sent',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
  receiving: 'received',
  received: 'received',
};

/**
 * Twilio Programmable Messaging as a `MessagingPort`, one instance per connection (account).
 * Plain `fetch` through `ProviderHttp`: the `twilio` SDK has no base-URL option. Twilio's
 * Messages API takes no idempotency key, so a send is never retried after a transient failure
 * (it may have gone out); only 429s and reads are retried.
 */
export class TwilioMessaging implements MessagingPort {
  private readonly http: ProviderHttp;
  private readonly accountSid: string;

  constructor(options: TwilioMessagingOptions) {
    this.accountSid = options.accountSid;
    const basic = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
    this.http = new ProviderHttp({
      provider: 'twilio',
      baseUrl: options.baseUrl ?? 'https://api.twilio.com',
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      retryBaseMs: options.retryBaseMs,
      maxRetryAfterMs: options.maxRetryAfterMs,
      fetch: options.fetch,
      sleep: options.sleep,
      headers: () => ({ authorization: basic }),
      describeError: (body) => {
        const error = (typeof body === 'object' && body !== null ? body : {}) as TwilioErrorBody;
        return {
          code: typeof error.code === 'number' ? String(error.code) : undefined,
          message: typeof error.message === 'string' ? error.message : undefined,
        };
      },
    });
  }

  async sendSms(input: SmsInput, options: CallOptions = {}): Promise<PortResult<Message>> {
    const res = await this.call<TwilioMessageResource>('POST', 'Messages.json', {
      form: {
        To: input.to,
        From: input.from,
        Body: input.body,
        StatusCallback: input.statusCallbackUrl,
      },
      signal: options.signal,
    });
    const message = toMessage(res);
    const price = res.price === null ? undefined : Math.abs(Number(res.price));
    return {
      data: message,
      usage: {
        provider: 'twilio',
        operation: 'messaging.send_sms',
        units: [{ name: 'sms_segment', quantity: message.segments }],
        costUsd:
          price !== undefined && Number.isFinite(price) && res.price_unit === 'USD'
            ? price
            : undefined,
        reference: res.sid,
      },
    };
  }

  async getMessage(messageId: string, options: CallOptions = {}): Promise<PortResult<Message>> {
    const res = await this.call<TwilioMessageResource>(
      'GET',
      `Messages/${encodeURIComponent(messageId)}.json`,
      { signal: options.signal },
    );
    return { data: toMessage(res) };
  }

  /**
   * The conversation with `query.with`: two reads of the Messages list (twilio.com/docs/messaging/
   * api/message-resource#read-multiple-message-resources), `To` them and `From` them (each also
   * `From`/`To` our number when given), one page of `limit` each, which holds the newest `limit`
   * of either direction; merged most recent first (`date_sent`, else `date_created` for messages
   * not sent yet) and cut to `limit`.
   */
  async listMessages(
    query: MessageQuery,
    options: CallOptions = {},
  ): Promise<PortResult<Message[]>> {
    const limit = messageQueryLimit(query.limit);
    const read = async (filters: { To?: string | undefined; From?: string | undefined }) => {
      const page = await this.call<TwilioMessagePage>('GET', 'Messages.json', {
        query: { ...filters, PageSize: String(limit) },
        signal: options.signal,
      });
      return page.messages;
    };
    const [toThem, fromThem] = await Promise.all([
      read({ To: query.with, From: query.ours }),
      read({ From: query.with, To: query.ours }),
    ]);
    return { data: mergeNewestFirst(toThem, fromThem).slice(0, limit).map(toMessage) };
  }

  private async call<T>(
    method: string,
    path: string,
    request: {
      form?: Record<string, string | undefined>;
      query?: Record<string, string | undefined>;
      signal?: AbortSignal | undefined;
    },
  ): Promise<T> {
    try {
      const res = await this.http.request<T>(
        method,
        `2010-04-01/Accounts/${encodeURIComponent(this.accountSid)}/${path}`,
        { form: request.form, query: request.query, signal: request.signal },
      );
      return res.body;
    } catch (error) {
      throw reclassify(error);
    }
  }
}

function reclassify(error: unknown): unknown {
  if (!(error instanceof ProviderError)) return error;
  const kind = twilioErrorKind(error.providerCode, error.kind);
  if (kind === error.kind) return error;
  return new ProviderError({
    kind,
    provider: error.provider,
    message: error.message,
    status: error.status,
    providerCode: error.providerCode,
    retryAfterMs: error.retryAfterMs,
    cause: error,
  });
}

/** When a message happened, for ordering: sent, else created (queued, scheduled). */
function messageTime(res: TwilioMessageResource): number {
  return Date.parse(res.date_sent ?? res.date_created);
}

/**
 * Two lists Twilio answered most recent first, merged into one: each list keeps its order (Twilio
 * dates have whole seconds, so a sort could swap messages of the same second).
 */
function mergeNewestFirst(
  a: readonly TwilioMessageResource[],
  b: readonly TwilioMessageResource[],
): TwilioMessageResource[] {
  const merged: TwilioMessageResource[] = [];
  let i = 0;
  let j = 0;
  for (;;) {
    const left = a[i];
    const right = b[j];
    if (left === undefined) return [...merged, ...b.slice(j)];
    if (right === undefined) return [...merged, ...a.slice(i)];
    if (messageTime(left) >= messageTime(right)) {
      merged.push(left);
      i += 1;
    } else {
      merged.push(right);
      j += 1;
    }
  }
}

function toMessage(res: TwilioMessageResource): Message {
  const body = res.body ?? '';
  const segments = Number(res.num_segments);
  const sentAt = res.date_sent === null ? undefined : new Date(res.date_sent);
  return {
    id: res.sid,
    status: STATUSES[res.status] ?? 'queued',
    from: res.from ?? '',
    to: res.to,
    body,
    segments: Number.isInteger(segments) && segments > 0 ? segments : smsSegments(body).segments,
    errorCode: res.error_code === null ? undefined : String(res.error_code),
    sentAt: sentAt && !Number.isNaN(sentAt.getTime()) ? sentAt.toISOString() : undefined,
  };
}
