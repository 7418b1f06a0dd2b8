import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DOCUMENT_CHARS, parseFlowDocument } from './parse-flow-document';

describe('parseFlowDocument', () => {
  it('parses JSON and YAML', () => {
    expect(parseFlowDocument('{"a": [1, "=x"]}', 'json')).toEqual({
      ok: true,
      value: { a: [1, '=x'] },
    });
    expect(parseFlowDocument('a:\n  - 1\n  - =x\nb: 2026-12-01\nc: on\n', 'yaml')).toEqual({
      ok: true,
      // YAML 1.2 core schema: dates and on/off stay strings.
      value: { a: [1, '=x'], b: '2026-12-01', c: 'on' },
    });
  });

  it('reports JSON syntax errors with line and column', () => {
    expect(parseFlowDocument('{\n  "a": 1,\n}', 'json')).toEqual({
      ok: false,
      errors: [
        { pointer: '', message: expect.stringContaining('JSON') as string, line: 3, column: 1 },
      ],
    });
    expect(parseFlowDocument('{\n "a": x}', 'json')).toMatchObject({
      errors: [{ line: 2, column: 7 }],
    });
  });

  it.each([
    ['a: 1\nb: [1, 2\n', 3, 1, 'Flow sequence'],
    ['a: 1\na: 2\n', 2, 1, 'Map keys must be unique'],
    ['x: !!binary aGVsbG8=\n', 1, 4, 'Unresolved tag'],
    ['x: !custom y\n', 1, 4, 'Unresolved tag'],
    ['\t- a', 1, 1, 'Tabs'],
  ])('reports the YAML problem in %j at %i:%i', (text, line, column, message) => {
    const parsed = parseFlowDocument(text, 'yaml');
    expect(parsed.ok).toBe(false);
    expect(parsed).toMatchObject({ errors: [{ pointer: '', line, column }] });
    expect(JSON.stringify(parsed)).toContain(message);
    expect(JSON.stringify(parsed)).not.toContain('at line');
  });

  it('refuses alias bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(parseFlowDocument(bomb, 'yaml')).toMatchObject({
      ok: false,
      errors: [{ message: expect.stringContaining('alias') as string, line: 1, column: 1 }],
    });
  });

  it('refuses documents over the size limit', () => {
    for (const format of ['json', 'yaml'] as const) {
      expect(parseFlowDocument(' '.repeat(MAX_DOCUMENT_CHARS + 1), format)).toMatchObject({
        ok: false,
        errors: [{ message: `is longer than ${MAX_DOCUMENT_CHARS} characters` }],
      });
    }
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom('json' as const, 'yaml' as const),
        (text, format) => {
          const parsed = parseFlowDocument(text, format);
          if (!parsed.ok) {
            for (const error of parsed.errors) {
              expect(error.line).toBeGreaterThanOrEqual(1);
              expect(error.column).toBeGreaterThanOrEqual(1);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
