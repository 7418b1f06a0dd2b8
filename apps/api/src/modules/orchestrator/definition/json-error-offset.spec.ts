import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from './json-error-offset';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('jsonErrorOffset', () => {
  it.each([
    ['{"a":1,}', 7],
    ['{"a":1', 6],
    ['', 0],
    ['{\n "a": x}', 8],
    ['1 2', 2],
    ['{"a" 1}', 5],
    ['"\\x"', 0],
    ['[01]', 2],
    ['{,}', 1],
    ['[,]', 1],
    ['{"a":1}}', 7],
    ['tru', 0],
    ['[1 2]', 3],
    ['{"a":[}', 6],
  ])('finds the error in %j at %i', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it.each(['[1,2,[3,{"b":[]}],{}]', ' 1 ', '{}', '[]', '"\\u00e9\\n"', '-0.5e+3', 'null'])(
    'answers -1 for valid %j',
    (text) => {
      expect(jsonErrorOffset(text)).toBe(-1);
    },
  );

  it('handles deep nesting without recursion', () => {
    expect(jsonErrorOffset('['.repeat(100_000) + ']'.repeat(100_000))).toBe(-1);
    expect(jsonErrorOffset('['.repeat(100_000))).toBe(100_000);
  });

  it('says -1 exactly when JSON.parse accepts, and otherwise an offset within the text', () => {
    const text = fc.oneof(
      fc.json(),
      fc.string({
        unit: fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '1', ' ', 'a', '\\', 'e', '-'),
      }),
      fc
        .tuple(fc.json(), fc.nat(), fc.string({ maxLength: 2 }))
        .map(
          ([json, at, insert]) =>
            json.slice(0, at % (json.length + 1)) + insert + json.slice(at % (json.length + 1)),
        ),
    );
    fc.assert(
      fc.property(text, (t) => {
        const offset = jsonErrorOffset(t);
        expect(offset === -1).toBe(parses(t));
        expect(offset).toBeLessThanOrEqual(t.length);
      }),
      { numRuns: 500 },
    );
  });
});
