import { withTenant, type ChatMessage, type Database, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import type { AuditEventRow } from '../audit/audit.repository';
import { assertPermission, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { DEFAULT_LABEL, type VersionInput } from './dto/prompt-schemas';
import { jsonChanges, unifiedDiff, type FieldChange } from './prompt-diff';
import type { PromptResolver, ResolvedPrompt, Selector } from './prompt-resolver';
import {
  assertScope,
  ownerOf,
  promptNotFound,
  requireTemplate,
  type PromptApprovalPolicy,
  type PromptScope,
} from './prompt-scope';
import { bodyOfRow, prepareVersion, type PreparedVersion } from './prompt-version';
import type { LabelView, PromptsRepository, TemplateRow, VersionRow } from './prompts.repository';
import { RenderFailure, renderBody } from './template-engine';
import { variableErrors } from './variables-schema';

/** A template with where its labels point. */
export interface TemplateWithLabels {
  template: TemplateRow;
  labels: LabelView[];
}

/** What to render: a key, for a client (and agent) or the tenant, with its variables. */
export interface RenderInput {
  /** Resolve in this client's overrides first, then the tenant's library. */
  clientId?: string | undefined;
  /** Use this agent's pin for the key (needs clientId; excludes label/version/versionId). */
  agentId?: string | undefined;
  key: string;
  /** Default: the agent's pin with agentId, else `production`. */
  label?: string | undefined;
  version?: number | undefined;
  versionId?: string | undefined;
  variables?: Record<string, unknown> | undefined;
}

/** A rendered prompt and what the LLM call needs, stamped with the version that produced it. */
export interface RenderResult {
  key: string;
  kind: 'text' | 'chat';
  templateId: string;
  versionId: string;
  version: number;
  label: string | null;
  /** Whose template answered: the tenant's library or the client's override. */
  scope: 'tenant' | 'client';
  text?: string;
  messages?: ChatMessage[];
  modelSettings: Readonly<Record<string, unknown>>;
}

export interface PromptsOptions {
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
 * Prompt templates and their immutable versions, and rendering. A template belongs to its
 * tenant's library or to one client (an override of the tenant's template of the same key).
 * Creating a version never changes what renders: labels do (PromptLabelsService). `render` is
 * also the in-process entry point for other modules (the orchestrator's `llm.generate` steps).
 */
export class PromptsService {
  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly resolver: PromptResolver,
    private readonly audit: AuditService,
    private readonly policy: PromptApprovalPolicy,
    private readonly options: PromptsOptions,
  ) {}

  // ─── templates ──────────────────────────────────────────────────────────────────────────

  async list(
    caller: Authenticated,
    scope: PromptScope,
    page: { cursor?: string | undefined; limit: number },
  ): Promise<TemplateWithLabels[]> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return withTenant(this.db, scope.tenantId, async (tx) => {
      await assertScope(tx, this.repository, scope);
      const templates = await this.repository.listTemplates(tx, scope.tenantId, ownerOf(scope), {
        after: page.cursor,
        limit: page.limit,
      });
      return this.withLabels(tx, scope.tenantId, templates);
    });
  }

  async get(caller: Authenticated, scope: PromptScope, key: string): Promise<TemplateWithLabels> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key);
      return { template, labels: await this.repository.labels(tx, scope.tenantId, [template.id]) };
    });
  }

  async create(
    caller: Authenticated,
    scope: PromptScope,
    input: {
      key: string;
      kind: 'text' | 'chat';
      description: string;
      protectedLabels?: string[] | undefined;
    },
    meta: RequestMeta,
  ): Promise<TemplateWithLabels> {
    const template = await withTenant(this.db, scope.tenantId, (tx) =>
      this.createIn(tx, caller, scope, input, meta),
    );
    // A client override can change which template answers that client: drop what was cached.
    await this.resolver.changed(scope.tenantId, [template.key]);
    return { template, labels: [] };
  }

  /** Creates a template in the caller's transaction (the library import uses it too). */
  async createIn(
    tx: Tx,
    caller: Authenticated,
    scope: PromptScope,
    input: {
      key: string;
      kind: 'text' | 'chat';
      description: string;
      protectedLabels?: string[] | undefined;
    },
    meta: RequestMeta,
  ): Promise<TemplateRow> {
    assertPermission(caller, 'prompts:write', scope.tenantId, scope.clientId);
    const protectedLabels = unique(input.protectedLabels ?? [DEFAULT_LABEL]);
    // Fewer protected labels than the default is a governance decision, not an edit.
    if (!sameSet(protectedLabels, [DEFAULT_LABEL])) {
      assertPermission(caller, 'prompts:publish', scope.tenantId, scope.clientId);
    }
    await assertScope(tx, this.repository, scope);
    const template = await this.repository.insertTemplate(tx, {
      tenantId: scope.tenantId,
      clientId: ownerOf(scope),
      key: input.key,
      kind: input.kind,
      description: input.description,
      protectedLabels,
      createdBy: caller.actor.id,
    });
    if (!template) throw new ProblemError('conflict', `A prompt ${input.key} exists here already.`);
    await this.audit.record(tx, {
      tenantId: scope.tenantId,
      actor: caller.actor,
      action: 'prompt.created',
      target: { type: 'prompt', id: template.id },
      changes: {
        key: template.key,
        clientId: template.clientId,
        kind: template.kind,
        protectedLabels,
      },
      ...meta,
    });
    return template;
  }

  async update(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    patch: { description?: string | undefined; protectedLabels?: string[] | undefined },
    meta: RequestMeta,
  ): Promise<TemplateWithLabels> {
    assertPermission(caller, 'prompts:write', scope.tenantId, scope.clientId);
    return withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key, true);
      const updated = await this.updateIn(tx, caller, template, patch, meta);
      return {
        template: updated,
        labels: await this.repository.labels(tx, scope.tenantId, [updated.id]),
      };
    });
  }

  /** Changes a template's description or protected labels (the latter needs prompts:publish). */
  async updateIn(
    tx: Tx,
    caller: Authenticated,
    template: TemplateRow,
    patch: { description?: string | undefined; protectedLabels?: string[] | undefined },
    meta: RequestMeta,
  ): Promise<TemplateRow> {
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const next: { description?: string; protectedLabels?: string[] } = {};
    if (patch.description !== undefined && patch.description !== template.description) {
      changes.description = { from: template.description, to: patch.description };
      next.description = patch.description;
    }
    if (patch.protectedLabels !== undefined) {
      const labels = unique(patch.protectedLabels);
      if (!sameSet(labels, template.protectedLabels)) {
        // Unprotecting production would let anyone with prompts:write move it.
        assertPermission(
          caller,
          'prompts:publish',
          template.tenantId,
          template.clientId ?? undefined,
        );
        changes.protectedLabels = { from: template.protectedLabels, to: labels };
        next.protectedLabels = labels;
      }
    }
    if (Object.keys(changes).length === 0) return template;
    const updated = await this.repository.updateTemplate(tx, template.tenantId, template.id, next);
    await this.audit.record(tx, {
      tenantId: template.tenantId,
      actor: caller.actor,
      action: 'prompt.updated',
      target: { type: 'prompt', id: template.id },
      changes: { key: template.key, ...changes },
      ...meta,
    });
    return updated;
  }

  /**
   * Deletes a template with its versions and labels (prompts:publish: it can change what
   * renders). Refused while an agent pins one of its versions, and — when approvals are
   * required — while a protected label points into it.
   */
  async delete(
    caller: Authenticated,
    scope: PromptScope,
    key: string,
    meta: RequestMeta,
  ): Promise<void> {
    assertPermission(caller, 'prompts:publish', scope.tenantId, scope.clientId);
    await withTenant(this.db, scope.tenantId, async (tx) => {
      const template = await requireTemplate(tx, this.repository, scope, key, true);
      const labels = await this.repository.labels(tx, scope.tenantId, [template.id]);
      const guarded = labels.filter((l) => template.protectedLabels.includes(l.name));
      if (guarded.length > 0 && (await this.policy.promptApprovalRequired(tx, scope.tenantId))) {
        throw new ProblemError(
          'conflict',
          `Protected labels (${guarded.map((l) => l.name).join(', ')}) point into this prompt: remove them through an approval first.`,
        );
      }
      // Pinning reads the template FOR SHARE: no pin can appear after this check.
      if (await this.repository.isPinned(tx, scope.tenantId, template.id)) {
        throw new ProblemError(
          'conflict',
          'An agent pins a version of this prompt: unpin it first.',
        );
      }
      await this.repository.deleteTemplate(tx, scope.tenantId, template.id);
      await this.audit.record(tx, {
        tenantId: scope.tenantId,
        actor: caller.actor,
        action: 'prompt.deleted',
        target: { type: 'prompt', id: template.id },
        changes: {
          key,
          clientId: template.clientId,
          versions: template.latestVersion,
          labels: Object.fromEntries(labels.map((l) => [l.name, l.version])),
        },
        ...meta,
      });
    });
    await this.resolver.changed(scope.tenantId, [key]);
  }

  // ─── versions ───────────────────────────────────────────────────────────────────────────

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

  // ─── rendering ──────────────────────────────────────────────────────────────────────────

  /** Which version a render would use (404 when none). */
  async resolveFor(
    caller: Authenticated,
    scope: PromptScope,
    input: Omit<RenderInput, 'variables' | 'clientId'>,
  ): Promise<ResolvedPrompt> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return this.resolve(scope.tenantId, { ...input, clientId: scope.clientId });
  }

  /** Renders for an HTTP caller: `prompts:read` on the scope, then `render`. */
  async renderFor(
    caller: Authenticated,
    scope: PromptScope,
    input: Omit<RenderInput, 'clientId'>,
  ): Promise<RenderResult> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return this.render(scope.tenantId, { ...input, clientId: scope.clientId });
  }

  /**
   * Resolves (cached) and renders a prompt. The variables are validated against the version's
   * schema first (422 prompt-variables-invalid, one error per field) and are the template's
   * only scope. No permission check: for callers inside the platform that checked theirs.
   */
  async render(tenantId: string, input: RenderInput): Promise<RenderResult> {
    const resolved = await this.resolve(tenantId, input);
    const variables = input.variables ?? {};
    const { validate, body } = resolved.compiled;
    if (!validate(variables)) {
      throw new ProblemError('prompt-variables-invalid', 'The variables do not fit the schema.', {
        errors: variableErrors(validate.errors),
      });
    }
    const rendered = renderBody(body, variables);
    if (rendered instanceof RenderFailure) throw renderProblem(rendered);
    return {
      key: resolved.key,
      kind: resolved.kind,
      templateId: resolved.templateId,
      versionId: resolved.versionId,
      version: resolved.version,
      label: resolved.label,
      scope: resolved.clientId === null ? 'tenant' : 'client',
      ...(rendered.kind === 'text' ? { text: rendered.text } : { messages: rendered.messages }),
      modelSettings: resolved.modelSettings,
    };
  }

  private async resolve(
    tenantId: string,
    input: Omit<RenderInput, 'variables'>,
  ): Promise<ResolvedPrompt> {
    const selector = await this.selectorOf(tenantId, input);
    const resolved = await this.resolver.resolve(tenantId, input.clientId, input.key, selector);
    if (!resolved)
      throw promptNotFound(`Nothing to render for ${input.key} (${describe(selector)}).`);
    return resolved;
  }

  private async selectorOf(
    tenantId: string,
    input: Omit<RenderInput, 'variables'>,
  ): Promise<Selector> {
    const given = [input.label, input.version, input.versionId].filter((v) => v !== undefined);
    if (given.length > 1 || (input.agentId !== undefined && given.length > 0)) {
      throw new ProblemError(
        'validation-error',
        'Name one of label, version, versionId or agentId.',
        {
          errors: [
            {
              field: 'body',
              message: 'expected at most one of label, version, versionId, agentId',
            },
          ],
        },
      );
    }
    if (input.versionId !== undefined) return { versionId: input.versionId };
    if (input.version !== undefined) return { version: input.version };
    if (input.label !== undefined) return { label: input.label };
    if (input.agentId === undefined) return { label: DEFAULT_LABEL };
    if (input.clientId === undefined) {
      throw new ProblemError('validation-error', "An agent's prompt is rendered for its client.", {
        errors: [{ field: 'clientId', message: 'required with agentId' }],
      });
    }
    const lookup = await this.resolver.pin(tenantId, input.clientId, input.agentId, input.key);
    if (!lookup.agent) throw new ProblemError('not-found', 'No such agent in this client.');
    return lookup.pin ?? { label: DEFAULT_LABEL };
  }

  private async withLabels(
    tx: Tx,
    tenantId: string,
    templates: TemplateRow[],
  ): Promise<TemplateWithLabels[]> {
    const labels = await this.repository.labels(
      tx,
      tenantId,
      templates.map((t) => t.id),
    );
    return templates.map((template) => ({
      template,
      labels: labels.filter((l) => l.templateId === template.id),
    }));
  }
}

/** A version's content as text for a diff: chat messages become `[role]` blocks. */
function textOf(version: VersionRow): string {
  const body = bodyOfRow(version);
  return body.kind === 'text'
    ? body.content
    : body.messages.map((m) => `[${m.role}]\n${m.content}`).join('\n\n');
}

function renderProblem(failure: RenderFailure): ProblemError {
  if (failure.undefinedVariable !== undefined) {
    return new ProblemError('prompt-variables-invalid', 'The template reads a missing variable.', {
      errors: [
        { field: `variables.${failure.undefinedVariable}`, message: 'is required by the template' },
      ],
    });
  }
  return new ProblemError('prompt-render-failed', failure.message);
}

function describe(selector: Selector): string {
  if ('label' in selector) return `label ${selector.label}`;
  if ('version' in selector) return `version ${selector.version}`;
  return `version id ${selector.versionId}`;
}

function unique(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}
