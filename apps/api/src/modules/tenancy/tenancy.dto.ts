import { AGENT_CHANNELS, AGENT_STATUSES, CLIENT_STATUSES } from '@maxai/db';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const timezone = z
  .string()
  .max(64)
  .refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { error: 'expected an IANA time zone such as America/New_York' },
  );

const settings = z
  .record(z.string().max(100), z.unknown())
  .refine((s) => JSON.stringify(s).length <= 16_384, {
    error: 'expected at most 16 KiB of settings',
  });

export class ClientParams extends createZodDto(
  z.object({ tenantId: z.uuid(), clientId: z.uuid() }),
) {}
export class AgentParams extends createZodDto(
  z.object({ tenantId: z.uuid(), clientId: z.uuid(), agentId: z.uuid() }),
) {}
export class PageQueryDto extends createZodDto(
  z.object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.uuid().optional(),
  }),
) {}

export class CreateClientBody extends createZodDto(
  z.object({ name: z.string().trim().min(1).max(200).meta({ example: 'Bright Smiles Dental' }) }),
) {}
export class UpdateClientBody extends createZodDto(
  z
    .object({
      name: z.string().trim().min(1).max(200).meta({ example: 'Bright Smiles Dental (Downtown)' }),
      status: z.enum(CLIENT_STATUSES).meta({ example: 'suspended' }),
    })
    .partial()
    .refine((b) => Object.keys(b).length > 0, { error: 'expected at least one field' }),
) {}

export class CreateAgentBody extends createZodDto(
  z.object({
    name: z.string().trim().min(1).max(200).meta({ example: 'Front Desk' }),
    channel: z.enum(AGENT_CHANNELS).meta({ example: 'voice' }),
    status: z.enum(AGENT_STATUSES).default('draft').meta({ example: 'draft' }),
    timezone: timezone.default('UTC').meta({ example: 'America/New_York' }),
    settings: settings.default({}).meta({ example: { greeting: 'Thanks for calling!' } }),
  }),
) {}
export class UpdateAgentBody extends createZodDto(
  z
    .object({
      name: z.string().trim().min(1).max(200).meta({ example: 'Front Desk (after hours)' }),
      status: z.enum(AGENT_STATUSES).meta({ example: 'active' }),
      timezone: timezone.meta({ example: 'Europe/Lisbon' }),
      settings: settings.meta({ example: { handoffNumber: '+15550100' } }),
    })
    .partial()
    .refine((b) => Object.keys(b).length > 0, { error: 'expected at least one field' }),
) {}

const clientView = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string(),
  status: z.enum(CLIENT_STATUSES),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
const agentView = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  clientId: z.uuid(),
  name: z.string(),
  channel: z.enum(AGENT_CHANNELS),
  status: z.enum(AGENT_STATUSES),
  timezone: z.string(),
  settings: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type ClientView = z.infer<typeof clientView>;
export type AgentView = z.infer<typeof agentView>;
export class ClientDto extends createZodDto(clientView) {}
export class AgentDto extends createZodDto(agentView) {}
export class ClientPageDto extends createZodDto(
  z.object({ data: z.array(clientView), nextCursor: z.uuid().nullable() }),
) {}
export class AgentPageDto extends createZodDto(
  z.object({ data: z.array(agentView), nextCursor: z.uuid().nullable() }),
) {}
