import Ajv, { type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type {
  InboundWebhook,
  NormalizationResult,
  WebhookProvider,
  WebhookSecrets,
} from '../src/webhooks/contract';
import {
  EVENT_TYPES,
  WEBHOOK_EVENT_MAPPINGS,
  type MaxaiEventType,
} from '../src/webhooks/event-types';

/** Shared helpers of the vendors' webhook.spec.ts files. */

export function fixture(vendor: string, name: string): Buffer {
  return readFileSync(path.resolve(__dirname, '../src', vendor, 'fixtures', name));
}

export function inbound(
  rawBody: Buffer | string,
  headers: Record<string, string | undefined> = {},
  publicUrl = 'https://hooks.maxai.example/webhooks/test',
): InboundWebhook {
  return {
    rawBody: typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody,
    headers,
    publicUrl,
  };
}

const ajv = new Ajv({ strict: true, allErrors: true });
const validators = new Map<string, ValidateFunction>();

/** Asserts each event's data against its published schema (and that the type is published). */
export function expectSchemaValid(result: NormalizationResult): void {
  expect(result.ok).toBe(true);
  if (!result.ok) return;
  for (const event of result.events) {
    expect(Object.keys(EVENT_TYPES)).toContain(event.type);
    const definition = EVENT_TYPES[event.type as MaxaiEventType];
    let validate = validators.get(event.type);
    if (!validate) {
      validate = ajv.compile(definition.schema);
      validators.set(event.type, validate);
    }
    const valid = validate(event.data);
    expect(validate.errors ?? [], event.type).toEqual([]);
    expect(valid).toBe(true);
  }
}

/** Asserts the result agrees with the published mapping table row of its provider event. */
export function expectMappedAsPublished(provider: string, result: NormalizationResult): void {
  expect(result.ok).toBe(true);
  if (!result.ok) return;
  const row = WEBHOOK_EVENT_MAPPINGS.find(
    (mapping) =>
      mapping.provider === provider && mapping.providerEventType === result.providerEventType,
  );
  expect(row, `${provider} ${result.providerEventType}`).toBeDefined();
  for (const event of result.events) expect(event.type).toBe(row?.maxaiType);
}

/** Changes one byte of `bytes` (position modulo length, delta 1..255 modulo 256). */
export function flipByte(bytes: Buffer, position: number, delta: number): Buffer {
  const copy = Buffer.from(bytes);
  const at = position % copy.length;
  copy[at] = ((copy[at] ?? 0) + delta) % 256;
  return copy;
}

/** Changes one character of a header value (as latin1 bytes, the way HTTP carries headers). */
export function flipHeaderByte(value: string, position: number, delta: number): string {
  return flipByte(Buffer.from(value, 'latin1'), position, delta).toString('latin1');
}

export const positions = fc.integer({ min: 0, max: 1_000_000 });
export const deltas = fc.integer({ min: 1, max: 255 });

/** Random requests: any bytes, any headers (including the ones providers use), any URL. */
export function arbitraryRequest(headerNames: string[]): fc.Arbitrary<InboundWebhook> {
  const headerValue = fc.oneof(fc.string(), fc.constant(''), fc.constant(undefined));
  return fc.record({
    rawBody: fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
      fc.json().map((json) => Buffer.from(json)),
      fc
        .dictionary(fc.string(), fc.string())
        .map((params) => Buffer.from(new URLSearchParams(params).toString())),
    ),
    headers: fc.record(Object.fromEntries(headerNames.map((name) => [name, headerValue]))),
    publicUrl: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string()),
  });
}

/** verify and normalize never throw, whatever arrives. */
export function expectTotal(
  provider: WebhookProvider,
  secrets: WebhookSecrets,
  headerNames: string[],
): void {
  fc.assert(
    fc.property(arbitraryRequest(headerNames), fc.integer(), (request, now) => {
      const verified = provider.verify(request, secrets, now);
      expect(typeof verified.valid).toBe('boolean');
      const normalized = provider.normalize(request);
      expect(typeof normalized.ok).toBe('boolean');
    }),
    { numRuns: 300 },
  );
}
