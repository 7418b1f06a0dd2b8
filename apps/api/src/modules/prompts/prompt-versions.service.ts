import { withTenant, type Database, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import type { AuditEventRow } from '../audit/audit.repository';
import { assertPermission, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import type { VersionInput } from './dto/prompt-schemas';
import { jsonChanges, unifiedDiff, type FieldChange } from './prompt-diff';
import type { PromptResolver } from './prompt-resolver';
import { promptNotFound, requireTemplate, type PromptScope } from './prompt-scope';
import { bodyOfRow, prepareVersion, type PreparedVersion } from './prompt-version';
import type { PromptsRepository, TemplateRow, VersionRow } from './prompts.repository';

export interface PromptVersionsOptions {
  /** Versions a key may hold (0: unlimited). Past it a new version is refused, never pruned. */
  maxVersions: number;
}

export interface VersionDiff {
  from: number;
  to: number;
  /** Unified diff of the content (chat messages as `[role]` blocks); empty when equal. */
  content: string;
  /** Changed fields of the variables schema, model settings and tags. */
  changes: FieldChange[];
}

/**
 * A prompt's immutable versions: adding one (checked and compiled first; it changes nothing
 * that renders but `latest`), its history, one version, the diff of two, and who moved which
 * label when.
 */
export class PromptVersionsService {
  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly resolver: PromptResolver,
    private readonly audit: AuditService,
    private readonly options: PromptVersionsOptions,
  ) {}

  async createVersion(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    input: VersionInput,
    meta: RequestMeta,
  ): Promise<VersionRow> {
    assertPermission(caller, 'prompts:write', scope.tenantId, scope.clientId);
    const version = await withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key, true);
      return this.createVersionIn(tx, caller, template, input, meta);
    });
    // `latest` moved; nothing else that renders did.
    await this.resolver.changed(scope.tenantId, [key]);
    return version;
  }

  /** Adds a version to a template locked by the caller's transaction. */
  createVersionIn(
    tx: Tx,
    caller: Authenticated,
    template: TemplateRow,
    input: VersionInput,
    meta: RequestMeta,
  ): Promise<VersionRow> {
    return this.insertVersionIn(tx, caller, template, prepareVersion(template.kind, input), meta);
  }

  /** Stores a checked version (`prepareVersion`) as the template's next number. */
  async insertVersionIn(
    tx: Tx,
    caller: Authenticated,
    template: TemplateRow,
    prepared: PreparedVersion,
    meta: RequestMeta,
  ): Promise<VersionRow> {
    if (this.options.maxVersions > 0 && template.latestVersion >= this.options.maxVersions) {
      throw new ProblemError(
        'conflict',
        `${template.key} holds ${template.latestVersion} versions, the most allowed (PROMPT_MAX_VERSIONS); none is ever pruned.`,
      );
    }
    const number = await this.repository.nextVersionNumber(tx, template.tenantId, template.id);
    const row = await this.repository.insertVersion(tx, {
      tenantId: template.tenantId,
      templateId: template.id,
      version: number,
      content: prepared.content,
      messages: prepared.messages,
      variablesSchema: prepared.variablesSchema,
      modelSettings: prepared.modelSettings,
      tags: prepared.tags,
      changeNote: prepared.changeNote,
      authorType: caller.actor.type,
      authorId: caller.actor.id,
      contentHash: prepared.contentHash,
    });
    template.latestVersion = number;
    await this.audit.record(tx, {
      tenantId: template.tenantId,
      actor: caller.actor,
      action: 'prompt.version_created',
      target: { type: 'prompt', id: template.id },
      changes: { key: template.key, clientId: template.clientId, version: number, id: row.id },
      ...meta,
    });
    return row;
  }

  async listVersions(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    page: { cursor?: number | undefined; limit: number },
  ): Promise<VersionRow[]> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key);
      return this.repository.listVersions(tx, scope.tenantId, template.id, {
        before: page.cursor,
        limit: page.limit,
      });
    });
  }

  async getVersion(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    version: number,
  ): Promise<VersionRow> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key);
      const row = await this.repository.findVersion(tx, scope.tenantId, template.id, version);
      if (!row) throw promptNotFound(`${key} has no version ${version}.`);
      return row;
    });
  }

  /**
   * What changed from one version to another: the content as a unified diff, and the settings.
   * By default the newest version against the one before it.
   */
  async diff(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    versions: { from?: number | undefined; to?: number | undefined },
  ): Promise<VersionDiff> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    const [a, b] = await withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key);
      const to = versions.to ?? template.latestVersion;
      const from = versions.from ?? Math.max(1, to - 1);
      const load = async (version: number) => {
        const row = await this.repository.findVersion(tx, scope.tenantId, template.id, version);
        if (!row) throw promptNotFound(`${key} has no version ${version}.`);
        return row;
      };
      return [await load(from), await load(to)];
    });
    const from = a.version;
    const to = b.version;
    return {
      from,
      to,
      content: unifiedDiff(textOf(a), textOf(b), `${key}@${from}`, `${key}@${to}`),
      changes: [
        ...jsonChanges(a.variablesSchema, b.variablesSchema, 'variablesSchema'),
        ...jsonChanges(a.modelSettings, b.modelSettings, 'modelSettings'),
        ...jsonChanges(a.tags, b.tags, 'tags'),
      ],
    };
  }

  /** Who moved which label of this prompt when (from the audit trail), newest first. */
  async labelHistory(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    page: { cursor?: number | undefined; limit: number },
  ): Promise<AuditEventRow[]> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    const template = await withTenant(this.db, scope.tenantId, (tx) =>
      requireTemplate(tx, this.repository, scope, key),
    );
    return this.audit.list(scope.tenantId, {
      action: 'prompt.label_moved',
      targetId: template.id,
      beforeSeq: page.cursor,
      limit: page.limit,
    });
  }
}

/** A version's content as text for a diff: chat messages become `[role]` blocks. */
function textOf(version: VersionRow): string {
  const body = bodyOfRow(version);
  return body.kind === 'text'
    ? body.content
    : body.messages.map((m) => `[${m.role}]\n${m.content}`).join('\n\n');
}
