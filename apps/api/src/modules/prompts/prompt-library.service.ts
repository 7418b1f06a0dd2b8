import { withTenant, type Database, type Tx } from '@maxai/db';
import { stringify } from 'yaml';
import { ProblemError, type FieldError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import {
  LATEST,
  LIBRARY_FORMAT,
  type LibraryDocument,
  type LibraryPrompt,
} from './dto/prompt-schemas';
import type { LabelOutcome, PromptLabelsService } from './prompt-labels.service';
import type { PromptResolver } from './prompt-resolver';
import { assertScope, ownerOf, type PromptScope } from './prompt-scope';
import { prepareVersion } from './prompt-version';
import type { PromptsRepository, TemplateRow, VersionRow } from './prompts.repository';
import type { PromptVersionsService } from './prompt-versions.service';
import type { PromptsService } from './prompts.service';

/** What an import did, per prompt and in all. */
export interface ImportReport {
  templatesCreated: number;
  versionsCreated: number;
  labelsMoved: number;
  approvalsRequested: number;
  prompts: {
    key: string;
    created: boolean;
    /** File version number → the version it is here (created now or matched by content). */
    versions: Record<string, { version: number; created: boolean }>;
    labels: Record<string, LabelOutcome['outcome']>;
  }[];
}

/**
 * A library — the tenant's shared prompts, or one client's overrides — as one document, for
 * review in git: exported deterministically (keys sorted, versions ascending), imported
 * idempotently. An import matches each file version to an existing version with the same content
 * hash (content, variables schema, model settings) and creates only the others, so importing the
 * same file twice changes nothing; then it points the file's labels at the matched versions with
 * the usual rules (protected labels need prompts:publish, approvals when required). It is one
 * transaction: any refusal leaves everything as it was. Labels the file does not name stay.
 */
export class PromptLibraryService {
  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly prompts: PromptsService,
    private readonly versions: PromptVersionsService,
    private readonly labels: PromptLabelsService,
    private readonly resolver: PromptResolver,
    private readonly audit: AuditService,
  ) {}

  async export(caller: Authenticated, scope: PromptScope): Promise<LibraryDocument> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return withTenant(this.db, scope.tenantId, async (tx) => {
      await assertScope(tx, this.repository, scope);
      const prompts: LibraryPrompt[] = [];
      for (let after: string | undefined; ;) {
        const templates = await this.repository.listTemplates(tx, scope.tenantId, ownerOf(scope), {
          after,
          limit: 200,
        });
        for (const template of templates) prompts.push(await this.exportOne(tx, template));
        if (templates.length < 200) break;
        after = templates.at(-1)?.key;
      }
      return { format: LIBRARY_FORMAT, prompts };
    });
  }

  async import(
    caller: Authenticated,
    scope: PromptScope,
    document: LibraryDocument,
    meta: RequestMeta,
  ): Promise<ImportReport> {
    assertPermission(caller, 'prompts:write', scope.tenantId, scope.clientId);
    assertWellFormed(document);
    const report: ImportReport = {
      templatesCreated: 0,
      versionsCreated: 0,
      labelsMoved: 0,
      approvalsRequested: 0,
      prompts: [],
    };
    const touched = new Set<string>();
    await withTenant(this.db, scope.tenantId, async (tx) => {
      await assertScope(tx, this.repository, scope);
      for (const [index, prompt] of document.prompts.entries()) {
        const one = await this.importOne(tx, caller, scope, prompt, `body.prompts.${index}`, meta);
        report.prompts.push(one);
        const created = Object.values(one.versions).filter((v) => v.created).length;
        const outcomes = Object.values(one.labels);
        report.templatesCreated += one.created ? 1 : 0;
        report.versionsCreated += created;
        report.labelsMoved += outcomes.filter((o) => o === 'moved').length;
        report.approvalsRequested += outcomes.filter((o) => o === 'approval_requested').length;
        if (one.created || created > 0 || outcomes.includes('moved')) touched.add(prompt.key);
      }
      await this.audit.record(tx, {
        tenantId: scope.tenantId,
        actor: caller.actor,
        action: 'prompt.library_imported',
        target: scope.clientId
          ? { type: 'client', id: scope.clientId }
          : { type: 'tenant', id: scope.tenantId },
        changes: {
          prompts: document.prompts.length,
          templatesCreated: report.templatesCreated,
          versionsCreated: report.versionsCreated,
          labelsMoved: report.labelsMoved,
          approvalsRequested: report.approvalsRequested,
        },
        ...meta,
      });
    });
    await this.resolver.changed(scope.tenantId, touched);
    return report;
  }

  private async importOne(
    tx: Tx,
    caller: Authenticated,
    scope: PromptScope,
    prompt: LibraryPrompt,
    prefix: string,
    meta: RequestMeta,
  ): Promise<ImportReport['prompts'][number]> {
    let template = await this.repository.findTemplate(
      tx,
      scope.tenantId,
      ownerOf(scope),
      prompt.key,
      true,
    );
    const created = template === undefined;
    if (!template) {
      template = await this.prompts.createIn(tx, caller, scope, prompt, meta);
    } else {
      if (template.kind !== prompt.kind) {
        throw invalid(
          `${prefix}.kind`,
          `is ${template.kind} here; a template's kind does not change`,
        );
      }
      template = await this.prompts.updateIn(tx, caller, template, prompt, meta);
    }
    const byHash = new Map<string, VersionRow>();
    for (const row of await this.repository.allVersions(tx, scope.tenantId, template.id)) {
      if (!byHash.has(row.contentHash)) byHash.set(row.contentHash, row);
    }
    const versions: ImportReport['prompts'][number]['versions'] = {};
    const ids = new Map<number, string>();
    const ordered = [...prompt.versions.entries()].sort(([, a], [, b]) => a.version - b.version);
    for (const [index, version] of ordered) {
      const prepared = prepareVersion(template.kind, version, `${prefix}.versions.${index}`);
      let row = byHash.get(prepared.contentHash);
      const isNew = row === undefined;
      if (!row) {
        row = await this.versions.insertVersionIn(tx, caller, template, prepared, meta);
        byHash.set(row.contentHash, row);
      }
      versions[String(version.version)] = { version: row.version, created: isNew };
      ids.set(version.version, row.id);
    }
    const labels: Record<string, LabelOutcome['outcome']> = {};
    for (const [label, fileVersion] of Object.entries(prompt.labels).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const toVersionId = ids.get(fileVersion);
      if (toVersionId === undefined) {
        throw invalid(`${prefix}.labels.${label}`, `names version ${fileVersion}, not in the file`);
      }
      const outcome = await this.labels.changeIn(
        tx,
        caller,
        { template, label, toVersionId },
        meta,
      );
      labels[label] = outcome.outcome;
    }
    return { key: prompt.key, created, versions, labels };
  }

  private async exportOne(tx: Tx, template: TemplateRow): Promise<LibraryPrompt> {
    const [versions, labels] = await Promise.all([
      this.repository.allVersions(tx, template.tenantId, template.id),
      this.repository.labels(tx, template.tenantId, [template.id]),
    ]);
    return {
      key: template.key,
      kind: template.kind,
      description: template.description,
      protectedLabels: [...template.protectedLabels].sort(),
      labels: Object.fromEntries(labels.map((l) => [l.name, l.version])),
      versions: versions.map((v) => ({
        version: v.version,
        changeNote: v.changeNote,
        tags: v.tags,
        modelSettings: v.modelSettings,
        variablesSchema: v.variablesSchema,
        ...(v.messages ? { messages: v.messages } : { content: v.content }),
      })),
    };
  }
}

/** The YAML form of a library: block scalars for multi-line templates, no line folding. */
export function libraryYaml(document: LibraryDocument): string {
  return stringify(document, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false });
}

/** Keys unique in the file, version numbers unique per prompt, no `latest` label. */
function assertWellFormed(document: LibraryDocument): void {
  const errors: FieldError[] = [];
  const keys = new Set<string>();
  for (const [i, prompt] of document.prompts.entries()) {
    const at = `body.prompts.${i}`;
    if (keys.has(prompt.key))
      errors.push({ field: `${at}.key`, message: 'appears twice in the file' });
    keys.add(prompt.key);
    const numbers = new Set<number>();
    for (const [j, version] of prompt.versions.entries()) {
      if (numbers.has(version.version)) {
        errors.push({
          field: `${at}.versions.${j}.version`,
          message: 'appears twice for this prompt',
        });
      }
      numbers.add(version.version);
    }
    for (const label of Object.keys(prompt.labels)) {
      if (label === LATEST) {
        errors.push({ field: `${at}.labels.${label}`, message: 'is computed, not set' });
      }
    }
  }
  if (errors.length > 0)
    throw new ProblemError('unprocessable-content', 'The library does not hold together.', {
      errors,
    });
}

function invalid(field: string, message: string): ProblemError {
  return new ProblemError('unprocessable-content', 'The library does not fit what is here.', {
    errors: [{ field, message }],
  });
}
