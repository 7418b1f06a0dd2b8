import YAML from 'yaml';
import type { FlowIssue } from './flow-types';
import { jsonErrorOffset } from './json-error-offset';

export const MAX_DOCUMENT_CHARS = 256 * 1024;

/** A syntax error: pointer '' (the document), with its 1-based line and column. */
export interface ParseIssue extends FlowIssue {
  line: number;
  column: number;
}

export type ParsedDocument = { ok: true; value: unknown } | { ok: false; errors: ParseIssue[] };

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

function parseJson(text: string): ParsedDocument {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as SyntaxError).message;
    const offset = jsonErrorOffset(text);
    return { ok: false, errors: [{ pointer: '', message, ...lineColumn(text, offset) }] };
  }
}

function parseYaml(text: string): ParsedDocument {
  // Only the core schema's tags: `!!binary` and friends stay unresolved (and are refused).
  const document = YAML.parseDocument(text, { uniqueKeys: true, resolveKnownTags: false });
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    return {
      ok: false,
      errors: problems.map((problem) => ({
        pointer: '',
        message: problem.message.replace(/ at line \d+, column \d+[\s\S]*$/, ''),
        ...lineColumn(text, problem.pos[0]),
      })),
    };
  }
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (error) {
    // Alias expansion beyond the limit (a "billion laughs" document).
    return {
      ok: false,
      errors: [{ pointer: '', message: (error as Error).message, line: 1, column: 1 }],
    };
  }
}

/** Parses a flow document; syntax errors come with line and column, never as exceptions. */
export function parseFlowDocument(text: string, format: 'json' | 'yaml'): ParsedDocument {
  if (text.length > MAX_DOCUMENT_CHARS) {
    return {
      ok: false,
      errors: [
        {
          pointer: '',
          message: `is longer than ${MAX_DOCUMENT_CHARS} characters`,
          line: 1,
          column: 1,
        },
      ],
    };
  }
  return format === 'json' ? parseJson(text) : parseYaml(text);
}
