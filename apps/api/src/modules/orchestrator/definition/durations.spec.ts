import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, durationSeconds } from './durations';

describe('durationSeconds', () => {
  it.each([
    ['PT15M', 900],
    ['PT90S', 90],
    ['PT2H', 7200],
    ['P1D', 86_400],
    ['P1DT2H', 93_600],
    ['P2W', 1_209_600],
    ['P1W2DT3H4M5S', 788_645],
    [120, 120],
  ])('%j is %i s', (duration, seconds) => {
    expect(durationSeconds(duration)).toBe(seconds);
  });

  it.each(['P', 'PT', 'P1DT', 'P1M', 'P1Y', 'p1d', 'PT1.5H', '15M', 'P1H'])(
    'refuses %j',
    (duration) => {
      expect(durationSeconds(duration)).toBeNull();
    },
  );

  it('agrees with the published pattern on any string', () => {
    const pattern = new RegExp(DURATION_PATTERN, 'u');
    const component = fc.tuple(fc.nat(99), fc.constantFrom('W', 'D', 'H', 'M', 'S', 'Y', 'T', ''));
    const candidate = fc.oneof(
      fc.string(),
      fc
        .array(component, { maxLength: 5 })
        .map((parts) => `P${parts.map(([n, u]) => `${n}${u}`).join('')}`),
    );
    fc.assert(
      fc.property(candidate, (text) => {
        expect(durationSeconds(text) !== null).toBe(pattern.test(text));
      }),
    );
  });
});
