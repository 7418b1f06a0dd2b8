import { withTenant, type Database, type PromptKind, type Tx } from '@maxai/db';
import type { ReplicatedCache } from '../../platform/cache/replicated-cache';
import { LATEST } from './dto/prompt-schemas';
import { compileStored, type CompiledVersion } from './prompt-version';
import type { PromptsRepository, TemplateRow, VersionRow } from './prompts.repository';

/** Which version: the one a label points at, a version number, or an exact version id. */
export type Selector = { label: string } | { version: number } | { versionId: string };

/** What a (tenant, client, key, selector) resolves to, compiled and ready to render. */
export interface ResolvedPrompt {
  templateId: string;
  key: string;
  kind: PromptKind;
  /** The template's owner: the tenant's library (null) or the client whose override it is. */
  clientId: string | null;
  versionId: string;
  version: number;
  /** The label that led here, when resolved by label. */
  label: string | null;
  modelSettings: Readonly<Record<string, unknown>>;
  compiled: CompiledVersion;
}

/** An agent's pin for a key, or that the agent does not exist in that client. */
export type PinLookup =
  { agent: false } | { agent: true; pin: { label: string } | { versionId: string } | null };

export const promptGroup = (tenantId: string, key: string) => `prompt:${tenantId}:${key}`;
export const agentGroup = (tenantId: string, agentId: string) => `agent:${tenantId}:${agentId}`;

const selectorKey = (clientId: string | undefined, selector: Selector): string =>
  `${clientId ?? ''}|${
    'label' in selector
      ? `l:${selector.label}`
      : 'version' in selector
        ? `v:${selector.version}`
        : `i:${selector.versionId}`
  }`;

/**
 * Resolution of prompts, the hot path of rendering. Answers come from the replicated cache,
 * grouped per (tenant, key) so that one label move, new version or new override drops every
 * resolution of that key — for every client — on every replica; misses (`null` included) are
 * loaded from the database and cached. Compiled versions (parsed templates, ajv validators) are
 * immutable and kept apart, per version id, so a label moving back and forth compiles nothing.
 */
export class PromptResolver {
  private readonly compiled = new Map<string, CompiledVersion>();

  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly cache: ReplicatedCache,
    private readonly maxCompiled = 10_000,
  ) {}

  resolve(
    tenantId: string,
    clientId: string | undefined,
    key: string,
    selector: Selector,
  ): Promise<ResolvedPrompt | null> {
    return this.cache.get(promptGroup(tenantId, key), selectorKey(clientId, selector), () =>
      withTenant(this.db, tenantId, (tx) => this.load(tx, tenantId, clientId, key, selector)),
    );
  }

  /** The agent's pin for `key` (cached with the agent; dropped when its pins change). */
  pin(tenantId: string, clientId: string, agentId: string, key: string): Promise<PinLookup> {
    return this.cache.get(agentGroup(tenantId, agentId), `${clientId}|${key}`, () =>
      withTenant(this.db, tenantId, async (tx): Promise<PinLookup> => {
        if (!(await this.repository.agentOfClient(tx, tenantId, clientId, agentId))) {
          return { agent: false };
        }
        const row = await this.repository.findPin(tx, tenantId, agentId, key);
        if (!row) return { agent: true, pin: null };
        return {
          agent: true,
          // A pin names a label or a version id, never both (a check constraint).
          pin: row.versionId === null ? { label: String(row.label) } : { versionId: row.versionId },
        };
      }),
    );
  }

  /** Drops every resolution of these keys here and on every replica (after the change committed). */
  changed(tenantId: string, keys: Iterable<string>): Promise<void> {
    return this.cache.invalidate([...new Set(keys)].map((key) => promptGroup(tenantId, key)));
  }

  agentChanged(tenantId: string, agentId: string): Promise<void> {
    return this.cache.invalidate([agentGroup(tenantId, agentId)]);
  }

  private async load(
    tx: Tx,
    tenantId: string,
    clientId: string | undefined,
    key: string,
    selector: Selector,
  ): Promise<ResolvedPrompt | null> {
    if (clientId !== undefined && !(await this.repository.clientExists(tx, tenantId, clientId))) {
      return null;
    }
    const templates = await this.repository.candidates(tx, tenantId, clientId ?? null, key);
    const own = templates.find((t) => t.clientId !== null);
    const base = templates.find((t) => t.clientId === null);
    const found = await this.pick(tx, tenantId, { own, base, all: templates }, selector);
    if (!found) return null;
    const { template, version } = found;
    return {
      templateId: template.id,
      key: template.key,
      kind: template.kind,
      clientId: template.clientId,
      versionId: version.id,
      version: version.version,
      label: 'label' in selector ? selector.label : null,
      modelSettings: deepFreeze(version.modelSettings),
      compiled: this.compile(version),
    };
  }

  /**
   * A label resolves in the client's override when the override has that label, else in the
   * tenant's template; a version number (and `latest`) in the override when there is one.
   */
  private async pick(
    tx: Tx,
    tenantId: string,
    templates: {
      own?: TemplateRow | undefined;
      base?: TemplateRow | undefined;
      all: TemplateRow[];
    },
    selector: Selector,
  ): Promise<{ template: TemplateRow; version: VersionRow } | undefined> {
    const { own, base, all } = templates;
    if ('versionId' in selector) {
      const version = await this.repository.findVersionById(tx, tenantId, selector.versionId);
      const template = all.find((t) => t.id === version?.templateId);
      return template && version ? { template, version } : undefined;
    }
    if ('version' in selector || selector.label === LATEST) {
      const template = own ?? base;
      if (!template) return undefined;
      const number = 'version' in selector ? selector.version : template.latestVersion;
      const version = await this.repository.findVersion(tx, tenantId, template.id, number);
      return version ? { template, version } : undefined;
    }
    if (all.length === 0) return undefined;
    const targets = await this.repository.labelTargets(
      tx,
      tenantId,
      all.map((t) => t.id),
      selector.label,
    );
    const target =
      targets.find((t) => t.templateId === own?.id) ??
      targets.find((t) => t.templateId === base?.id);
    const template = all.find((t) => t.id === target?.templateId);
    if (!target || !template) return undefined;
    // A label's version exists (foreign key): load it as such.
    const version = await this.repository.versionById(tx, tenantId, target.versionId);
    return { template, version };
  }

  /** The compiled form of a version, from the per-process map (least recently used goes first). */
  private compile(version: VersionRow): CompiledVersion {
    const hit = this.compiled.get(version.id);
    if (hit) {
      this.compiled.delete(version.id);
      this.compiled.set(version.id, hit);
      return hit;
    }
    const compiled = compileStored(version);
    if (this.compiled.size >= this.maxCompiled) {
      for (const oldest of this.compiled.keys()) {
        this.compiled.delete(oldest);
        break;
      }
    }
    this.compiled.set(version.id, compiled);
    return compiled;
  }
}

/** Cached values are shared by every caller: frozen, so that none can change them for others. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
