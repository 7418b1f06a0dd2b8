import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../platform/errors/problem';
import type { VersionInput } from './dto/prompt-schemas';
import { compileStored, contentHash, prepareVersion } from './prompt-version';
import type { VersionRow } from './prompts.repository';
import { MAX_TEMPLATE_BYTES } from './template-engine';

const input = (over: Partial<VersionInput>): VersionInput => ({
  modelSettings: {},
  tags: [],
  changeNote: '',
  ...over,
});

function problem(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('expected a problem');
}

describe('preparing a version', () => {
  it('compiles a text version and derives its schema from the variables it reads', () => {
    const prepared = prepareVersion(
      'text',
      input({ content: 'Hi {{ name }} from {{ place.city }}' }),
    );
    expect(prepared.variablesSchema).toEqual({
      type: 'object',
      properties: { name: {}, place: {} },
      required: ['name', 'place'],
    });
    expect(prepared.compiled.validate({ name: 'a', place: {} })).toBe(true);
    expect(prepared.messages).toBeNull();
  });

  it('takes content for text and messages for chat, nothing else', () => {
    expect(
      problem(() => prepareVersion('text', input({ messages: [{ role: 'user', content: 'x' }] }))),
    ).toMatchObject({
      problemType: 'validation-error',
      extensions: { errors: [{ field: 'body.content' }] },
    });
    expect(problem(() => prepareVersion('chat', input({ content: 'x' })))).toMatchObject({
      problemType: 'validation-error',
      extensions: { errors: [{ field: 'body.messages' }] },
    });
    expect(
      prepareVersion('chat', input({ messages: [{ role: 'user', content: 'x' }] })).content,
    ).toBe('');
  });

  it('refuses more than 64 KiB of content or schema (413)', () => {
    const big = 'é'.repeat(MAX_TEMPLATE_BYTES / 2 + 1);
    expect(problem(() => prepareVersion('text', input({ content: big }))).status).toBe(413);
    expect(
      problem(() =>
        prepareVersion(
          'chat',
          input({
            messages: [
              { role: 'user', content: big.slice(0, 20_000) },
              { role: 'user', content: big.slice(0, 20_000) },
            ],
          }),
        ),
      ).status,
    ).toBe(413);
    const schema = { type: 'object', description: 'x'.repeat(MAX_TEMPLATE_BYTES) };
    expect(
      problem(() => prepareVersion('text', input({ content: 'hi', variablesSchema: schema })))
        .status,
    ).toBe(413);
  });

  it('refuses syntax errors and undeclared variables with line and column (422)', () => {
    expect(problem(() => prepareVersion('text', input({ content: '{% if a %}' })))).toMatchObject({
      problemType: 'template-syntax',
      extensions: { errors: [{ field: 'body.content', line: 1, column: 1 }] },
    });
    const undeclared = problem(() =>
      prepareVersion(
        'text',
        input({
          content: 'Hi {{ name }}\n{{ constructor }}',
          variablesSchema: { type: 'object', properties: { name: { type: 'string' } } },
        }),
      ),
    );
    expect(undeclared).toMatchObject({
      problemType: 'template-syntax',
      extensions: {
        errors: [
          {
            field: 'body.content',
            line: 2,
            column: 4,
            message: expect.stringContaining('"constructor"'),
          },
        ],
      },
    });
  });

  it('refuses an invalid variables schema (422)', () => {
    expect(
      problem(() =>
        prepareVersion('text', input({ content: 'x', variablesSchema: { type: 'array' } })),
      ),
    ).toMatchObject({ problemType: 'unprocessable-content', status: 422 });
  });

  it('hashes what renders, independent of key order, tags and notes', () => {
    const a = prepareVersion(
      'text',
      input({
        content: 'x',
        modelSettings: { model: 'm', temperature: 0.5 },
        tags: ['a'],
        changeNote: 'one',
      }),
    );
    const b = prepareVersion(
      'text',
      input({
        content: 'x',
        modelSettings: { temperature: 0.5, model: 'm' },
        tags: ['b'],
        changeNote: 'two',
      }),
    );
    expect(a.contentHash).toBe(b.contentHash);
    expect(a.contentHash).not.toBe(prepareVersion('text', input({ content: 'y' })).contentHash);
    expect(contentHash({ kind: 'text', content: 'x' }, {}, {})).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compiles stored versions, and says so loudly when one no longer compiles', () => {
    const row = {
      id: 'v1',
      content: '',
      messages: [{ role: 'user', content: 'Hi {{ n }}' }],
      variablesSchema: { type: 'object' },
    } as unknown as VersionRow;
    expect(compileStored(row).body.kind).toBe('chat');
    expect(compileStored({ ...row, content: 'Hi', messages: null }).body.kind).toBe('text');
    expect(() => compileStored({ ...row, content: '{% if %}', messages: null })).toThrow(
      /no longer compiles/,
    );
    expect(() => compileStored({ ...row, variablesSchema: { type: 'array' } })).toThrow(
      /no longer compiles/,
    );
  });
});
