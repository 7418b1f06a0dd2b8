import { isForeignKeyViolation, isUniqueViolation, withTenant, type Database } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { isAllowed } from '../iam/permissions';
import type { ExternalIdRow, WebhooksRepository } from './webhooks.repository';

export interface ExternalIdInput {
  provider: string;
  kind: 'voice_agent' | 'phone_number' | 'location';
  externalId: string;
  clientId: string;
  agentId?: string | undefined;
}

/**
 * The identifiers inside provider payloads that say which client (and agent) an event concerns:
 * a Retell agent id, a phone number of ours, a GoHighLevel location.
 */
export class ExternalIdsService {
  constructor(
    private readonly db: Database,
    private readonly repository: WebhooksRepository,
    private readonly audit: AuditService,
  ) {}

  async list(caller: Authenticated, tenantId: string): Promise<ExternalIdRow[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      this.repository.externalIds(tx, tenantId),
    );
    return rows.filter((row) =>
      isAllowed(caller.principal, 'webhooks:read', { tenantId, clientId: row.clientId }),
    );
  }

  async create(
    caller: Authenticated,
    tenantId: string,
    input: ExternalIdInput,
    meta: RequestMeta,
  ): Promise<ExternalIdRow> {
    assertPermission(caller, 'webhooks:manage', tenantId, input.clientId);
    try {
      return await withTenant(this.db, tenantId, async (tx) => {
        if (
          input.agentId &&
          !(await this.repository.agentOfClient(tx, tenantId, input.clientId, input.agentId))
        ) {
          throw new ProblemError('not-found', 'No such agent of this client.');
        }
        const row = await this.repository.insertExternalId(tx, {
          tenantId,
          ...input,
          agentId: input.agentId ?? null,
        });
        await this.audit.record(tx, {
          tenantId,
          actor: caller.actor,
          action: 'external_id.created',
          target: { type: 'external_id', id: row.id },
          changes: { ...input },
          ...meta,
        });
        return row;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ProblemError('conflict', 'This identifier is already mapped.');
      }
      if (isForeignKeyViolation(error)) throw new ProblemError('not-found', 'No such client.');
      throw error;
    }
  }

  async remove(caller: Authenticated, tenantId: string, id: string, meta: RequestMeta) {
    await withTenant(this.db, tenantId, async (tx) => {
      const row = await this.repository.externalIdById(tx, tenantId, id);
      if (!row) throw notFound();
      assertPermission(caller, 'webhooks:manage', tenantId, row.clientId);
      await this.repository.deleteExternalId(tx, tenantId, id);
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'external_id.deleted',
        target: { type: 'external_id', id },
        changes: { provider: row.provider, kind: row.kind, externalId: row.externalId },
        ...meta,
      });
    });
  }
}
