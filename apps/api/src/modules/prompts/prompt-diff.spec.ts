import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines, jsonChanges, unifiedDiff } from './prompt-diff';

/** Length of a longest common subsequence (dynamic programming): what a minimal diff keeps. */
function lcs(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] ?? 0;
      row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1] ?? 0);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 12 });

describe('line diffs', () => {
  it('rebuilds both texts and keeps a longest common subsequence (property)', () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const ops = diffLines(a, b);
        expect(ops.filter((o) => o.op !== 'add').map((o) => o.line)).toEqual(a);
        expect(ops.filter((o) => o.op !== 'remove').map((o) => o.line)).toEqual(b);
        expect(ops.filter((o) => o.op === 'equal').length).toBe(lcs(a, b));
      }),
    );
  });

  it('answers remove-all then add-all past its edit budget', () => {
    const a = Array.from({ length: 1200 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 1200 }, (_, i) => `b${i}`);
    const ops = diffLines(a, b);
    expect(ops.slice(0, 1200).every((o) => o.op === 'remove')).toBe(true);
    expect(ops.slice(1200).every((o) => o.op === 'add')).toBe(true);
  });

  it('writes unified hunks with three lines of context, merging close changes', () => {
    const from = [
      'one',
      'two',
      'three',
      'four',
      'five',
      'six',
      'seven',
      'eight',
      'nine',
      'ten',
      'eleven',
      'twelve',
    ];
    const to = [...from];
    to[1] = 'TWO';
    to[3] = 'FOUR';
    to.splice(11, 1);
    expect(unifiedDiff(from.join('\n'), to.join('\n'), 'k@1', 'k@2')).toBe(
      [
        '--- k@1',
        '+++ k@2',
        '@@ -1,7 +1,7 @@',
        ' one',
        '-two',
        '+TWO',
        ' three',
        '-four',
        '+FOUR',
        ' five',
        ' six',
        ' seven',
        '@@ -9,4 +9,3 @@',
        ' nine',
        ' ten',
        ' eleven',
        '-twelve',
        '',
      ].join('\n'),
    );
    expect(unifiedDiff('same', 'same', 'a', 'b')).toBe('');
    expect(unifiedDiff('', 'new', 'a', 'b')).toBe('--- a\n+++ b\n@@ -1,1 +1,1 @@\n-\n+new\n');
    expect(unifiedDiff('x\ny', 'x', 'a', 'b')).toBe('--- a\n+++ b\n@@ -1,2 +1,1 @@\n x\n-y\n');
  });

  it('lists changed settings leaf by leaf', () => {
    expect(
      jsonChanges(
        { model: 'a', temperature: 0.2, responseFormat: { type: 'text' } },
        { model: 'a', maxTokens: 100, responseFormat: { type: 'json_object' } },
        'modelSettings',
      ),
    ).toEqual([
      { field: 'modelSettings.maxTokens', from: null, to: 100 },
      { field: 'modelSettings.responseFormat.type', from: 'text', to: 'json_object' },
      { field: 'modelSettings.temperature', from: 0.2, to: null },
    ]);
    expect(jsonChanges(['a'], ['a', 'b'], 'tags')).toEqual([
      { field: 'tags', from: ['a'], to: ['a', 'b'] },
    ]);
    expect(jsonChanges({ a: 1 }, { a: 1 }, 'x')).toEqual([]);
  });
});
