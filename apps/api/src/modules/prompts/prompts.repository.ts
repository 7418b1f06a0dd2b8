import {
  agentPromptPins,
  agents,
  clients,
  onlyRow,
  promptApprovals,
  promptLabels,
  promptTemplates,
  promptVersions,
  type PromptApprovalStatus,
  type Tx,
} from '@maxai/db';
import { and, asc, desc, eq, gt, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';

export type TemplateRow = typeof promptTemplates.$inferSelect;
export type VersionRow = typeof promptVersions.$inferSelect;
export type LabelRow = typeof promptLabels.$inferSelect;
export type ApprovalRow = typeof promptApprovals.$inferSelect;
export type PinRow = typeof agentPromptPins.$inferSelect;

/** A label with the numbers of the versions it points at (now and before its last move). */
export interface LabelView {
  templateId: string;
  name: string;
  versionId: string;
  version: number;
  previousVersionId: string | null;
  previousVersion: number | null;
  movedBy: string;
  movedAt: Date;
}

/** An approval with what it is about: the template's key and scope, the version numbers. */
export interface ApprovalView extends ApprovalRow {
  key: string;
  clientId: string | null;
  fromVersion: number | null;
  toVersion: number | null;
}

/** A template's scope: its tenant's library (`clientId` null) or one client's overrides. */
const scopeIs = (clientId: string | null) =>
  clientId === null ? isNull(promptTemplates.clientId) : eq(promptTemplates.clientId, clientId);

const previous = alias(promptVersions, 'previous_version');
const fromVersion = alias(promptVersions, 'from_version');
const toVersion = alias(promptVersions, 'to_version');

/** SQL of prompt templates, versions, labels, approvals and agents' pins (inside `withTenant`). */
export class PromptsRepository {
  async clientExists(tx: Tx, tenantId: string, clientId: string): Promise<boolean> {
    const rows = await tx
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.tenantId, tenantId), eq(clients.id, clientId)));
    return rows.length === 1;
  }

  async agentOfClient(tx: Tx, tenantId: string, clientId: string, agentId: string) {
    const rows = await tx
      .select({ id: agents.id })
      .from(agents)
      .where(
        and(eq(agents.tenantId, tenantId), eq(agents.clientId, clientId), eq(agents.id, agentId)),
      );
    return rows.length === 1;
  }

  // ─── templates ──────────────────────────────────────────────────────────────────────────

  listTemplates(
    tx: Tx,
    tenantId: string,
    clientId: string | null,
    page: { after?: string | undefined; limit: number },
  ): Promise<TemplateRow[]> {
    return tx
      .select()
      .from(promptTemplates)
      .where(
        and(
          eq(promptTemplates.tenantId, tenantId),
          scopeIs(clientId),
          page.after === undefined ? undefined : gt(promptTemplates.key, page.after),
        ),
      )
      .orderBy(asc(promptTemplates.key))
      .limit(page.limit);
  }

  async findTemplate(
    tx: Tx,
    tenantId: string,
    clientId: string | null,
    key: string,
    lock = false,
  ): Promise<TemplateRow | undefined> {
    const query = tx
      .select()
      .from(promptTemplates)
      .where(
        and(
          eq(promptTemplates.tenantId, tenantId),
          scopeIs(clientId),
          eq(promptTemplates.key, key),
        ),
      );
    const [row] = lock ? await query.for('update') : await query;
    return row;
  }

  async findTemplateById(tx: Tx, tenantId: string, id: string): Promise<TemplateRow | undefined> {
    const [row] = await tx
      .select()
      .from(promptTemplates)
      .where(and(eq(promptTemplates.tenantId, tenantId), eq(promptTemplates.id, id)));
    return row;
  }

  /**
   * The template of a version, share-locked: a pin taken on it cannot race the template's
   * deletion (which locks it for update and looks for pins).
   */
  async templateOfVersion(
    tx: Tx,
    tenantId: string,
    versionId: string,
  ): Promise<TemplateRow | undefined> {
    const [row] = await tx
      .select({ template: promptTemplates })
      .from(promptVersions)
      .innerJoin(
        promptTemplates,
        and(
          eq(promptTemplates.tenantId, promptVersions.tenantId),
          eq(promptTemplates.id, promptVersions.templateId),
        ),
      )
      .where(and(eq(promptVersions.tenantId, tenantId), eq(promptVersions.id, versionId)))
      .for('share', { of: promptTemplates });
    return row?.template;
  }

  /** Whether an agent pins a version of this template. */
  async isPinned(tx: Tx, tenantId: string, templateId: string): Promise<boolean> {
    const rows = await tx
      .select({ key: agentPromptPins.promptKey })
      .from(agentPromptPins)
      .innerJoin(
        promptVersions,
        and(
          eq(promptVersions.tenantId, agentPromptPins.tenantId),
          eq(promptVersions.id, agentPromptPins.versionId),
        ),
      )
      .where(and(eq(agentPromptPins.tenantId, tenantId), eq(promptVersions.templateId, templateId)))
      .limit(1);
    return rows.length > 0;
  }

  /** The templates of a key a client's resolution considers: its override and the tenant's. */
  candidates(tx: Tx, tenantId: string, clientId: string | null, key: string) {
    return tx
      .select()
      .from(promptTemplates)
      .where(
        and(
          eq(promptTemplates.tenantId, tenantId),
          eq(promptTemplates.key, key),
          clientId === null
            ? isNull(promptTemplates.clientId)
            : or(isNull(promptTemplates.clientId), eq(promptTemplates.clientId, clientId)),
        ),
      );
  }

  /** The new template, or undefined when the scope has that key already. */
  async insertTemplate(
    tx: Tx,
    row: typeof promptTemplates.$inferInsert,
  ): Promise<TemplateRow | undefined> {
    const [created] = await tx
      .insert(promptTemplates)
      .values(row)
      .onConflictDoNothing()
      .returning();
    return created;
  }

  async updateTemplate(
    tx: Tx,
    tenantId: string,
    id: string,
    patch: { description?: string; protectedLabels?: string[] },
  ): Promise<TemplateRow> {
    return onlyRow(
      await tx
        .update(promptTemplates)
        .set({ ...patch, updatedAt: sql`now()` })
        .where(and(eq(promptTemplates.tenantId, tenantId), eq(promptTemplates.id, id)))
        .returning(),
      'the updated template',
    );
  }

  async deleteTemplate(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx
      .delete(promptTemplates)
      .where(and(eq(promptTemplates.tenantId, tenantId), eq(promptTemplates.id, id)));
  }

  /** Hands out the template's next version number (the row stays locked until commit). */
  async nextVersionNumber(tx: Tx, tenantId: string, id: string): Promise<number> {
    const row = onlyRow(
      await tx
        .update(promptTemplates)
        .set({ latestVersion: sql`${promptTemplates.latestVersion} + 1`, updatedAt: sql`now()` })
        .where(and(eq(promptTemplates.tenantId, tenantId), eq(promptTemplates.id, id)))
        .returning({ latestVersion: promptTemplates.latestVersion }),
      'the template',
    );
    return row.latestVersion;
  }

  // ─── versions ───────────────────────────────────────────────────────────────────────────

  async insertVersion(tx: Tx, row: typeof promptVersions.$inferInsert): Promise<VersionRow> {
    return onlyRow(await tx.insert(promptVersions).values(row).returning(), 'the new version');
  }

  listVersions(
    tx: Tx,
    tenantId: string,
    templateId: string,
    page: { before?: number | undefined; limit: number },
  ): Promise<VersionRow[]> {
    return tx
      .select()
      .from(promptVersions)
      .where(
        and(
          eq(promptVersions.tenantId, tenantId),
          eq(promptVersions.templateId, templateId),
          page.before === undefined ? undefined : lt(promptVersions.version, page.before),
        ),
      )
      .orderBy(desc(promptVersions.version))
      .limit(page.limit);
  }

  /** Every version of a template, oldest first (export, import matching). */
  allVersions(tx: Tx, tenantId: string, templateId: string): Promise<VersionRow[]> {
    return tx
      .select()
      .from(promptVersions)
      .where(and(eq(promptVersions.tenantId, tenantId), eq(promptVersions.templateId, templateId)))
      .orderBy(asc(promptVersions.version));
  }

  async findVersion(
    tx: Tx,
    tenantId: string,
    templateId: string,
    version: number,
  ): Promise<VersionRow | undefined> {
    const [row] = await tx
      .select()
      .from(promptVersions)
      .where(
        and(
          eq(promptVersions.tenantId, tenantId),
          eq(promptVersions.templateId, templateId),
          eq(promptVersions.version, version),
        ),
      );
    return row;
  }

  /** A version known to exist (a label's, a pin's): its absence is a broken invariant. */
  async versionById(tx: Tx, tenantId: string, id: string): Promise<VersionRow> {
    return onlyRow(
      await tx
        .select()
        .from(promptVersions)
        .where(and(eq(promptVersions.tenantId, tenantId), eq(promptVersions.id, id))),
      'the version',
    );
  }

  async findVersionById(tx: Tx, tenantId: string, id: string): Promise<VersionRow | undefined> {
    const [row] = await tx
      .select()
      .from(promptVersions)
      .where(and(eq(promptVersions.tenantId, tenantId), eq(promptVersions.id, id)));
    return row;
  }

  // ─── labels ─────────────────────────────────────────────────────────────────────────────

  labels(tx: Tx, tenantId: string, templateIds: readonly string[]): Promise<LabelView[]> {
    if (templateIds.length === 0) return Promise.resolve([]);
    return tx
      .select({
        templateId: promptLabels.templateId,
        name: promptLabels.name,
        versionId: promptLabels.versionId,
        version: promptVersions.version,
        previousVersionId: promptLabels.previousVersionId,
        previousVersion: previous.version,
        movedBy: promptLabels.movedBy,
        movedAt: promptLabels.movedAt,
      })
      .from(promptLabels)
      .innerJoin(
        promptVersions,
        and(
          eq(promptVersions.tenantId, promptLabels.tenantId),
          eq(promptVersions.id, promptLabels.versionId),
        ),
      )
      .leftJoin(
        previous,
        and(
          eq(previous.tenantId, promptLabels.tenantId),
          eq(previous.id, promptLabels.previousVersionId),
        ),
      )
      .where(
        and(eq(promptLabels.tenantId, tenantId), inArray(promptLabels.templateId, templateIds)),
      )
      .orderBy(asc(promptLabels.name));
  }

  /** The label's row, locked so concurrent moves of it queue. */
  async findLabelForUpdate(
    tx: Tx,
    tenantId: string,
    templateId: string,
    name: string,
  ): Promise<LabelRow | undefined> {
    const [row] = await tx
      .select()
      .from(promptLabels)
      .where(
        and(
          eq(promptLabels.tenantId, tenantId),
          eq(promptLabels.templateId, templateId),
          eq(promptLabels.name, name),
        ),
      )
      .for('update');
    return row;
  }

  async upsertLabel(tx: Tx, row: typeof promptLabels.$inferInsert): Promise<void> {
    await tx
      .insert(promptLabels)
      .values(row)
      .onConflictDoUpdate({
        target: [promptLabels.tenantId, promptLabels.templateId, promptLabels.name],
        set: {
          versionId: row.versionId,
          previousVersionId: row.previousVersionId ?? null,
          movedBy: row.movedBy,
          movedAt: sql`now()`,
        },
      });
  }

  async deleteLabel(tx: Tx, tenantId: string, templateId: string, name: string): Promise<void> {
    await tx
      .delete(promptLabels)
      .where(
        and(
          eq(promptLabels.tenantId, tenantId),
          eq(promptLabels.templateId, templateId),
          eq(promptLabels.name, name),
        ),
      );
  }

  /** The version ids `label` points at in these templates. */
  labelTargets(tx: Tx, tenantId: string, templateIds: readonly string[], label: string) {
    return tx
      .select({ templateId: promptLabels.templateId, versionId: promptLabels.versionId })
      .from(promptLabels)
      .where(
        and(
          eq(promptLabels.tenantId, tenantId),
          inArray(promptLabels.templateId, templateIds),
          eq(promptLabels.name, label),
        ),
      );
  }

  // ─── approvals ──────────────────────────────────────────────────────────────────────────

  async insertApproval(tx: Tx, row: typeof promptApprovals.$inferInsert): Promise<ApprovalRow> {
    return onlyRow(await tx.insert(promptApprovals).values(row).returning(), 'the new approval');
  }

  /** Marks the pending request for a label superseded (a newer request replaces it). */
  async supersedePending(tx: Tx, tenantId: string, templateId: string, label: string) {
    return tx
      .update(promptApprovals)
      .set({ status: 'superseded', decidedAt: sql`now()` })
      .where(
        and(
          eq(promptApprovals.tenantId, tenantId),
          eq(promptApprovals.templateId, templateId),
          eq(promptApprovals.label, label),
          eq(promptApprovals.status, 'pending'),
        ),
      )
      .returning({ id: promptApprovals.id });
  }

  async findApprovalForUpdate(
    tx: Tx,
    tenantId: string,
    id: string,
  ): Promise<ApprovalRow | undefined> {
    const [row] = await tx
      .select()
      .from(promptApprovals)
      .where(and(eq(promptApprovals.tenantId, tenantId), eq(promptApprovals.id, id)))
      .for('update');
    return row;
  }

  async decideApproval(
    tx: Tx,
    tenantId: string,
    id: string,
    decision: { status: PromptApprovalStatus; decidedBy: string },
  ): Promise<void> {
    await tx
      .update(promptApprovals)
      .set({ ...decision, decidedAt: sql`now()` })
      .where(and(eq(promptApprovals.tenantId, tenantId), eq(promptApprovals.id, id)));
  }

  listApprovals(
    tx: Tx,
    tenantId: string,
    filter: {
      status?: PromptApprovalStatus | undefined;
      id?: string | undefined;
      before?: string | undefined;
      limit: number;
    },
  ): Promise<ApprovalView[]> {
    return tx
      .select({
        tenantId: promptApprovals.tenantId,
        id: promptApprovals.id,
        templateId: promptApprovals.templateId,
        label: promptApprovals.label,
        fromVersionId: promptApprovals.fromVersionId,
        toVersionId: promptApprovals.toVersionId,
        status: promptApprovals.status,
        requestedByType: promptApprovals.requestedByType,
        requestedBy: promptApprovals.requestedBy,
        note: promptApprovals.note,
        decidedBy: promptApprovals.decidedBy,
        decidedAt: promptApprovals.decidedAt,
        createdAt: promptApprovals.createdAt,
        key: promptTemplates.key,
        clientId: promptTemplates.clientId,
        fromVersion: fromVersion.version,
        toVersion: toVersion.version,
      })
      .from(promptApprovals)
      .innerJoin(
        promptTemplates,
        and(
          eq(promptTemplates.tenantId, promptApprovals.tenantId),
          eq(promptTemplates.id, promptApprovals.templateId),
        ),
      )
      .leftJoin(
        fromVersion,
        and(
          eq(fromVersion.tenantId, promptApprovals.tenantId),
          eq(fromVersion.id, promptApprovals.fromVersionId),
        ),
      )
      .leftJoin(
        toVersion,
        and(
          eq(toVersion.tenantId, promptApprovals.tenantId),
          eq(toVersion.id, promptApprovals.toVersionId),
        ),
      )
      .where(
        and(
          eq(promptApprovals.tenantId, tenantId),
          filter.status === undefined ? undefined : eq(promptApprovals.status, filter.status),
          filter.id === undefined ? undefined : eq(promptApprovals.id, filter.id),
          filter.before === undefined ? undefined : lt(promptApprovals.id, filter.before),
        ),
      )
      .orderBy(desc(promptApprovals.id))
      .limit(filter.limit);
  }

  // ─── agents' pins ───────────────────────────────────────────────────────────────────────

  listPins(tx: Tx, tenantId: string, agentId: string): Promise<PinRow[]> {
    return tx
      .select()
      .from(agentPromptPins)
      .where(and(eq(agentPromptPins.tenantId, tenantId), eq(agentPromptPins.agentId, agentId)))
      .orderBy(asc(agentPromptPins.promptKey));
  }

  async findPin(
    tx: Tx,
    tenantId: string,
    agentId: string,
    key: string,
  ): Promise<PinRow | undefined> {
    const [row] = await tx
      .select()
      .from(agentPromptPins)
      .where(
        and(
          eq(agentPromptPins.tenantId, tenantId),
          eq(agentPromptPins.agentId, agentId),
          eq(agentPromptPins.promptKey, key),
        ),
      );
    return row;
  }

  async upsertPin(tx: Tx, row: typeof agentPromptPins.$inferInsert): Promise<PinRow> {
    return onlyRow(
      await tx
        .insert(agentPromptPins)
        .values(row)
        .onConflictDoUpdate({
          target: [agentPromptPins.tenantId, agentPromptPins.agentId, agentPromptPins.promptKey],
          set: {
            label: row.label ?? null,
            versionId: row.versionId ?? null,
            updatedBy: row.updatedBy,
            updatedAt: sql`now()`,
          },
        })
        .returning(),
      'the pin',
    );
  }

  async deletePin(tx: Tx, tenantId: string, agentId: string, key: string): Promise<boolean> {
    const rows = await tx
      .delete(agentPromptPins)
      .where(
        and(
          eq(agentPromptPins.tenantId, tenantId),
          eq(agentPromptPins.agentId, agentId),
          eq(agentPromptPins.promptKey, key),
        ),
      )
      .returning({ key: agentPromptPins.promptKey });
    return rows.length === 1;
  }
}
