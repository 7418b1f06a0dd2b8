import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTraceparent, requestContext, resolveCorrelationId } from './request-context';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('resolveCorrelationId', () => {
  it('keeps a safe caller-supplied id', () => {
    expect(resolveCorrelationId({ 'x-correlation-id': 'req-42:abc' })).toBe('req-42:abc');
  });

  it('refuses ids that could forge log lines or headers', () => {
    const id = resolveCorrelationId({ 'x-correlation-id': 'a\nlevel=error' });
    expect(id).not.toContain('\n');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('falls back to the trace id of a valid traceparent', () => {
    expect(resolveCorrelationId({ traceparent: TRACE })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('generates a UUID v7 when nothing usable is given', () => {
    expect(resolveCorrelationId({})).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('only ever returns header-safe values', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (cid, tp) => {
        const id = resolveCorrelationId({ 'x-correlation-id': cid, traceparent: tp });
        expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      }),
    );
  });
});

describe('parseTraceparent', () => {
  it('parses a valid header', () => {
    expect(parseTraceparent(TRACE)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
    });
  });

  it.each([
    undefined,
    ['x'],
    'garbage',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
  ])('rejects %s', (value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe('requestContext', () => {
  it('carries the correlation id through async work', async () => {
    const seen = await requestContext.run({ correlationId: 'abc' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return requestContext.correlationId();
    });
    expect(seen).toBe('abc');
    expect(requestContext.current()).toBeUndefined();
    expect(requestContext.correlationId()).not.toBe('abc');
  });
});
