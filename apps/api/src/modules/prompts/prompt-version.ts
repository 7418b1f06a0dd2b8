import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv/dist/2020';
import canonicalize from 'canonicalize';
import type { ChatMessage, PromptKind } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { VersionInput } from './dto/prompt-schemas';
import type { VersionRow } from './prompts.repository';
import {
  bodyBytes,
  compileBody,
  MAX_TEMPLATE_BYTES,
  type CompiledBody,
  type PromptBody,
} from './template-engine';
import {
  compileVariablesSchema,
  derivedSchema,
  undeclaredUses,
  type JsonSchema,
} from './variables-schema';

/** A version ready to render: its templates parsed, its variables validator compiled. */
export interface CompiledVersion {
  body: CompiledBody;
  validate: ValidateFunction;
}

/** A new version's columns, checked and compiled. */
export interface PreparedVersion {
  content: string;
  messages: ChatMessage[] | null;
  variablesSchema: JsonSchema;
  modelSettings: Record<string, unknown>;
  tags: string[];
  changeNote: string;
  contentHash: string;
  compiled: CompiledVersion;
}

/**
 * Checks a new version of a `kind` template and compiles it, or throws the problem: the wrong
 * content for the kind (400), content over 64 KiB (413), a template that does not parse or
 * reads a variable its schema does not declare (422 template-syntax, with line and column), an
 * invalid variables schema (422). Fields are named under `prefix` (`body`, or an import's path).
 */
export function prepareVersion(
  kind: PromptKind,
  input: VersionInput,
  prefix = 'body',
): PreparedVersion {
  const body = bodyOf(kind, input, prefix);
  const schemaBytes = input.variablesSchema
    ? Buffer.byteLength(JSON.stringify(input.variablesSchema))
    : 0;
  if (bodyBytes(body) > MAX_TEMPLATE_BYTES || schemaBytes > MAX_TEMPLATE_BYTES) {
    throw new ProblemError(
      'payload-too-large',
      `A template's content (and its variables schema) may hold at most ${MAX_TEMPLATE_BYTES} bytes.`,
    );
  }
  const result = compileBody(body, prefix);
  if (!result.ok) {
    throw new ProblemError('template-syntax', 'The template does not parse.', {
      errors: result.issues,
    });
  }
  const schema = input.variablesSchema ?? derivedSchema(result.variables);
  const undeclared = undeclaredUses(schema, result.variables);
  if (undeclared.length > 0) {
    throw new ProblemError(
      'template-syntax',
      'The template reads variables its variables schema does not declare.',
      {
        errors: undeclared.map((u) => ({
          field: u.field,
          line: u.line,
          column: u.column,
          message: `variable "${u.name}" is not declared in variablesSchema.properties`,
        })),
      },
    );
  }
  const check = compileVariablesSchema(schema, prefix);
  if (!check.ok) {
    throw new ProblemError('unprocessable-content', 'The variables schema is not valid.', {
      errors: check.errors,
    });
  }
  const modelSettings = input.modelSettings as Record<string, unknown>;
  return {
    content: body.kind === 'text' ? body.content : '',
    messages: body.kind === 'chat' ? [...body.messages] : null,
    variablesSchema: schema,
    modelSettings,
    tags: input.tags,
    changeNote: input.changeNote,
    contentHash: contentHash(body, schema, modelSettings),
    compiled: { body: result.compiled, validate: check.validate },
  };
}

/** A stored version's body: its messages (chat), else its content (text). */
export function bodyOfRow(row: Pick<VersionRow, 'content' | 'messages'>): PromptBody {
  return row.messages
    ? { kind: 'chat', messages: row.messages }
    : { kind: 'text', content: row.content };
}

/** Compiles a stored version (it was checked when created). */
export function compileStored(row: VersionRow): CompiledVersion {
  const result = compileBody(bodyOfRow(row));
  const check = compileVariablesSchema(row.variablesSchema);
  if (!result.ok || !check.ok) {
    throw new Error(`stored prompt version ${row.id} no longer compiles`);
  }
  return { body: result.compiled, validate: check.validate };
}

/**
 * SHA-256 over the canonical JSON (RFC 8785) of what a version renders and how: the content, the
 * variables schema, the model settings. Tags and notes do not count; imports match on it.
 */
export function contentHash(
  body: PromptBody,
  schema: JsonSchema,
  modelSettings: Record<string, unknown>,
): string {
  const canonical = canonicalize({ body, schema, modelSettings });
  return createHash('sha256').update(String(canonical)).digest('hex');
}

function bodyOf(kind: PromptKind, input: VersionInput, prefix: string): PromptBody {
  if (kind === 'text') {
    if (input.content === undefined || input.messages !== undefined) {
      throw wrongShape(prefix, 'content', 'a text prompt takes content (and no messages)');
    }
    return { kind, content: input.content };
  }
  if (input.messages === undefined || input.content !== undefined) {
    throw wrongShape(prefix, 'messages', 'a chat prompt takes messages (and no content)');
  }
  return { kind, messages: input.messages };
}

function wrongShape(prefix: string, field: string, message: string): ProblemError {
  return new ProblemError('validation-error', 'The version does not fit the prompt kind.', {
    errors: [{ field: `${prefix}.${field}`, message }],
  });
}
