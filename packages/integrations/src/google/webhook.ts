import type { InboundWebhook, NormalizationResult, WebhookProvider } from '../webhooks/contract';
import { maxaiTypeFor } from '../webhooks/event-types';
import {
  compact,
  integer,
  isoFromDateText,
  neverThrows,
  text,
  unknownType,
  unparseable,
} from '../webhooks/payload-fields';
import { safeEqual } from '../webhooks/signature-check';

/**
 * Google Calendar push notifications (developers.google.com/calendar/api/guides/push,
 * "Receiving notifications"): an empty-body POST whose meaning is all in `X-Goog-*` headers.
 * Nothing is signed; the request is authenticated by the channel token we set on the watch
 * (`X-Goog-Channel-Token`) and must name a channel we created. Google sends a Content-Type
 * (`application/json; utf-8` in its example) with an empty body, so any type is accepted.
 */
export const googleWebhooks: WebhookProvider = {
  name: 'google',
  contentTypes: [],
  // Same page, "Respond to notifications": 200, 201, 202, 204 or 102 mean success.
  acknowledgement: { status: 200, body: '' },
  verify(request, secrets) {
    if (secrets.provider !== 'google') return { valid: false, reason: 'bad_signature' };
    const token = request.headers['x-goog-channel-token'];
    if (token === undefined || token === '') return { valid: false, reason: 'missing_signature' };
    // An empty configured token would accept any request that sends one.
    if (secrets.channelToken === '' || !safeEqual(token, secrets.channelToken)) {
      return { valid: false, reason: 'bad_signature' };
    }
    const channelId = request.headers['x-goog-channel-id'];
    if (channelId === undefined || !secrets.channelIds.includes(channelId)) {
      return { valid: false, reason: 'unknown_channel' };
    }
    return { valid: true, scheme: 'google-channel-token' };
  },
  normalize: neverThrows(normalizeGoogle),
};

function normalizeGoogle(request: InboundWebhook): NormalizationResult {
  const header = (name: string): string | undefined => text(request.headers[name]?.trim());
  const channelId = header('x-goog-channel-id');
  const state = header('x-goog-resource-state');
  const messageNumber = integer(header('x-goog-message-number'));
  const resourceId = header('x-goog-resource-id');
  const providerEventId =
    channelId === undefined || messageNumber === undefined
      ? undefined
      : `${channelId}:${String(messageNumber)}`;
  if (providerEventId === undefined || state === undefined || resourceId === undefined) {
    return unparseable(
      'a push notification needs X-Goog-Channel-ID, -Message-Number, -Resource-State and -Resource-ID',
      providerEventId,
      state,
    );
  }
  const maxaiType = maxaiTypeFor('google', state);
  if (maxaiType === undefined) return unknownType(providerEventId, state);
  return {
    ok: true,
    providerEventId,
    providerEventType: state,
    attribution: {},
    // `sync` opens every new channel and reports no change.
    events:
      maxaiType === null
        ? []
        : [
            {
              type: maxaiType,
              subject: resourceId,
              data: compact({
                provider: 'google',
                channelId,
                resourceId,
                resourceUri: header('x-goog-resource-uri'),
                resourceState: state,
                messageNumber,
                // RFC 1123 in the header (`Tue, 19 Nov 2013 01:13:52 GMT`).
                expiration: isoFromDateText(header('x-goog-channel-expiration')),
              }),
            },
          ],
  };
}
