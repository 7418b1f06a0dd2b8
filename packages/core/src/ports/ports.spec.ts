import { describe, expect, it } from 'vitest';
import { messageQueryLimit, smsSegments } from './messaging';
import { ProviderError } from './provider';

describe('smsSegments', () => {
  it.each([
    ['', 1, 'GSM-7'],
    ['Hello!', 1, 'GSM-7'],
    ['a'.repeat(160), 1, 'GSM-7'],
    ['a'.repeat(161), 2, 'GSM-7'],
    ['a'.repeat(306), 2, 'GSM-7'],
    ['a'.repeat(307), 3, 'GSM-7'],
    // Extension characters count twice: 80 × "€" is 160 septets.
    ['€'.repeat(80), 1, 'GSM-7'],
    ['€'.repeat(81), 2, 'GSM-7'],
    ['Olá 😀', 1, 'UCS-2'],
    ['ç'.repeat(70), 1, 'UCS-2'],
    ['ç'.repeat(71), 2, 'UCS-2'],
    ['ç'.repeat(135), 3, 'UCS-2'],
  ])('counts %j as %i segment(s) of %s', (body, segments, encoding) => {
    expect(smsSegments(body)).toEqual({ segments, encoding });
  });
});

describe('messageQueryLimit', () => {
  it.each([
    [undefined, 20],
    [Number.NaN, 20],
    [Number.POSITIVE_INFINITY, 20],
    [1, 1],
    [7.9, 7],
    [0, 1],
    [-5, 1],
    [100, 100],
    [101, 100],
  ])('takes %s as %i', (limit, expected) => {
    expect(messageQueryLimit(limit)).toBe(expected);
  });
});

describe('ProviderError', () => {
  it('retries only transient and rate-limited failures', () => {
    const make = (kind: ProviderError['kind']) =>
      new ProviderError({ kind, provider: 'twilio', message: kind, retryAfterMs: 1000 });
    expect(make('transient').retryable).toBe(true);
    expect(make('rate_limited').retryable).toBe(true);
    for (const kind of ['auth', 'invalid', 'not_found'] as const) {
      expect(make(kind).retryable).toBe(false);
    }
    expect(make('rate_limited')).toMatchObject({ name: 'ProviderError', retryAfterMs: 1000 });
  });
});
