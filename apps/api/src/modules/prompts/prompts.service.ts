import { withTenant, type Database, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { DEFAULT_LABEL } from './dto/prompt-schemas';
import type { PromptRenderer, RenderInput, RenderResult } from './prompt-renderer';
import type { PromptResolver, ResolvedPrompt } from './prompt-resolver';
import {
  assertScope,
  ownerOf,
  requireTemplate,
  type PromptApprovalPolicy,
  type PromptScope,
} from './prompt-scope';
import type { LabelView, PromptsRepository, TemplateRow } from './prompts.repository';

/** A template with where its labels point. */
export interface TemplateWithLabels {
  template: TemplateRow;
  labels: LabelView[];
}

/**
 * Prompt templates — in a tenant's library or a client's overrides of it — and rendering. Versions
 * are PromptVersionsService's, labels PromptLabelsService's. `render` is the in-process entry
 * point for other modules.
 */
export class PromptsService {
  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly resolver: PromptResolver,
    private readonly renderer: PromptRenderer,
    private readonly audit: AuditService,
    private readonly policy: PromptApprovalPolicy,
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

  // ─── rendering ──────────────────────────────────────────────────────────────────────────

  /** Which version a render would use (404 when none). */
  async resolveFor(
    caller: Authenticated,
    scope: PromptScope,
    input: Omit<RenderInput, 'variables' | 'clientId'>,
  ): Promise<ResolvedPrompt> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return this.renderer.resolve(scope.tenantId, { ...input, clientId: scope.clientId });
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
   * Resolves (cached) and renders a prompt: the in-process entry point for other modules (the
   * orchestrator's `llm.generate` steps). The variables are validated against the version's
   * schema (422 prompt-variables-invalid, one error per field) and are the template's only
   * scope. No permission check: for callers inside the platform that checked theirs.
   */
  render(tenantId: string, input: RenderInput): Promise<RenderResult> {
    return this.renderer.render(tenantId, input);
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

function unique(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}
