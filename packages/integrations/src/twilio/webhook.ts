import type {
  InboundWebhook,
  NormalizationResult,
  NormalizedEvent,
  WebhookAttribution,
  WebhookProvider,
} from '../webhooks/contract';
import type { CallOutcome, MaxaiEventType } from '../webhooks/event-types';
import {
  compact,
  integer,
  isoFromDateText,
  neverThrows,
  parseJsonObject,
  unparseable,
  type JsonObject,
} from '../webhooks/payload-fields';
import { canonicalBase64 } from '../webhooks/signature-check';
import {
  validateTwilioSignature,
  validateTwilioSignatureWithBody,
  type TwilioParams,
} from './signature';

/**
 * The empty TwiML reply: "receive a message and not reply" (twilio.com/docs/usage/webhooks/
 * messaging-webhooks); byte for byte what the SDK's `new twiml.MessagingResponse().toString()`
 * produces. Voice status callbacks ignore the body; an empty Response is valid there too.
 */
export const TWILIO_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const HMAC_SHA1_BYTES = 20;

/**
 * Twilio webhooks: incoming messages, message status callbacks, voice call status callbacks
 * and `<Dial>` action requests, form-encoded (twilio.com/docs/messaging/guides/webhook-request,
 * …/messaging/guides/track-outbound-message-status, …/voice/api/call-resource#statuscallback,
 * …/voice/twiml/dial#action), or JSON with `bodySHA256` in the URL. `X-Twilio-Signature`
 * covers the public URL and the parameters (twilio.com/docs/usage/webhooks/webhooks-security).
 * No time is signed: ingress dedupe on `${MessageSid|CallSid}:${status}` (a dial:
 * `${CallSid}:dial:${DialCallSid}`) is what stops a replay.
 */
export const twilioWebhooks: WebhookProvider = {
  name: 'twilio',
  contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
  acknowledgement: { status: 200, contentType: 'text/xml', body: TWILIO_EMPTY_TWIML },
  verify(request, secrets) {
    if (secrets.provider !== 'twilio') return { valid: false, reason: 'bad_signature' };
    const signature = request.headers['x-twilio-signature'];
    if (signature === undefined || signature === '') {
      return { valid: false, reason: 'missing_signature' };
    }
    if (canonicalBase64(signature, HMAC_SHA1_BYTES) === undefined) {
      return { valid: false, reason: 'malformed_signature' };
    }
    // An empty token would make anyone's HMAC "valid".
    if (secrets.authToken === '') return { valid: false, reason: 'bad_signature' };
    // The JSON variant is chosen by the URL Twilio signed, as the SDK's validateIncomingRequest
    // does; otherwise the body's form parameters are signed (whatever its Content-Type, so a
    // body is never left out of the check).
    const valid = hasBodyHash(request.publicUrl)
      ? validateTwilioSignatureWithBody(
          secrets.authToken,
          request.publicUrl,
          request.rawBody,
          signature,
        )
      : validateTwilioSignature(
          secrets.authToken,
          request.publicUrl,
          parseTwilioForm(request.rawBody),
          signature,
        );
    return valid
      ? {
          valid: true,
          scheme: hasBodyHash(request.publicUrl) ? 'twilio-body-sha256' : 'twilio-hmac-sha1',
        }
      : { valid: false, reason: 'bad_signature' };
  },
  normalize: neverThrows(normalizeTwilio),
};

function hasBodyHash(url: string): boolean {
  try {
    return new URL(url).searchParams.has('bodySHA256');
  } catch {
    return false;
  }
}

/**
 * An `application/x-www-form-urlencoded` body as Twilio's signature sees it: repeated keys
 * become arrays. Built on a null-prototype object, so a `__proto__` key is just a key.
 */
export function parseTwilioForm(rawBody: Uint8Array): Record<string, string | string[]> {
  const params = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of new URLSearchParams(Buffer.from(rawBody).toString('utf8'))) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

/** The parameters of a request, form-encoded or (bodySHA256 variant) a JSON object. */
function paramsOf(request: InboundWebhook): TwilioParams | undefined {
  const type = request.headers['content-type'] ?? '';
  if (!/^\s*application\/json/i.test(type)) return parseTwilioForm(request.rawBody);
  const json = parseJsonObject(request.rawBody);
  if (!json) return undefined;
  const params: TwilioParams = Object.create(null) as TwilioParams;
  for (const [key, value] of Object.entries(json)) {
    if (typeof value === 'string') params[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') params[key] = String(value);
  }
  return params;
}

/** Voice statuses after which the call is over (twilio.com/docs/voice/api/call-resource#call-status-values). */
const FINAL_CALL_OUTCOMES: ReadonlyMap<string, CallOutcome> = new Map<string, CallOutcome>([
  ['completed', 'completed'],
  ['no-answer', 'unanswered'],
  ['busy', 'busy'],
  ['failed', 'failed'],
  // Hung up or cancelled through the API before anyone answered.
  ['canceled', 'unanswered'],
]);

/**
 * What became of a call forwarded with `<Dial action="…">`, by the `DialCallStatus` of the
 * action request (https://www.twilio.com/docs/voice/twiml/dial#action): `completed` once the
 * dialled party answered (`answered` when dialling a conference), `no-answer`, `busy`, `failed`
 * (e.g. a number that does not exist), `canceled` (cancelled through the API before answer).
 */
const DIAL_OUTCOMES: ReadonlyMap<string, CallOutcome> = new Map<string, CallOutcome>([
  ['completed', 'completed'],
  ['answered', 'completed'],
  ['no-answer', 'unanswered'],
  ['busy', 'busy'],
  ['failed', 'failed'],
  ['canceled', 'unanswered'],
]);

function normalizeTwilio(request: InboundWebhook): NormalizationResult {
  const params = paramsOf(request);
  if (!params) return unparseable('a JSON Twilio webhook must be a JSON object');
  const field = (name: string): string | undefined => {
    const value = params[name];
    const first = Array.isArray(value) ? value[0] : value;
    return first === '' ? undefined : first;
  };
  const messageSid = field('MessageSid') ?? field('SmsSid');
  const callSid = field('CallSid');
  if (messageSid !== undefined) return normalizeMessage(messageSid, params, field);
  // Checked before CallStatus: the action request carries the parent call's CallStatus too.
  const dialCallStatus = field('DialCallStatus');
  if (callSid !== undefined && dialCallStatus !== undefined) {
    return normalizeDialAction(callSid, dialCallStatus, field);
  }
  const callStatus = field('CallStatus');
  if (callSid !== undefined && callStatus !== undefined) {
    return normalizeCallStatus(callSid, callStatus, field);
  }
  return unparseable('neither a message (MessageSid) nor a call status (CallSid, CallStatus)');
}

type Field = (name: string) => string | undefined;

function normalizeMessage(
  messageSid: string,
  params: TwilioParams,
  field: Field,
): NormalizationResult {
  const status = field('MessageStatus') ?? field('SmsStatus');
  // An incoming message has a Body (possibly empty) and is `received`; a status callback of a
  // message we sent has neither.
  const incoming = 'Body' in params && (status === undefined || status === 'received');
  if (!incoming && status === undefined) {
    return unparseable('a message status callback needs MessageStatus');
  }
  const from = field('From');
  const to = field('To');
  let type: MaxaiEventType;
  let data: JsonObject;
  let attribution: WebhookAttribution;
  if (incoming) {
    type = 'maxai.messaging.sms.received';
    attribution = { phoneNumber: to };
    data = {
      provider: 'twilio',
      messageId: messageSid,
      from: from ?? '',
      to: to ?? '',
      body: field('Body') ?? '',
      segments: integer(field('NumSegments')) ?? 1,
      media: media(field),
      accountId: field('AccountSid'),
      messagingServiceId: field('MessagingServiceSid'),
    };
  } else {
    type = 'maxai.messaging.sms.status_changed';
    // A status callback is about a message we sent: ours is the sender.
    attribution = { phoneNumber: from };
    data = {
      provider: 'twilio',
      messageId: messageSid,
      status,
      errorCode: field('ErrorCode'),
      from,
      to,
    };
  }
  const providerEventType = incoming ? 'message.received' : 'message.status';
  return {
    ok: true,
    providerEventId: `${messageSid}:${status ?? 'received'}`,
    providerEventType,
    attribution,
    events: [{ type, subject: messageSid, data: compact(data) }],
  };
}

/** `MediaUrl{N}` / `MediaContentType{N}` for N below `NumMedia`. */
function media(field: Field): JsonObject[] {
  const count = Math.min(integer(field('NumMedia')) ?? 0, 10);
  const items: JsonObject[] = [];
  for (let index = 0; index < count; index += 1) {
    const url = field(`MediaUrl${String(index)}`);
    if (url === undefined) continue;
    items.push({
      url,
      contentType: field(`MediaContentType${String(index)}`) ?? 'application/octet-stream',
    });
  }
  return items;
}

/**
 * The `<Dial>` action request (https://www.twilio.com/docs/voice/twiml/dial#action): the parent
 * call's parameters (`CallSid`, `From` the caller, `To` our number, `Direction`, its
 * `CallStatus`) plus `DialCallStatus`, `DialCallSid` and `DialCallDuration` of the forwarded
 * leg. Twilio answered the parent to run the TwiML, so its own status callback ends `completed`
 * even when nobody took the forward: the forward's fate is what says whether the caller was
 * missed. Its own dedupe key, apart from the parent's `${CallSid}:${CallStatus}`.
 */
function normalizeDialAction(
  callSid: string,
  dialCallStatus: string,
  field: Field,
): NormalizationResult {
  const outbound = (field('Direction') ?? '').startsWith('outbound');
  const from = field('From') ?? '';
  const to = field('To') ?? '';
  const dialCallSid = field('DialCallSid');
  const outcome = DIAL_OUTCOMES.get(dialCallStatus);
  const events: NormalizedEvent[] =
    outcome === undefined
      ? []
      : [
          {
            type: 'maxai.voice.call.ended',
            subject: callSid,
            data: compact({
              provider: 'twilio',
              callId: callSid,
              direction: outbound ? 'outbound' : 'inbound',
              from,
              to,
              // How long the caller talked with whoever took the forward (0 when nobody did).
              durationSeconds: integer(field('DialCallDuration')),
              outcome,
              forwardedCallId: dialCallSid,
            }),
          },
        ];
  return {
    ok: true,
    providerEventId: `${callSid}:dial:${dialCallSid ?? dialCallStatus}`,
    providerEventType: 'call.dial',
    attribution: { phoneNumber: (outbound ? from : to) || undefined },
    events,
  };
}

function normalizeCallStatus(
  callSid: string,
  callStatus: string,
  field: Field,
): NormalizationResult {
  const outbound = (field('Direction') ?? '').startsWith('outbound');
  const from = field('From') ?? '';
  const to = field('To') ?? '';
  const outcome = FINAL_CALL_OUTCOMES.get(callStatus);
  const endedAt = isoFromDateText(field('Timestamp'));
  const events: NormalizedEvent[] =
    outcome === undefined
      ? []
      : [
          {
            type: 'maxai.voice.call.ended',
            subject: callSid,
            time: endedAt,
            data: compact({
              provider: 'twilio',
              callId: callSid,
              direction: outbound ? 'outbound' : 'inbound',
              from,
              to,
              endedAt,
              durationSeconds: integer(field('CallDuration')),
              // Answering machine detection, when enabled on the call, names a machine.
              outcome: (field('AnsweredBy') ?? '').startsWith('machine') ? 'voicemail' : outcome,
              sipResponseCode: field('SipResponseCode'),
            }),
          },
        ];
  return {
    ok: true,
    providerEventId: `${callSid}:${callStatus}`,
    providerEventType: 'call.status',
    // The number of ours: the caller on an outbound call, the one called on an inbound call.
    attribution: { phoneNumber: (outbound ? from : to) || undefined },
    events,
  };
}
