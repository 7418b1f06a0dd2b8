import { onlyRow, withTenant, type Database, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import type { EventsService } from '../events/events.service';
import { assertPermission, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { LATEST } from './dto/prompt-schemas';
import type { PromptResolver } from './prompt-resolver';
import {
  promptNotFound,
  requireTemplate,
  type PromptApprovalPolicy,
  type PromptScope,
} from './prompt-scope';
import type {
  ApprovalView,
  LabelRow,
  LabelView,
  PromptsRepository,
  TemplateRow,
} from './prompts.repository';

/** What a label change did: moved (or removed) it, found it there already, or asked for approval. */
export type LabelOutcome =
  | { outcome: 'moved' | 'unchanged'; template: TemplateRow; label: LabelView | null }
  | { outcome: 'approval_requested'; approval: ApprovalView };

/** A label change: to a version (by id), or away (`null`: the label is removed). */
export interface LabelChange {
  template: TemplateRow;
  label: string;
  toVersionId: string | null;
  note?: string | undefined;
  rollback?: boolean | undefined;
}

/**
 * Labels and their governance. A label points at one version of a template; moving it is what
 * changes what renders (rollback is a move back). Labels a template protects (`production` by
 * default) move only with `prompts:publish` — for API keys too, whose permission sets are
 * explicit — and, when the tenant requires approvals, only once a second person (a user with
 * `prompts:publish`, not the requester) approves (PromptApprovalsService). Every move is audited
 * (`prompt.label_moved`), emitted as an event, and drops the key's cached resolutions on every
 * replica.
 */
export class PromptLabelsService {
  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly resolver: PromptResolver,
    private readonly audit: AuditService,
    private readonly events: EventsService,
    private readonly policy: PromptApprovalPolicy,
  ) {}

  /** Points `label` at version `version` of the scope's template `key`. */
  async move(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    label: string,
    version: number,
    meta: RequestMeta & { note?: string | undefined },
  ): Promise<LabelOutcome> {
    return this.change(caller, scope, key, label, meta, async (tx, template) => {
      const row = await this.repository.findVersion(tx, scope.tenantId, template.id, version);
      if (!row) throw promptNotFound(`${key} has no version ${version}.`);
      return row.id;
    });
  }

  /** Removes `label` from the template (renders by it then fall back to the tenant, or 404). */
  async remove(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    label: string,
    meta: RequestMeta & { note?: string | undefined },
  ): Promise<LabelOutcome> {
    return this.change(caller, scope, key, label, meta, () => Promise.resolve(null));
  }

  /** Moves `label` back to where it pointed before its last move. */
  async rollback(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    label: string,
    meta: RequestMeta & { note?: string | undefined },
  ): Promise<LabelOutcome> {
    return this.change(
      caller,
      scope,
      key,
      label,
      { ...meta, rollback: true },
      async (tx, template) => {
        const current = await this.repository.findLabelForUpdate(
          tx,
          scope.tenantId,
          template.id,
          label,
        );
        if (!current?.previousVersionId) {
          throw new ProblemError('conflict', `${label} has no earlier version to roll back to.`);
        }
        return current.previousVersionId;
      },
    );
  }

  private async change(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    label: string,
    meta: RequestMeta & { note?: string | undefined; rollback?: boolean },
    target: (tx: Tx, template: TemplateRow) => Promise<string | null>,
  ): Promise<LabelOutcome> {
    assertPermission(caller, 'prompts:write', scope.tenantId, scope.clientId);
    assertMovable(label);
    const { note, rollback, ...request } = meta;
    const result = await withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key);
      if (template.protectedLabels.includes(label)) {
        assertPermission(caller, 'prompts:publish', scope.tenantId, scope.clientId);
      }
      const toVersionId = await target(tx, template);
      return this.changeIn(tx, caller, { template, label, toVersionId, note, rollback }, request);
    });
    if (result.outcome === 'moved') await this.resolver.changed(scope.tenantId, [key]);
    return result;
  }

  /**
   * Applies a label change in the caller's transaction (the library import uses it too): checks
   * `prompts:publish` for a protected label, and files an approval request instead of moving
   * when the tenant requires one.
   */
  async changeIn(
    tx: Tx,
    caller: Authenticated,
    change: LabelChange,
    meta: RequestMeta,
  ): Promise<LabelOutcome> {
    const { template, label, toVersionId } = change;
    const guarded = template.protectedLabels.includes(label);
    if (guarded) {
      assertPermission(
        caller,
        'prompts:publish',
        template.tenantId,
        template.clientId ?? undefined,
      );
    }
    const current = await this.repository.findLabelForUpdate(
      tx,
      template.tenantId,
      template.id,
      label,
    );
    if ((current?.versionId ?? null) === toVersionId) {
      return { outcome: 'unchanged', template, label: await this.labelView(tx, template, label) };
    }
    if (guarded && (await this.policy.promptApprovalRequired(tx, template.tenantId))) {
      return {
        outcome: 'approval_requested',
        approval: await this.request(tx, caller, change, current, meta),
      };
    }
    await this.applyIn(tx, caller, change, current, meta);
    return { outcome: 'moved', template, label: await this.labelView(tx, template, label) };
  }

  private async request(
    tx: Tx,
    caller: Authenticated,
    change: LabelChange,
    current: LabelRow | undefined,
    meta: RequestMeta,
  ): Promise<ApprovalView> {
    const { template, label } = change;
    const superseded = await this.repository.supersedePending(
      tx,
      template.tenantId,
      template.id,
      label,
    );
    const row = await this.repository.insertApproval(tx, {
      tenantId: template.tenantId,
      templateId: template.id,
      label,
      fromVersionId: current?.versionId ?? null,
      toVersionId: change.toVersionId,
      requestedByType: caller.actor.type,
      requestedBy: caller.actor.id,
      note: change.note ?? '',
    });
    await this.audit.record(tx, {
      tenantId: template.tenantId,
      actor: caller.actor,
      action: 'prompt.approval_requested',
      target: { type: 'prompt', id: template.id },
      changes: {
        approvalId: row.id,
        key: template.key,
        clientId: template.clientId,
        label,
        fromVersionId: row.fromVersionId,
        toVersionId: row.toVersionId,
        superseded: superseded.map((s) => s.id),
      },
      ...meta,
    });
    return onlyRow(
      await this.repository.listApprovals(tx, template.tenantId, { id: row.id, limit: 1 }),
      'the new approval',
    );
  }

  /** Moves (or removes) the label in the caller's transaction: audited, emitted. */
  async applyIn(
    tx: Tx,
    caller: Authenticated,
    change: LabelChange,
    current: LabelRow | undefined,
    meta: RequestMeta,
    approvalId?: string,
  ): Promise<void> {
    const { template, label, toVersionId } = change;
    if (toVersionId === null) {
      await this.repository.deleteLabel(tx, template.tenantId, template.id, label);
    } else {
      await this.repository.upsertLabel(tx, {
        tenantId: template.tenantId,
        templateId: template.id,
        name: label,
        versionId: toVersionId,
        previousVersionId: current?.versionId ?? null,
        movedBy: caller.actor.id,
      });
    }
    const numberOf = async (versionId: string | null) =>
      versionId === null
        ? null
        : (await this.repository.versionById(tx, template.tenantId, versionId)).version;
    const [from, to] = await Promise.all([
      numberOf(current?.versionId ?? null),
      numberOf(toVersionId),
    ]);
    const moved = {
      key: template.key,
      clientId: template.clientId,
      label,
      from,
      to,
      fromVersionId: current?.versionId ?? null,
      toVersionId,
      ...(change.rollback ? { rollback: true } : {}),
      ...(approvalId ? { approvalId } : {}),
    };
    await this.audit.record(tx, {
      tenantId: template.tenantId,
      actor: caller.actor,
      action: 'prompt.label_moved',
      target: { type: 'prompt', id: template.id },
      changes: moved,
      ...meta,
    });
    await this.events.emit(tx, {
      tenantId: template.tenantId,
      clientId: template.clientId,
      type: 'maxai.prompts.label.moved',
      source: '/maxai/prompts',
      subject: template.key,
      data: moved,
    });
  }

  private async labelView(tx: Tx, template: TemplateRow, label: string): Promise<LabelView | null> {
    const labels = await this.repository.labels(tx, template.tenantId, [template.id]);
    return labels.find((l) => l.name === label) ?? null;
  }
}

function assertMovable(label: string): void {
  if (label === LATEST) {
    throw new ProblemError(
      'unprocessable-content',
      '"latest" always means the newest version: it does not move.',
    );
  }
}
