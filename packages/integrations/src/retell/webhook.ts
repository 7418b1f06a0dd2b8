import type {
  InboundWebhook,
  NormalizationResult,
  NormalizedEvent,
  WebhookProvider,
} from '../webhooks/contract';
import { maxaiTypeFor, type CallOutcome } from '../webhooks/event-types';
import {
  bool,
  compact,
  isObject,
  isoFromMs,
  neverThrows,
  parseJsonObject,
  text,
  unknownType,
  unparseable,
  type JsonObject,
} from '../webhooks/payload-fields';
import { verificationResult } from '../webhooks/signature-check';
import { checkRetellSignature } from './signature';

/**
 * Retell AI call webhooks (docs.retellai.com/features/webhook-overview): `{event, call}` with
 * `event` call_started | call_ended | call_analyzed, the call object as get-call returns it
 * (`call_analysis` only on call_analyzed), signed with `x-retell-signature`. Retell retries a
 * delivery up to 3 times, so `${call_id}:${event}` is the dedupe key.
 */
export const retellWebhooks: WebhookProvider = {
  name: 'retell',
  contentTypes: ['application/json'],
  // Same page: "We expect a successful status code (2xx) to be returned. No body is expected."
  acknowledgement: { status: 200, body: '' },
  verify(request, secrets, now) {
    if (secrets.provider !== 'retell') return { valid: false, reason: 'bad_signature' };
    const check = checkRetellSignature(
      secrets.apiKey,
      request.rawBody,
      request.headers['x-retell-signature'],
      now,
    );
    return verificationResult(check, 'retell-hmac-sha256');
  },
  normalize: neverThrows(normalizeRetell),
};

/**
 * Outcome of each documented `disconnection_reason` that is not a completed conversation
 * (docs.retellai.com/reliability/debug-call-disconnect; retell-sdk `src/resources/call.ts`).
 * `user_declined` is a rejected ring, which carriers report as busy.
 */
const OUTCOME_OF_REASON: ReadonlyMap<string, CallOutcome> = new Map<string, CallOutcome>([
  ['voicemail_reached', 'voicemail'],
  ['dial_no_answer', 'unanswered'],
  ['dial_busy', 'busy'],
  ['user_declined', 'busy'],
  ['dial_failed', 'failed'],
  ['invalid_destination', 'failed'],
  ['telephony_provider_permission_denied', 'failed'],
  ['telephony_provider_unavailable', 'failed'],
  ['sip_routing_error', 'failed'],
  ['marked_as_spam', 'failed'],
  ['concurrency_limit_reached', 'failed'],
  ['no_concurrency_fallback', 'failed'],
  ['no_valid_payment', 'failed'],
  ['scam_detected', 'failed'],
  ['registered_call_timeout', 'failed'],
]);

export function retellCallOutcome(
  disconnectionReason: string | undefined,
  callStatus: string | undefined,
): CallOutcome {
  const reason = disconnectionReason ?? '';
  const known = OUTCOME_OF_REASON.get(reason);
  if (known) return known;
  // error_llm_websocket_*, error_asr, error_retell… and any failure reason added later.
  if (reason.startsWith('error') || callStatus === 'error' || callStatus === 'not_connected') {
    return 'failed';
  }
  // user_hangup, agent_hangup, call_transfer, inactivity, max_duration_reached, ivr_reached…
  return 'completed';
}

function normalizeRetell(request: InboundWebhook): NormalizationResult {
  const body = parseJsonObject(request.rawBody);
  if (!body) return unparseable('body is not a JSON object');
  const event = text(body.event);
  // `data` is the deprecated name of `call` (docs.retellai.com/features/webhook).
  const call = isObject(body.call) ? body.call : body.data;
  const callId = isObject(call) ? text(call.call_id) : undefined;
  const providerEventId = callId === undefined ? undefined : `${callId}:${event ?? ''}`;
  if (event === undefined || !isObject(call) || callId === undefined) {
    return unparseable(
      'a Retell webhook needs an event and a call with a call_id',
      providerEventId,
      event,
    );
  }
  const maxaiType = maxaiTypeFor('retell', event);
  if (!maxaiType) return unknownType(providerEventId, event);
  const agentId = text(call.agent_id);
  const parties = {
    provider: 'retell',
    callId,
    agentExternalId: agentId,
    from: text(call.from_number) ?? '',
    to: text(call.to_number) ?? '',
    // A web call has no direction; like the voice adapter, we count it as inbound. The analyzed
    // event carries it too: who the customer is (from or to) depends on it.
    direction: call.direction === 'outbound' ? 'outbound' : 'inbound',
  };
  let normalized: NormalizedEvent;
  if (maxaiType === 'maxai.voice.call.analyzed') {
    const analysis = isObject(call.call_analysis) ? call.call_analysis : body.call_analysis;
    normalized = { type: maxaiType, subject: callId, data: analyzedData(parties, analysis) };
  } else {
    const data = lifecycleData(parties, call, maxaiType === 'maxai.voice.call.ended');
    normalized = {
      type: maxaiType,
      subject: callId,
      time: (data.endedAt ?? data.startedAt) as string | undefined,
      data,
    };
  }
  return {
    ok: true,
    providerEventId: `${callId}:${event}`,
    providerEventType: event,
    attribution: { retellAgentId: agentId },
    events: [normalized],
  };
}

function lifecycleData(parties: JsonObject, call: JsonObject, ended: boolean): JsonObject {
  const startMs = call.start_timestamp;
  const endMs = call.end_timestamp;
  const durationMs =
    typeof call.duration_ms === 'number'
      ? call.duration_ms
      : typeof startMs === 'number' && typeof endMs === 'number'
        ? endMs - startMs
        : undefined;
  const reason = text(call.disconnection_reason);
  return compact({
    ...parties,
    callType: text(call.call_type),
    startedAt: isoFromMs(startMs),
    metadata: isObject(call.metadata) ? call.metadata : undefined,
    ...(ended
      ? {
          endedAt: isoFromMs(endMs),
          durationSeconds:
            durationMs !== undefined && durationMs >= 0 ? durationMs / 1000 : undefined,
          disconnectionReason: reason,
          outcome: retellCallOutcome(reason, text(call.call_status)),
          transcript: typeof call.transcript === 'string' ? call.transcript : undefined,
        }
      : {}),
  });
}

function analyzedData(parties: JsonObject, analysis: unknown): JsonObject {
  const found = isObject(analysis) ? analysis : {};
  const sentiment = text(found.user_sentiment);
  return compact({
    ...parties,
    summary: text(found.call_summary),
    // Retell capitalizes (`Positive`); ours are lower-case, as the voice adapter maps them.
    sentiment: sentiment?.toLowerCase(),
    successful: bool(found.call_successful),
    inVoicemail: bool(found.in_voicemail),
    custom: isObject(found.custom_analysis_data) ? found.custom_analysis_data : {},
  });
}
