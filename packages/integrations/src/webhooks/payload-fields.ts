import type { InboundWebhook, NormalizationResult } from './contract';

/**
 * Readers for untrusted provider payloads. Normalizers take whatever a provider (or anyone
 * else) sent; these answer `undefined` rather than throw, so a normalizer only decides what a
 * missing field means.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as a JSON object, or `undefined` (not JSON, or JSON but not an object). */
export function parseJsonObject(raw: Uint8Array): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw).toString('utf8'));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A non-empty string. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An identifier given as a non-empty string or a finite number (n8n execution ids are numbers). */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return text(value);
}

/** A safe integer, given as a number or as a decimal string (form-encoded providers). */
export function integer(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

export function bool(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

// ECMAScript's Date range (±8.64e15 ms); beyond it toISOString throws.
const MAX_DATE_MS = 8.64e15;

/** Epoch milliseconds → ISO 8601 UTC, limited to four-digit years (what our schemas accept). */
export function isoFromMs(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_DATE_MS) {
    return undefined;
  }
  const iso = new Date(value).toISOString();
  return /^\d{4}-/.test(iso) ? iso : undefined;
}

/** Epoch seconds (Stripe's `created`, `current_period_end`…) → ISO 8601 UTC. */
export function isoFromSeconds(value: unknown): string | undefined {
  return typeof value === 'number' ? isoFromMs(value * 1000) : undefined;
}

/** A date string in any form `Date.parse` reads (ISO 8601 with offset, RFC 2822/1123) → UTC. */
export function isoFromDateText(value: unknown): string | undefined {
  return typeof value === 'string' ? isoFromMs(Date.parse(value)) : undefined;
}

/** The object without its `undefined` members, so optional fields are absent, not undefined. */
export function compact(fields: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

export function unparseable(
  detail: string,
  providerEventId?: string,
  providerEventType?: string,
): NormalizationResult {
  return { ok: false, reason: 'unparseable', detail, providerEventId, providerEventType };
}

export function unknownType(
  providerEventId: string | undefined,
  providerEventType: string,
): NormalizationResult {
  return {
    ok: false,
    reason: 'unknown_type',
    detail: `no mapping for event type ${JSON.stringify(providerEventType)}`,
    providerEventId,
    providerEventType,
  };
}

/**
 * The contract says a normalizer never throws. Each one is written not to; this net turns an
 * overlooked case into `unparseable` instead of a 500 that makes the provider retry for days.
 */
export function neverThrows(
  normalize: (request: InboundWebhook) => NormalizationResult,
): (request: InboundWebhook) => NormalizationResult {
  return (request) => {
    try {
      return normalize(request);
    } catch (error) {
      return unparseable(`normalizer failed: ${error instanceof Error ? error.name : 'error'}`);
    }
  };
}
