/**
 * Statuses a call ends with (twilio.com/docs/voice/api/call-resource#call-status-values). An
 * inbound call ends `busy` or `no-answer` when the number's TwiML rejects it (`<Reject
 * reason="busy|rejected">`, twilio.com/docs/voice/twiml/reject), `canceled` when the caller
 * hangs up before it is picked up, `completed` once answered.
 */
export const TWILIO_CALL_END_STATUSES = [
  'no-answer',
  'busy',
  'completed',
  'failed',
  'canceled',
] as const;

export type TwilioCallEndStatus = (typeof TWILIO_CALL_END_STATUSES)[number];

export interface TwilioInboundCallEnd {
  callSid: string;
  accountSid: string;
  apiVersion: string;
  /** The caller. */
  from: string;
  /** The account's number that was called. */
  to: string;
  status: TwilioCallEndStatus;
  durationSeconds: number;
  /** When the call ended, RFC 2822 as Twilio writes it. */
  timestamp: string;
}

/**
 * The form parameters of the status callback Twilio posts when an inbound call to one of an
 * account's numbers ends (the number's "call status changes" URL; only the final event unless
 * more are subscribed, hence `SequenceNumber` 0). Sources: the request parameters of every voice
 * webhook (`CallSid`, `AccountSid`, `From`, `To`, `CallStatus`, `ApiVersion`, `Direction`,
 * `Caller`/`Called` and the geographic `From…`/`To…`/`Caller…`/`Called…` fields,
 * twilio.com/docs/usage/webhooks/voice-webhooks#incoming-voice-call) and those a status callback
 * adds (`CallDuration`, `Timestamp`, `CallbackSource`, `SequenceNumber`,
 * twilio.com/docs/usage/webhooks/voice-webhooks#call-status-callbacks and
 * twilio.com/docs/voice/api/call-resource#statuscallback).
 */
export function twilioInboundCallStatusParams(call: TwilioInboundCallEnd): Record<string, string> {
  return {
    Called: call.to,
    ToState: 'CA',
    CallerCountry: 'US',
    Direction: 'inbound',
    Timestamp: call.timestamp,
    CallbackSource: 'call-progress-events',
    CallerState: '',
    ToZip: '',
    SequenceNumber: '0',
    CallSid: call.callSid,
    To: call.to,
    CallerZip: '',
    ToCountry: 'US',
    CalledZip: '',
    ApiVersion: call.apiVersion,
    CalledCity: '',
    CallStatus: call.status,
    From: call.from,
    CallDuration: String(call.durationSeconds),
    AccountSid: call.accountSid,
    CalledCountry: 'US',
    CallerCity: '',
    ToCity: '',
    FromCountry: 'US',
    Caller: call.from,
    FromCity: '',
    CalledState: 'CA',
    FromZip: '',
    FromState: '',
  };
}
