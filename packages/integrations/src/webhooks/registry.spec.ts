import { describe, expect, it } from 'vitest';
import * as integrations from '@maxai/integrations';
import { WEBHOOK_PROVIDERS } from './contract';
import { neverThrows, isoFromMs, integer } from './payload-fields';
import { WEBHOOK_PROVIDER_REGISTRY, webhookProvider } from './registry';
import { canonicalBase64, parseTimestampedSignatures, safeEqual } from './signature-check';

describe('WEBHOOK_PROVIDER_REGISTRY', () => {
  it('has one provider per name, each under its own name', () => {
    expect(Object.keys(WEBHOOK_PROVIDER_REGISTRY).sort()).toEqual([...WEBHOOK_PROVIDERS].sort());
    for (const name of WEBHOOK_PROVIDERS) {
      expect(WEBHOOK_PROVIDER_REGISTRY[name].name).toBe(name);
      expect(webhookProvider(name)).toBe(WEBHOOK_PROVIDER_REGISTRY[name]);
    }
  });

  it('finds nothing for other names, prototype members included', () => {
    for (const name of ['', 'Stripe', 'paypal', '__proto__', 'toString', 'constructor']) {
      expect(webhookProvider(name), name).toBeUndefined();
    }
  });

  it('declares the media types and acknowledgements the providers expect', () => {
    const declared = Object.fromEntries(
      WEBHOOK_PROVIDERS.map((name) => [
        name,
        {
          contentTypes: WEBHOOK_PROVIDER_REGISTRY[name].contentTypes,
          status: WEBHOOK_PROVIDER_REGISTRY[name].acknowledgement.status,
        },
      ]),
    );
    expect(declared).toEqual({
      stripe: { contentTypes: ['application/json'], status: 200 },
      twilio: {
        contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
        status: 200,
      },
      retell: { contentTypes: ['application/json'], status: 200 },
      gohighlevel: { contentTypes: ['application/json'], status: 200 },
      google: { contentTypes: [], status: 200 },
      n8n: { contentTypes: ['application/json'], status: 200 },
    });
  });

  it('is exported from the package with the vendors’ providers', () => {
    expect(integrations.webhookProvider('retell')).toBe(integrations.retellWebhooks);
    expect(integrations.WEBHOOK_PROVIDER_REGISTRY.gohighlevel).toBe(
      integrations.gohighlevelWebhooks,
    );
    expect(integrations.EVENT_TYPES['maxai.calendar.changed'].description).toMatch(/calendar/);
    expect(integrations.eventMappingMarkdown()).toContain('maxai.voice.call.ended');
    for (const name of [
      'stripeWebhooks',
      'twilioWebhooks',
      'googleWebhooks',
      'n8nWebhooks',
      'checkStripeSignature',
      'checkRetellSignature',
      'checkN8nCallback',
      'checkGhlWebhookSignature',
      'parseTwilioForm',
      'WEBHOOK_EVENT_MAPPINGS',
      'WEBHOOK_PROVIDERS',
    ]) {
      expect(integrations, name).toHaveProperty(name);
    }
  });
});

describe('webhook helpers', () => {
  it('neverThrows turns an overlooked exception into unparseable', () => {
    const failing = neverThrows(() => {
      throw new TypeError('boom');
    });
    expect(failing({ rawBody: Buffer.alloc(0), headers: {}, publicUrl: '' })).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: 'normalizer failed: TypeError',
      providerEventId: undefined,
      providerEventType: undefined,
    });
    const throwsString = neverThrows(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what foreign code may do
      throw 'plain';
    });
    expect(throwsString({ rawBody: Buffer.alloc(0), headers: {}, publicUrl: '' })).toMatchObject({
      detail: 'normalizer failed: error',
    });
  });

  it('reads times and integers only when they are representable', () => {
    expect(isoFromMs(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoFromMs(Number.NaN)).toBeUndefined();
    expect(isoFromMs(9e15)).toBeUndefined();
    expect(isoFromMs(300_000_000_000_000)).toBeUndefined(); // year 11476: five digits
    expect(isoFromMs('0')).toBeUndefined();
    expect(integer('42')).toBe(42);
    expect(integer('-7')).toBe(-7);
    expect(integer('4.2')).toBeUndefined();
    expect(integer(2 ** 60)).toBeUndefined();
  });

  it('compares in constant time and parses timestamped headers strictly', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(parseTimestampedSignatures('t=1,v1=a,v1=b=c')).toEqual({
      timestampS: 1,
      signatures: ['a', 'b=c'],
    });
    expect(parseTimestampedSignatures(`t=${'9'.repeat(16)},v1=a`)).toBeUndefined();
    expect(canonicalBase64('YQ==')).toEqual(Buffer.from('a'));
    expect(canonicalBase64('YR==')).toBeUndefined();
    expect(canonicalBase64('YQ')).toBeUndefined();
  });
});
