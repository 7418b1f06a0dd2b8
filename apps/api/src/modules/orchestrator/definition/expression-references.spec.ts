import { describe, expect, it } from 'vitest';
import { scopeReferences, stepReferences } from './expression-references';

describe('scopeReferences', () => {
  it.each([
    ['steps.a.output', [['steps', 'a']]],
    ['$steps.b.output', [['steps', 'b']]],
    ['$$.steps.c.output', [['steps', 'c']]],
    ['$.steps.d', [['steps', 'd']]],
    ['(steps.e).output', [['steps', 'e']]],
    ['steps.`f g`.output', [['steps', 'f g']]],
    ['$f := function() { steps.h.output }', [['steps', 'h']]],
    [
      '$count(steps.i.output) > 0 ? steps.j.output : $$.vars.k',
      [
        ['steps', 'i'],
        ['steps', 'j'],
        ['vars', 'k'],
      ],
    ],
    [
      'vars.x & event.data.y',
      [
        ['vars', 'x'],
        ['event', 'data'],
      ],
    ],
    ['$vars.q', [['vars', 'q']]],
    ['$lookup(steps, "z")', [['steps', undefined]]],
    ['steps["z"]', [['steps', undefined]]],
    ['"steps.a"', []],
    ['$steps', []],
    ['1 + 2', []],
  ])('%s reads %j', (source, expected) => {
    expect(scopeReferences(source).map((r) => [r.root, r.member])).toEqual(expected);
  });

  it('gives the position of the reference', () => {
    expect(scopeReferences('  steps.a')[0]?.position).toBe(7);
  });

  it('conservatively counts paths inside predicates as well', () => {
    expect(stepReferences('event.data.items[steps.k.output = 1]').map((r) => r.member)).toEqual([
      'k',
    ]);
    expect(stepReferences('$lookup(steps, "dynamic") & vars.steps')).toEqual([]);
  });

  it('needs an expression that compiles', () => {
    expect(() => scopeReferences('steps.')).toThrow();
  });
});
