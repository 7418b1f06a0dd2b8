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
 * What a call forwarded with `<Dial action="…">` became, as the action request reports it in
 * `DialCallStatus` (https://www.twilio.com/docs/voice/twiml/dial#action): `completed` once the
 * dialled party answered (`answered` when dialling a conference), `no-answer`, `busy`, `failed`
 * or `canceled`.
 */
export const TWILIO_DIAL_CALL_STATUSES = [
  'no-answer',
  'busy',
  'completed',
  'answered',
  'failed',
  'canceled',
] as const;

export type TwilioDialCallStatus = (typeof TWILIO_DIAL_CALL_STATUSES)[number];

export interface TwilioDialAction {
  /** The forwarded leg Twilio dialled. */
  dialCallSid: string;
  status: TwilioDialCallStatus;
  /** How long the caller talked with the dialled party (0 unless answered). */
  durationSeconds: number;
}

/**
 * The parameters of every voice request about an inbound call (`CallSid`, `AccountSid`,
 * `From`, `To`, `CallStatus`, `ApiVersion`, `Direction`, `Caller`/`Called` and the geographic
 * `From…`/`To…`/`Caller…`/`Called…` fields,
 * twilio.com/docs/usage/webhooks/voice-webhooks#incoming-voice-call).
 */
function inboundVoiceParams(
  call: Omit<TwilioInboundCallEnd, 'status' | 'durationSeconds' | 'timestamp'>,
  callStatus: string,
): Record<string, string> {
  return {
    Called: call.to,
    ToState: 'CA',
    CallerCountry: 'US',
    Direction: 'inbound',
    CallerState: '',
    ToZip: '',
    CallSid: call.callSid,
    To: call.to,
    CallerZip: '',
    ToCountry: 'US',
    CalledZip: '',
    ApiVersion: call.apiVersion,
    CalledCity: '',
    CallStatus: callStatus,
    From: call.from,
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

/**
 * The form parameters of the status callback Twilio posts when an inbound call to one of an
 * account's numbers ends (the number's "call status changes" URL; only the final event unless
 * more are subscribed, hence `SequenceNumber` 0): the voice request parameters and those a
 * status callback adds (`CallDuration`, `Timestamp`, `CallbackSource`, `SequenceNumber`,
 * twilio.com/docs/usage/webhooks/voice-webhooks#call-status-callbacks and
 * twilio.com/docs/voice/api/call-resource#statuscallback).
 */
export function twilioInboundCallStatusParams(call: TwilioInboundCallEnd): Record<string, string> {
  return {
    ...inboundVoiceParams(call, call.status),
    Timestamp: call.timestamp,
    CallbackSource: 'call-progress-events',
    SequenceNumber: '0',
    CallDuration: String(call.durationSeconds),
  };
}

/**
 * The form parameters of the request Twilio makes to a `<Dial>` verb's action URL when the
 * forwarded leg ends (https://www.twilio.com/docs/voice/twiml/dial#action): the parent call's
 * voice request parameters, the parent still `in-progress` (Twilio answered it to run the
 * TwiML, and waits for the action's TwiML to go on), plus `DialCallStatus`, `DialCallSid`,
 * `DialCallDuration` and `DialBridged` (whether the caller was connected to the dialled party).
 */
export function twilioDialActionParams(
  call: Omit<TwilioInboundCallEnd, 'status' | 'durationSeconds' | 'timestamp'>,
  dial: TwilioDialAction,
): Record<string, string> {
  const bridged = dial.status === 'completed' || dial.status === 'answered';
  return {
    ...inboundVoiceParams(call, 'in-progress'),
    DialCallStatus: dial.status,
    DialCallSid: dial.dialCallSid,
    DialCallDuration: String(dial.durationSeconds),
    DialBridged: String(bridged),
  };
}
