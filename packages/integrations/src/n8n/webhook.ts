import type { InboundWebhook, NormalizationResult, WebhookProvider } from '../webhooks/contract';
import type { MaxaiEventType } from '../webhooks/event-types';
import {
  compact,
  idText,
  neverThrows,
  parseJsonObject,
  text,
  unparseable,
} from '../webhooks/payload-fields';
import { verificationResult } from '../webhooks/signature-check';
import { checkN8nCallback, N8N_SIGNATURE_HEADER } from './callback-signature';

/** The one kind of delivery n8n makes to us, under our own naming (WEBHOOK_EVENT_MAPPINGS). */
const CALLBACK = 'callback';
const CALLBACK_TYPE: MaxaiEventType = 'maxai.workflow.callback.received';

/**
 * Callbacks of async n8n workflows (docs/providers/n8n.md, our design — n8n itself has no
 * webhook format): `{correlationId, executionId?, status: 'succeeded' | 'failed', output |
 * error}` signed with `x-maxai-signature`. `correlationId` is the one our trigger put in the
 * payload and the only way to find the waiting run: n8n's "Respond: Immediately" answer names no
 * execution, so a callback without it could resume nothing and is refused as unparseable.
 */
export const n8nWebhooks: WebhookProvider = {
  name: 'n8n',
  contentTypes: ['application/json'],
  // The workflow's HTTP Request node only needs a 2xx.
  acknowledgement: { status: 200, body: '' },
  verify(request, secrets, now) {
    if (secrets.provider !== 'n8n') return { valid: false, reason: 'bad_signature' };
    const check = checkN8nCallback(
      secrets.secret,
      request.rawBody,
      request.headers[N8N_SIGNATURE_HEADER],
      now,
    );
    return verificationResult(check, 'maxai-n8n-v1');
  },
  normalize: neverThrows(normalizeN8n),
};

function normalizeN8n(request: InboundWebhook): NormalizationResult {
  const body = parseJsonObject(request.rawBody);
  if (!body) return unparseable('body is not a JSON object');
  const correlationId = text(body.correlationId);
  const status = text(body.status);
  if (correlationId === undefined || status === undefined) {
    return unparseable('an n8n callback needs a correlationId and a status', undefined, CALLBACK);
  }
  return {
    ok: true,
    providerEventId: `${correlationId}:${status}`,
    providerEventType: CALLBACK,
    attribution: {},
    events: [
      {
        type: CALLBACK_TYPE,
        subject: correlationId,
        data: compact({
          provider: 'n8n',
          correlationId,
          executionId: idText(body.executionId),
          status,
          output: body.output,
          error: body.error,
        }),
      },
    ],
  };
}
