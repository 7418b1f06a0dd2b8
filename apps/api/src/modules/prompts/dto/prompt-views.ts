import { CHAT_ROLES, PROMPT_APPROVAL_STATUSES, PROMPT_KINDS } from '@maxai/db';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import type { AuditEventRow } from '../../audit/audit.repository';
import type { PinView } from '../prompt-pins.service';
import type { ApprovalView, LabelView, TemplateRow, VersionRow } from '../prompts.repository';
import type { TemplateWithLabels } from '../prompts.service';
import type { ResolvedPrompt } from '../prompt-resolver';

const message = z.object({ role: z.enum(CHAT_ROLES), content: z.string() });
const settings = z.record(z.string(), z.unknown());

const labelView = z.object({
  name: z.string(),
  version: z.number().int(),
  versionId: z.uuid(),
  previousVersion: z.number().int().nullable().describe('Where a rollback returns to'),
  protected: z.boolean().describe('Moves only with prompts:publish'),
  movedBy: z.string(),
  movedAt: z.iso.datetime(),
});
export class LabelDto extends createZodDto(labelView) {}

const templateView = z.object({
  id: z.uuid(),
  key: z.string(),
  kind: z.enum(PROMPT_KINDS),
  scope: z.enum(['tenant', 'client']),
  clientId: z.uuid().nullable(),
  description: z.string(),
  protectedLabels: z.array(z.string()),
  latestVersion: z.number().int().describe('0 until the first version'),
  labels: z.array(labelView),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export class TemplateDto extends createZodDto(templateView) {}
export class TemplatePageDto extends createZodDto(
  z.object({ data: z.array(templateView), nextCursor: z.string().nullable() }),
) {}

const versionView = z.object({
  id: z.uuid(),
  version: z.number().int(),
  content: z.string().optional(),
  messages: z.array(message).optional(),
  variablesSchema: settings,
  modelSettings: settings,
  tags: z.array(z.string()),
  changeNote: z.string(),
  author: z.object({ type: z.string(), id: z.string() }),
  contentHash: z.string().describe('SHA-256 of content, variables schema and model settings'),
  createdAt: z.iso.datetime(),
});
export class VersionDto extends createZodDto(versionView) {}
export class VersionPageDto extends createZodDto(
  z.object({ data: z.array(versionView), nextCursor: z.number().int().nullable() }),
) {}

export class DiffDto extends createZodDto(
  z.object({
    from: z.number().int(),
    to: z.number().int(),
    content: z.string().describe('Unified diff of the content (empty when equal)'),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  }),
) {}

const resolvedView = z.object({
  key: z.string(),
  kind: z.enum(PROMPT_KINDS),
  templateId: z.uuid(),
  versionId: z.uuid().describe('Stamp it on the LLM call'),
  version: z.number().int(),
  label: z.string().nullable(),
  scope: z
    .enum(['tenant', 'client'])
    .describe("Whose template answered: the library or the client's override"),
  modelSettings: settings,
});
export class ResolvedDto extends createZodDto(resolvedView) {}
export class RenderedDto extends createZodDto(
  resolvedView.extend({
    text: z.string().optional().describe('Kind text'),
    messages: z.array(message).optional().describe('Kind chat'),
  }),
) {}

const historyEntry = z.object({
  seq: z.number().int(),
  at: z.iso.datetime(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  label: z.string(),
  fromVersion: z.number().int().nullable(),
  toVersion: z.number().int().nullable().describe('null: the label was removed'),
  rollback: z.boolean(),
  approvalId: z.uuid().nullable(),
});
export class LabelHistoryDto extends createZodDto(
  z.object({ data: z.array(historyEntry), nextCursor: z.number().int().nullable() }),
) {}

const approvalView = z.object({
  id: z.uuid(),
  key: z.string(),
  clientId: z.uuid().nullable(),
  label: z.string(),
  fromVersion: z.number().int().nullable(),
  toVersion: z.number().int().nullable().describe('null: remove the label'),
  status: z.enum(PROMPT_APPROVAL_STATUSES),
  requestedBy: z.object({ type: z.string(), id: z.string() }),
  note: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
export class ApprovalDto extends createZodDto(approvalView) {}
export class ApprovalPageDto extends createZodDto(
  z.object({ data: z.array(approvalView), nextCursor: z.uuid().nullable() }),
) {}

const pinView = z.object({
  promptKey: z.string(),
  label: z.string().nullable(),
  versionId: z.uuid().nullable(),
  version: z.number().int().nullable(),
  updatedBy: z.string(),
  updatedAt: z.iso.datetime(),
});
export class PinDto extends createZodDto(pinView) {}
export class PinListDto extends createZodDto(z.object({ data: z.array(pinView) })) {}

export class ImportReportDto extends createZodDto(
  z.object({
    templatesCreated: z.number().int(),
    versionsCreated: z.number().int(),
    labelsMoved: z.number().int(),
    approvalsRequested: z.number().int(),
    prompts: z.array(
      z.object({
        key: z.string(),
        created: z.boolean(),
        versions: z.record(
          z.string(),
          z.object({ version: z.number().int(), created: z.boolean() }),
        ),
        labels: z.record(z.string(), z.enum(['moved', 'unchanged', 'approval_requested'])),
      }),
    ),
  }),
) {}

export const labelOf = (template: Pick<TemplateRow, 'protectedLabels'>, label: LabelView) => ({
  name: label.name,
  version: label.version,
  versionId: label.versionId,
  previousVersion: label.previousVersion,
  protected: template.protectedLabels.includes(label.name),
  movedBy: label.movedBy,
  movedAt: label.movedAt.toISOString(),
});

export const templateOf = ({ template, labels }: TemplateWithLabels) => ({
  id: template.id,
  key: template.key,
  kind: template.kind,
  scope: template.clientId === null ? ('tenant' as const) : ('client' as const),
  clientId: template.clientId,
  description: template.description,
  protectedLabels: template.protectedLabels,
  latestVersion: template.latestVersion,
  labels: labels.map((l) => labelOf(template, l)),
  createdAt: template.createdAt.toISOString(),
  updatedAt: template.updatedAt.toISOString(),
});

export const versionOf = (row: VersionRow) => ({
  id: row.id,
  version: row.version,
  ...(row.messages ? { messages: row.messages } : { content: row.content }),
  variablesSchema: row.variablesSchema,
  modelSettings: row.modelSettings,
  tags: row.tags,
  changeNote: row.changeNote,
  author: { type: row.authorType, id: row.authorId },
  contentHash: row.contentHash,
  createdAt: row.createdAt.toISOString(),
});

export const resolvedOf = (r: ResolvedPrompt) => ({
  key: r.key,
  kind: r.kind,
  templateId: r.templateId,
  versionId: r.versionId,
  version: r.version,
  label: r.label,
  scope: r.clientId === null ? ('tenant' as const) : ('client' as const),
  modelSettings: r.modelSettings,
});

export const historyOf = (event: AuditEventRow) => {
  // Label moves always record their changes; Object() reads a missing record as empty.
  const c = Object(event.changes) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    seq: event.seq,
    at: event.occurredAt.toISOString(),
    actorType: event.actorType,
    actorId: event.actorId,
    label: String(c.label),
    fromVersion: num(c.from),
    toVersion: num(c.to),
    rollback: c.rollback === true,
    approvalId: typeof c.approvalId === 'string' ? c.approvalId : null,
  };
};

export const approvalOf = (a: ApprovalView) => ({
  id: a.id,
  key: a.key,
  clientId: a.clientId,
  label: a.label,
  fromVersion: a.fromVersion,
  toVersion: a.toVersion,
  status: a.status,
  requestedBy: { type: a.requestedByType, id: a.requestedBy },
  note: a.note,
  decidedBy: a.decidedBy,
  decidedAt: a.decidedAt?.toISOString() ?? null,
  createdAt: a.createdAt.toISOString(),
});

export const pinOf = (p: PinView) => ({
  promptKey: p.promptKey,
  label: p.label,
  versionId: p.versionId,
  version: p.version,
  updatedBy: p.updatedBy,
  updatedAt: p.updatedAt.toISOString(),
});
