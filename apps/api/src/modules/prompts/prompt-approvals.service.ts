import { withTenant, type Database, type PromptApprovalStatus, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import { pageOf } from '../../platform/http/pagination';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { clientsGranted, isAllowed } from '../iam/permissions';
import type { PromptLabelsService } from './prompt-labels.service';
import type { PromptResolver } from './prompt-resolver';
import type { ApprovalView, PromptsRepository } from './prompts.repository';

/**
 * Requests to move protected labels, when the tenant requires a second person's approval:
 * listing them (narrowed to the prompts the caller reads), approving — by a user holding
 * `prompts:publish` on the template's scope who is not the requester, while the label still
 * points where it did when asked — and rejecting or withdrawing.
 */
export class PromptApprovalsService {
  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly labels: PromptLabelsService,
    private readonly resolver: PromptResolver,
    private readonly audit: AuditService,
  ) {}

  /** Approval requests the caller may see, newest first. */
  async listApprovals(
    caller: Authenticated,
    tenantId: string,
    query: {
      status?: PromptApprovalStatus | undefined;
      cursor?: string | undefined;
      limit: number;
    },
  ): Promise<{ data: ApprovalView[]; nextCursor: string | null }> {
    const narrowTo = this.readableClients(caller, tenantId);
    const rows = await withTenant(this.db, tenantId, (tx) =>
      this.repository.listApprovals(tx, tenantId, {
        status: query.status,
        before: query.cursor,
        limit: query.limit + 1,
      }),
    );
    const page = pageOf(rows, query.limit, (row) => row.id);
    return {
      data: page.data.filter(
        (a) => narrowTo === 'all' || (a.clientId !== null && narrowTo.has(a.clientId)),
      ),
      nextCursor: page.nextCursor,
    };
  }

  async getApproval(caller: Authenticated, tenantId: string, id: string): Promise<ApprovalView> {
    return withTenant(this.db, tenantId, (tx) => this.visibleApproval(tx, caller, tenantId, id));
  }

  /**
   * Approves a pending request and moves the label, if the label has not moved since. The
   * approver is a user (an API key is not a second person) holding `prompts:publish` on the
   * template's scope, and not the requester.
   */
  async approve(
    caller: Authenticated,
    tenantId: string,
    id: string,
    meta: RequestMeta & { note?: string | undefined },
  ): Promise<ApprovalView> {
    const { note, ...request } = meta;
    const approval = await withTenant(this.db, tenantId, async (tx) => {
      const { row, template } = await this.pending(tx, caller, tenantId, id);
      if (caller.actor.type !== 'user') {
        throw new ProblemError('forbidden', 'Approvals are given by people, not API keys.');
      }
      if (row.requestedBy === caller.actor.id) {
        throw new ProblemError('forbidden', 'A second person must approve: not the requester.');
      }
      const current = await this.repository.findLabelForUpdate(
        tx,
        tenantId,
        template.id,
        row.label,
      );
      if ((current?.versionId ?? null) !== row.fromVersionId) {
        throw new ProblemError(
          'conflict',
          `${row.label} moved since this request: it no longer describes the change. Reject it and ask again.`,
        );
      }
      await this.repository.decideApproval(tx, tenantId, id, {
        status: 'approved',
        decidedBy: caller.actor.id,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'prompt.approval_approved',
        target: { type: 'prompt', id: template.id },
        changes: { approvalId: id, key: template.key, label: row.label, note: note ?? '' },
        ...request,
      });
      await this.labels.applyIn(
        tx,
        caller,
        { template, label: row.label, toVersionId: row.toVersionId, note: row.note },
        current,
        request,
        id,
      );
      return this.visibleApproval(tx, caller, tenantId, id);
    });
    await this.resolver.changed(tenantId, [approval.key]);
    return approval;
  }

  /** Rejects a pending request (anyone with `prompts:publish` there; the requester withdraws it). */
  async reject(
    caller: Authenticated,
    tenantId: string,
    id: string,
    meta: RequestMeta & { note?: string | undefined },
  ): Promise<ApprovalView> {
    const { note, ...request } = meta;
    return withTenant(this.db, tenantId, async (tx) => {
      const { row, template } = await this.pending(tx, caller, tenantId, id);
      await this.repository.decideApproval(tx, tenantId, id, {
        status: 'rejected',
        decidedBy: caller.actor.id,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'prompt.approval_rejected',
        target: { type: 'prompt', id: template.id },
        changes: { approvalId: id, key: template.key, label: row.label, note: note ?? '' },
        ...request,
      });
      return this.visibleApproval(tx, caller, tenantId, id);
    });
  }

  private async pending(tx: Tx, caller: Authenticated, tenantId: string, id: string) {
    const row = await this.repository.findApprovalForUpdate(tx, tenantId, id);
    const template = row
      ? await this.repository.findTemplateById(tx, tenantId, row.templateId)
      : undefined;
    const scope = { tenantId, clientId: template?.clientId ?? undefined };
    // Requests about prompts the caller cannot read do not exist for them.
    if (!row || !template || !isAllowed(caller.principal, 'prompts:read', scope)) {
      throw notFound();
    }
    assertPermission(caller, 'prompts:publish', tenantId, template.clientId ?? undefined);
    if (row.status !== 'pending') {
      throw new ProblemError('conflict', `This request is ${row.status} already.`);
    }
    return { row, template };
  }

  private async visibleApproval(
    tx: Tx,
    caller: Authenticated,
    tenantId: string,
    id: string,
  ): Promise<ApprovalView> {
    const [row] = await this.repository.listApprovals(tx, tenantId, { id, limit: 1 });
    if (
      !row ||
      !isAllowed(caller.principal, 'prompts:read', {
        tenantId,
        clientId: row.clientId ?? undefined,
      })
    ) {
      throw notFound();
    }
    return row;
  }

  /** 'all' for tenant-wide readers, else the clients the caller reads prompts of. */
  private readableClients(caller: Authenticated, tenantId: string): 'all' | Set<string> {
    if (isAllowed(caller.principal, 'prompts:read', { tenantId })) return 'all';
    const clients = clientsGranted(caller.principal, 'prompts:read', tenantId);
    if (clients.length === 0) assertPermission(caller, 'prompts:read', tenantId);
    return new Set(clients);
  }
}
