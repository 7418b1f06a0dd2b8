import { Liquid, LiquidError, type Template } from 'liquidjs';
import type { ChatMessage } from '@maxai/db';

/** A template's content (all messages together for chat) may not exceed this many bytes. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;
/** Longest rendered output (characters): past it a render fails instead of answering megabytes. */
export const MAX_OUTPUT_CHARS = 1_000_000;
/** Wall-clock budget of one render (liquidjs checks it between nodes). */
const RENDER_LIMIT_MS = 100;
/** liquidjs' allocation budget per render (ranges, joins, appends…): stops runaway loops. */
const MEMORY_LIMIT = 10_000_000;

/** Tags that reach files or other templates: none of them exists in this dialect. */
const FORBIDDEN_TAGS = ['include', 'render', 'layout', 'block'] as const;

/**
 * The one Liquid engine, configured so that a template can read its variables and nothing else:
 * - `ownPropertyOnly`: `{{ a.constructor }}`, `{{ a.__proto__ }}` find nothing (only own
 *   properties of the variables are visible), so prototypes and functions are out of reach;
 * - `strictVariables`: reading an undefined variable is an error, not a silent blank (except
 *   as an `if`/`unless` condition or before `| default`, `lenientIf`), and `strictFilters`
 *   refuses unknown filters when the template is parsed;
 * - no file system or other templates: `include`, `render`, `layout` and `block` are removed and
 *   lookups go to an empty in-memory map, so nothing outside the template is ever read;
 * - no globals, no custom filters or tags, dates in UTC (the same output on every replica);
 * - limits against denial of service: template length, render time, allocations and output.
 * Liquid itself never evaluates JavaScript: its expressions are variables, literals, ranges,
 * comparisons and the built-in filters.
 */
export const engine = new Liquid({
  strictVariables: true,
  strictFilters: true,
  lenientIf: true,
  ownPropertyOnly: true,
  jsTruthy: false,
  templates: {},
  dynamicPartials: false,
  relativeReference: false,
  timezoneOffset: 0,
  cache: false,
  parseLimit: MAX_TEMPLATE_BYTES,
  renderLimit: RENDER_LIMIT_MS,
  memoryLimit: MEMORY_LIMIT,
});
for (const tag of FORBIDDEN_TAGS) Reflect.deleteProperty(engine.tags, tag);

/** Where in the request a problem sits, and at which line and column of that template. */
export interface TemplateIssue {
  field: string;
  message: string;
  line: number;
  column: number;
}

/** A variable the template reads from its caller (not one it assigns or loops over itself). */
export interface VariableUse {
  name: string;
  field: string;
  line: number;
  column: number;
}

export type PromptBody =
  { kind: 'text'; content: string } | { kind: 'chat'; messages: readonly ChatMessage[] };

export type CompiledBody =
  | { kind: 'text'; text: Template[] }
  | { kind: 'chat'; messages: { role: ChatMessage['role']; template: Template[] }[] };

export type RenderedBody =
  { kind: 'text'; text: string } | { kind: 'chat'; messages: ChatMessage[] };

export type CompileResult =
  | { ok: true; compiled: CompiledBody; variables: VariableUse[] }
  | { ok: false; issues: TemplateIssue[] };

/** Bytes of a body's content: the text, or every message's content. */
export function bodyBytes(body: PromptBody): number {
  return body.kind === 'text'
    ? Buffer.byteLength(body.content)
    : body.messages.reduce((n, m) => n + Buffer.byteLength(m.content), 0);
}

/**
 * Parses every template of a body and lists the variables they read, or every syntax error
 * (fields named under `prefix`, e.g. `body.content`, `body.messages.2.content`).
 */
export function compileBody(body: PromptBody, prefix = 'body'): CompileResult {
  const issues: TemplateIssue[] = [];
  const variables: VariableUse[] = [];
  const parse = (source: string, field: string): Template[] => {
    try {
      const templates = engine.parse(source);
      variables.push(...globalsOf(templates, field));
      return templates;
    } catch (error) {
      issues.push(issueOf(error, field));
      return [];
    }
  };
  const compiled: CompiledBody =
    body.kind === 'text'
      ? { kind: 'text', text: parse(body.content, `${prefix}.content`) }
      : {
          kind: 'chat',
          messages: body.messages.map((m, i) => ({
            role: m.role,
            template: parse(m.content, `${prefix}.messages.${i}.content`),
          })),
        };
  return issues.length > 0 ? { ok: false, issues } : { ok: true, compiled, variables };
}

/** Failure of a render: a variable the template reads is missing, or a limit was hit. */
export class RenderFailure {
  constructor(
    readonly message: string,
    /** The missing variable's path (`a.b`), when that is the cause. */
    readonly undefinedVariable?: string,
  ) {}
}

/**
 * Renders a compiled body with the caller's variables (synchronously: no filter or tag of this
 * dialect does I/O). The variables are the whole scope: nothing else is visible. A failure is
 * answered, not thrown: it is the caller's input that failed, not the platform.
 */
export function renderBody(
  compiled: CompiledBody,
  variables: Record<string, unknown>,
): RenderedBody | RenderFailure {
  try {
    if (compiled.kind === 'text') {
      return { kind: 'text', text: renderOne(compiled.text, variables, 0) };
    }
    let total = 0;
    const messages = compiled.messages.map((m) => {
      const content = renderOne(m.template, variables, total);
      total += content.length;
      return { role: m.role, content };
    });
    return { kind: 'chat', messages };
  } catch (error) {
    return failureOf(error);
  }
}

function renderOne(templates: Template[], variables: Record<string, unknown>, before: number) {
  const text = String(engine.renderSync(templates, variables));
  if (before + text.length > MAX_OUTPUT_CHARS) {
    throw new Error(`The rendered prompt exceeds ${MAX_OUTPUT_CHARS} characters.`);
  }
  return text;
}

/** Liquid's messages end in ", line:1, col:4": the position is reported apart. */
const withoutPosition = (message: string) =>
  message.replace(/^\w*Error: /, '').replace(/, line:\d+, col:\d+$/, '');

/** A property of a thrown value, whatever was thrown. */
const propertyOf = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

function failureOf(error: unknown): RenderFailure {
  const variable = propertyOf(propertyOf(error, 'originalError'), 'variableName');
  if (typeof variable === 'string') {
    return new RenderFailure(`undefined variable: ${variable}`, variable);
  }
  return new RenderFailure(withoutPosition(String(error)));
}

function globalsOf(templates: Template[], field: string): VariableUse[] {
  const analysis = engine.analyzeSync(templates);
  return Object.entries(analysis.globals).flatMap(([name, uses]) =>
    uses.map((use) => ({ name, field, line: use.location.row, column: use.location.col })),
  );
}

function issueOf(error: unknown, field: string): TemplateIssue {
  // Liquid's errors carry the token where they happened; anything else (a limit) is at the top.
  const [line, column] = LiquidError.is(error)
    ? (error.token.getPosition() as [number, number])
    : [1, 1];
  return { field, message: withoutPosition(String(error)), line, column };
}
