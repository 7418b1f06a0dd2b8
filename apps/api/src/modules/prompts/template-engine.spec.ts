import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bodyBytes,
  compileBody,
  engine,
  MAX_OUTPUT_CHARS,
  RenderFailure,
  renderBody,
  type CompiledBody,
} from './template-engine';

function compiled(content: string): CompiledBody {
  const result = compileBody({ kind: 'text', content });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.compiled;
}

const text = (content: string, variables: Record<string, unknown>): string => {
  const out = renderBody(compiled(content), variables);
  if (out instanceof RenderFailure) throw new Error(out.message);
  return out.kind === 'text' ? out.text : out.messages.map((m) => m.content).join('|');
};

function failure(content: string, variables: Record<string, unknown>): RenderFailure {
  const out = renderBody(compiled(content), variables);
  if (!(out instanceof RenderFailure)) throw new Error('expected a render failure');
  return out;
}

describe('the prompt template language (Liquid, locked down)', () => {
  it('renders variables, filters, conditions and loops', () => {
    expect(text('Hi {{ name | capitalize }}!', { name: 'ana' })).toBe('Hi Ana!');
    expect(
      text(
        '{% for s in slots %}{{ forloop.index }}. {{ s.time }}{% unless forloop.last %}, {% endunless %}{% endfor %}',
        {
          slots: [{ time: '9:00' }, { time: '10:30' }],
        },
      ),
    ).toBe('1. 9:00, 2. 10:30');
    expect(text('{% if vip %}Welcome back{% else %}Hello{% endif %}', { vip: true })).toBe(
      'Welcome back',
    );
    expect(text('{% assign n = items | size %}{{ n }} items', { items: [1, 2, 3] })).toBe(
      '3 items',
    );
    // Prompts are not HTML: nothing is escaped.
    expect(text('{{ q }}', { q: '<b>"x" & y</b>' })).toBe('<b>"x" & y</b>');
  });

  it('renders an optional variable as a condition or through default, and refuses a missing one', () => {
    expect(text('{% if nick %}({{ nick }}){% endif %}{{ nick | default: "friend" }}', {})).toBe(
      'friend',
    );
    const missing = failure('Hi {{ name }}', {});
    expect(missing.undefinedVariable).toBe('name');
  });

  it('cannot reach prototypes, functions or anything but the variables', () => {
    const probes: [string, Record<string, unknown>][] = [
      ['{{ constructor }}', {}],
      ['{{ a.__proto__ }}', { a: {} }],
      ['{{ a["__proto__"] }}', { a: {} }],
      ['{{ a.constructor.name }}', { a: {} }],
      ['{{ s.constructor }}', { s: 'text' }],
      ['{{ s.toString }}', { s: 'text' }],
      ['{{ list.constructor }}', { list: [1] }],
      ['{{ process }}', {}],
      ['{{ global }}', {}],
      ['{{ this }}', {}],
    ];
    for (const [template, variables] of probes) {
      const error = failure(template, variables);
      expect(error.undefinedVariable, template).toBeDefined();
    }
    // Filters that read properties see own properties only: nothing comes out.
    expect(text('[{{ items | map: "constructor" | join: "," }}]', { items: [{}, {}] })).toBe('[,]');
    expect(text('{{ items | map: "__proto__" | size }}', { items: [{}] })).toBe('1');
    // An own property is data, whatever its name.
    expect(text('{{ constructor }}', { constructor: 'mine' })).toBe('mine');
    expect(
      text('{{ a.__proto__ }}', JSON.parse('{"a":{"__proto__":"own"}}') as Record<string, unknown>),
    ).toBe('own');
  });

  it('has no tags that reach files or other templates', () => {
    for (const tag of [
      '{% include "x" %}',
      '{% render "x" %}',
      '{% layout "x" %}',
      '{% block b %}{% endblock %}',
    ]) {
      const result = compileBody({ kind: 'text', content: tag });
      expect(result.ok, tag).toBe(false);
    }
    expect(Object.keys(engine.tags)).not.toContain('include');
  });

  it('reports syntax errors with line and column, every message of a chat prompt', () => {
    const result = compileBody({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'fine {{ a }}' },
        { role: 'user', content: 'line one\n  {% if x %}never closed' },
        { role: 'assistant', content: '{{ x | no_such_filter }}' },
      ],
    });
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          field: 'body.messages.1.content',
          line: 2,
          column: 3,
          message: expect.stringContaining('not closed'),
        },
        {
          field: 'body.messages.2.content',
          line: 1,
          column: 1,
          message: expect.stringContaining('undefined filter: no_such_filter'),
        },
      ],
    });
    // Past liquidjs' parse limit (the service refuses such sizes before): reported at the top.
    const huge = compileBody({ kind: 'text', content: 'x'.repeat(70_000) });
    expect(huge).toMatchObject({
      ok: false,
      issues: [
        { field: 'body.content', line: 1, column: 1, message: 'parse length limit exceeded' },
      ],
    });
    const unclosed = compileBody(
      { kind: 'text', content: 'a\nb\n   {{ x' },
      'body.prompts.0.versions.1',
    );
    expect(unclosed).toMatchObject({
      ok: false,
      issues: [{ field: 'body.prompts.0.versions.1.content', line: 3, column: 4 }],
    });
  });

  it('lists the variables a template reads from its caller, not the ones it makes itself', () => {
    const result = compileBody({
      kind: 'text',
      content:
        '{% assign g = greeting | default: "Hi" %}{{ g }} {{ user.name }}\n{% for s in slots %}{{ s }}{% endfor %}',
    });
    expect(result.ok && result.variables.map((v) => [v.name, v.line])).toEqual([
      ['greeting', 1],
      ['user', 1],
      ['slots', 2],
    ]);
  });

  it('stops runaway templates: time, allocations and output size', () => {
    const loop = failure('{% for i in (1..100000000) %}{{ i }}{% endfor %}', {});
    expect(loop.undefinedVariable).toBeUndefined();
    const nested = failure(
      '{% for i in (1..3000) %}{% for j in (1..3000) %}{{ j }}{% endfor %}{% endfor %}',
      {},
    );
    expect(nested.message).toMatch(/limit/);
    const doubling = failure(
      '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
      {},
    );
    expect(doubling.message).toMatch(/limit/);
    const big = 'x'.repeat(300_000);
    expect(failure('{{ v }}{{ v }}{{ v }}{{ v }}', { v: big }).message).toMatch(
      String(MAX_OUTPUT_CHARS),
    );
    const chat = compileBody({
      kind: 'chat',
      messages: [
        { role: 'user', content: '{{ v }}{{ v }}' },
        { role: 'user', content: '{{ v }}{{ v }}' },
      ],
    });
    if (!chat.ok) throw new Error('chat did not compile');
    expect(renderBody(chat.compiled, { v: big })).toBeInstanceOf(RenderFailure);
  });

  it('renders chat messages in order with their roles', () => {
    const chat = compileBody({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'You work at {{ business }}.' },
        { role: 'user', content: '{{ question }}' },
      ],
    });
    if (!chat.ok) throw new Error('chat did not compile');
    expect(
      renderBody(chat.compiled, { business: 'Bright Smiles', question: 'Open today?' }),
    ).toEqual({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'You work at Bright Smiles.' },
        { role: 'user', content: 'Open today?' },
      ],
    });
    expect(bodyBytes({ kind: 'chat', messages: [{ role: 'user', content: 'é' }] })).toBe(2);
  });

  it('outputs any string variable verbatim and never throws on arbitrary text (property)', () => {
    const template = compiled('<{{ v }}>');
    fc.assert(
      fc.property(fc.string(), (v) => {
        const out = renderBody(template, { v });
        expect(out).toEqual({ kind: 'text', text: `<${v}>` });
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (source) => {
        const result = compileBody({ kind: 'text', content: source });
        if (result.ok) return;
        for (const issue of result.issues) {
          expect(issue.line).toBeGreaterThanOrEqual(1);
          expect(issue.line).toBeLessThanOrEqual(source.split('\n').length);
          expect(issue.column).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });
});
