import { FLOW_RUN_STATUSES } from '@maxai/db';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const uuidExample = { example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' };
const definitionExample = {
  schemaVersion: 1,
  name: 'thank_you',
  trigger: { events: ['maxai.messaging.sms.received'] },
  steps: [
    {
      id: 'reply',
      type: 'messaging.send_sms',
      inputs: { to: '=event.data.from', from: '=event.data.to', body: 'Thanks!' },
    },
  ],
};

export class FlowParams extends createZodDto(z.object({ tenantId: z.uuid(), flowId: z.uuid() })) {}
export class RunParams extends createZodDto(z.object({ tenantId: z.uuid(), runId: z.uuid() })) {}
export class InstallParams extends createZodDto(
  z.object({ tenantId: z.uuid(), clientId: z.uuid(), templateId: z.string().min(1).max(100) }),
) {}

/** A definition as JSON, or as a JSON/YAML document in `source`. */
const definitionFields = {
  definition: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('The flow definition (docs/flows.md); or give `source`')
    .meta({ example: definitionExample }),
  source: z
    .string()
    .max(256 * 1024)
    .optional()
    .describe('The definition as a JSON or YAML document')
    .meta({ example: 'schemaVersion: 1\nname: thank_you\n…' }),
  format: z.enum(['json', 'yaml']).default('yaml').meta({ example: 'yaml' }),
};
const oneDefinition = (b: { definition?: unknown; source?: string | undefined }) =>
  (b.definition === undefined) !== (b.source === undefined);
const ONE_DEFINITION = { error: 'give exactly one of definition and source' };

export class CreateFlowBody extends createZodDto(
  z
    .object({
      name: z.string().trim().min(1).max(200).meta({ example: 'Thank-you texts' }),
      clientId: z.uuid().optional().describe('A client’s own flow').meta(uuidExample),
      ...definitionFields,
    })
    .refine(oneDefinition, ONE_DEFINITION),
) {}
export class RenameFlowBody extends createZodDto(
  z.object({ name: z.string().trim().min(1).max(200).meta({ example: 'After-hours replies' }) }),
) {}
export class AddVersionBody extends createZodDto(
  z.object({
    changeNote: z.string().max(1000).optional().meta({ example: 'Shorter reply' }),
    ...definitionFields,
  }),
) {}
export class ActivateBody extends createZodDto(
  z.object({
    version: z.int().min(1).optional().describe('Default: the latest').meta({ example: 2 }),
  }),
) {}
export class DryRunBody extends createZodDto(
  z
    .object({
      clientId: z.uuid().optional().meta(uuidExample),
      event: z
        .record(z.string(), z.unknown())
        .describe('A sample CloudEvent')
        .meta({
          example: {
            type: 'maxai.messaging.sms.received',
            data: { from: '+15557654321', to: '+15550001111', body: 'Hi' },
          },
        }),
      stubs: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('Outputs to use for steps, by id')
        .meta({ example: { reply: { id: 'SM123' } } }),
      ...definitionFields,
    })
    .refine(oneDefinition, ONE_DEFINITION),
) {}
export class InstallBody extends createZodDto(
  z.object({
    name: z.string().trim().min(1).max(200).optional().meta({ example: 'Missed-call text-back' }),
    parameters: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('The template’s install parameters (GET /v1/flow-templates)')
      .meta({ example: { fromNumber: '+15550001111' } }),
    activate: z.boolean().default(true).meta({ example: true }),
  }),
) {}
export class RunsQuery extends createZodDto(
  z.object({
    flowId: z.uuid().optional(),
    status: z.enum(FLOW_RUN_STATUSES).optional(),
    clientId: z.uuid().optional(),
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.uuid().optional().describe('The `id` to continue before'),
  }),
) {}

const flowView = z.object({
  id: z.uuid(),
  name: z.string(),
  clientId: z.uuid().nullable(),
  activeVersion: z.int().nullable(),
  template: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
const versionView = z.object({
  version: z.int(),
  definition: z.record(z.string(), z.unknown()),
  changeNote: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
const issue = z.object({ pointer: z.string(), message: z.string() });
export class FlowDto extends createZodDto(flowView) {}
export class FlowListDto extends createZodDto(z.object({ data: z.array(flowView) })) {}
export class FlowDetailDto extends createZodDto(
  flowView.extend({ versions: z.array(versionView) }),
) {}
export class FlowCreatedDto extends createZodDto(
  flowView.extend({ version: versionView, warnings: z.array(issue) }),
) {}
export class VersionCreatedDto extends createZodDto(
  versionView.extend({ warnings: z.array(issue) }),
) {}
export class DryRunDto extends createZodDto(
  z.object({
    matched: z.boolean(),
    steps: z.array(z.record(z.string(), z.unknown())),
    vars: z.record(z.string(), z.unknown()),
    endedBy: z.record(z.string(), z.unknown()),
    warnings: z.array(issue),
  }),
) {}
const runView = z.object({
  id: z.uuid(),
  flowId: z.uuid(),
  version: z.int(),
  clientId: z.uuid().nullable(),
  agentId: z.uuid().nullable(),
  triggerEventId: z.string(),
  status: z.enum(FLOW_RUN_STATUSES),
  cursor: z.string().nullable(),
  attemptGroup: z.int(),
  error: z.string().nullable(),
  queuedAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  wakeAt: z.iso
    .datetime()
    .nullable()
    .describe('When a waiting run wakes (delay, or a wait’s timeout)'),
  waitingFor: z
    .string()
    .nullable()
    .describe('What a waiting run waits for: an event type, or an n8n callback')
    .meta({ example: 'maxai.messaging.sms.received' }),
  deadlineAt: z.iso.datetime().nullable().describe('The run times out then (timeoutSeconds)'),
});
export class RunDto extends createZodDto(runView) {}
export class RunPageDto extends createZodDto(
  z.object({ data: z.array(runView), nextCursor: z.uuid().nullable() }),
) {}
export class RunDetailDto extends createZodDto(
  runView.extend({
    vars: z.record(z.string(), z.unknown()),
    triggerEvent: z.record(z.string(), z.unknown()),
    steps: z.array(
      z.object({
        seq: z.int(),
        stepId: z.string(),
        type: z.string(),
        status: z.string(),
        input: z.unknown(),
        output: z.unknown(),
        attempts: z.int(),
        error: z.string().nullable(),
        errorKind: z.string().nullable(),
        idempotencyKey: z.string().nullable(),
        promptVersionId: z.string().nullable(),
        runnableAt: z.iso.datetime(),
        startedAt: z.iso.datetime().nullable(),
        finishedAt: z.iso.datetime().nullable(),
      }),
    ),
  }),
) {}
export class TemplateListDto extends createZodDto(
  z.object({
    data: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        description: z.string(),
        events: z.array(z.string()),
        ports: z.array(z.string()),
        prompts: z.array(z.unknown()),
        parameters: z.array(z.unknown()),
        source: z.string(),
      }),
    ),
  }),
) {}
