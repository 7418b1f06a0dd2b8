import { CHAT_ROLES, PROMPT_APPROVAL_STATUSES, PROMPT_KINDS } from '@maxai/db';
import { z } from 'zod';

/** `front-desk/greeting`: segments of letters, digits, `.`, `_`, `-` (not leading), joined by `/`. */
export const PROMPT_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*)*$/;
/** `production`, `staging`, `canary-2`: lower case, digits, `.`, `_`, `-`. */
export const LABEL_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
/** A virtual label: the newest version. It cannot be moved or removed. */
export const LATEST = 'latest';
export const DEFAULT_LABEL = 'production';

export const promptKeySchema = z.string().min(1).max(200).regex(PROMPT_KEY_PATTERN, {
  error: 'expected segments of letters, digits, ".", "_" or "-" joined by "/"',
});
export const labelSchema = z
  .string()
  .regex(LABEL_PATTERN, { error: 'expected lower-case letters, digits, ".", "_" or "-"' });

export const chatMessageSchema = z.object({
  role: z.enum(CHAT_ROLES),
  content: z.string().max(1_000_000),
});

export const modelSettingsSchema = z
  .object({
    model: z.string().trim().min(1).max(200).optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    maxTokens: z.number().int().min(1).max(1_000_000).optional(),
    responseFormat: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('text') }),
        z.object({ type: z.literal('json_object') }),
        z.object({
          type: z.literal('json_schema'),
          name: z.string().min(1).max(64),
          schema: z.record(z.string(), z.unknown()),
          strict: z.boolean().optional(),
        }),
      ])
      .optional(),
  })
  .strict();
export type ModelSettings = z.infer<typeof modelSettingsSchema>;

const jsonSchemaObject = z.record(z.string(), z.unknown());

/** What a new version carries (the kind's content: `content` for text, `messages` for chat). */
export const versionInputSchema = z.object({
  content: z
    .string()
    .max(1_000_000)
    .optional()
    .describe('Kind text: the template (Liquid, at most 64 KiB)')
    .meta({ example: 'Hi {{ name }}, thanks for calling {{ business }}. How can I help?' }),
  messages: z
    .array(chatMessageSchema)
    .min(1)
    .max(100)
    .optional()
    .describe('Kind chat: message templates (Liquid, at most 64 KiB in all)')
    .meta({ example: [{ role: 'system', content: 'You are the front desk of {{ business }}.' }] }),
  variablesSchema: jsonSchemaObject
    .optional()
    .describe(
      'JSON Schema (2020-12) of the variables, an object; every variable the template reads must be in its properties. Omitted: every variable read is required',
    )
    .meta({
      example: {
        type: 'object',
        properties: { name: { type: 'string' }, business: { type: 'string' } },
        required: ['name', 'business'],
      },
    }),
  modelSettings: modelSettingsSchema
    .default({})
    .describe('How to call the model')
    .meta({ example: { model: 'openai/gpt-4o-mini', temperature: 0.3, maxTokens: 300 } }),
  tags: z
    .array(z.string().trim().min(1).max(50))
    .max(20)
    .default([])
    .meta({ example: ['friendly'] }),
  changeNote: z.string().max(2000).default('').meta({ example: 'Shorter greeting' }),
});
export type VersionInput = z.infer<typeof versionInputSchema>;

export const templateInputSchema = z.object({
  key: promptKeySchema.meta({ example: 'front-desk/greeting' }),
  kind: z.enum(PROMPT_KINDS).meta({ example: 'text' }),
  description: z.string().max(2000).default('').meta({ example: 'What the front desk says first' }),
  protectedLabels: z
    .array(labelSchema)
    .max(20)
    .optional()
    .describe('Labels that move only with prompts:publish (default ["production"])')
    .meta({ example: ['production'] }),
});

export const selectorSchema = {
  label: labelSchema
    .optional()
    .describe('Render the version this label points at (default production)')
    .meta({ example: 'production' }),
  version: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("A version number (of the client's override when there is one)")
    .meta({ example: 3 }),
  versionId: z
    .uuid()
    .optional()
    .describe('An exact version id')
    .meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
};

export const variablesSchema = z
  .record(z.string(), z.unknown())
  .default({})
  .describe("Checked against the version's variables schema")
  .meta({ example: { name: 'Ana', business: 'Bright Smiles Dental' } });

const libraryVersionSchema = z.object({
  version: z.number().int().min(1),
  content: z.string().max(1_000_000).optional(),
  messages: z.array(chatMessageSchema).min(1).max(100).optional(),
  variablesSchema: jsonSchemaObject.optional(),
  modelSettings: modelSettingsSchema.default({}),
  tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
  changeNote: z.string().max(2000).default(''),
});

const libraryPromptSchema = z.object({
  key: promptKeySchema,
  kind: z.enum(PROMPT_KINDS),
  description: z.string().max(2000).default(''),
  protectedLabels: z.array(labelSchema).max(20).default([DEFAULT_LABEL]),
  labels: z.record(labelSchema, z.number().int().min(1)).default({}),
  versions: z.array(libraryVersionSchema).max(10_000).default([]),
});
export type LibraryPrompt = z.infer<typeof libraryPromptSchema>;

export const LIBRARY_FORMAT = 'maxai.prompts/v1';

/** A tenant's (or client's) prompt library as exported and imported (JSON or YAML). */
export const libraryDocumentSchema = z.object({
  format: z.literal(LIBRARY_FORMAT).default(LIBRARY_FORMAT).meta({ example: LIBRARY_FORMAT }),
  prompts: z
    .array(libraryPromptSchema)
    .max(1000)
    .meta({
      example: [
        {
          key: 'front-desk/greeting',
          kind: 'text',
          protectedLabels: ['production'],
          labels: { production: 1 },
          versions: [{ version: 1, content: 'Hi {{ name }}!' }],
        },
      ],
    }),
});
export type LibraryDocument = z.infer<typeof libraryDocumentSchema>;

export const approvalStatusSchema = z.enum(PROMPT_APPROVAL_STATUSES);
