import { withTenant, type Database, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import type { PromptResolver } from './prompt-resolver';
import type { PinRow, PromptsRepository } from './prompts.repository';

/** An agent's scope: the tenant and client it belongs to. */
export interface AgentScope {
  tenantId: string;
  clientId: string;
  agentId: string;
}

/** A pin with the version number it names (exact pins). */
export interface PinView extends PinRow {
  version: number | null;
}

/**
 * Which prompt an agent speaks with, per key: a label it follows (`production` when it has no
 * pin) or one exact version. A pin decides what customers hear as much as a label move does, so
 * changing one needs `prompts:publish` (and `agents:update`) on the agent's client.
 */
export class PromptPinsService {
  constructor(
    private readonly db: Database,
    private readonly repository: PromptsRepository,
    private readonly resolver: PromptResolver,
    private readonly audit: AuditService,
  ) {}

  async list(caller: Authenticated, scope: AgentScope): Promise<PinView[]> {
    assertPermission(caller, 'prompts:read', scope.tenantId, scope.clientId);
    return withTenant(this.db, scope.tenantId, async (tx) => {
      await this.assertAgent(tx, scope);
      const pins = await this.repository.listPins(tx, scope.tenantId, scope.agentId);
      return Promise.all(pins.map((pin) => this.view(tx, pin)));
    });
  }

  async set(
    caller: Authenticated,
    scope: AgentScope,
    key: string,
    target: { label?: string | undefined; versionId?: string | undefined },
    meta: RequestMeta,
  ): Promise<PinView> {
    assertPermission(caller, 'prompts:publish', scope.tenantId, scope.clientId);
    assertPermission(caller, 'agents:update', scope.tenantId, scope.clientId);
    if ((target.label === undefined) === (target.versionId === undefined)) {
      throw new ProblemError('validation-error', 'A pin names a label or a version id.', {
        errors: [{ field: 'body', message: 'expected exactly one of label, versionId' }],
      });
    }
    const pin = await withTenant(this.db, scope.tenantId, async (tx) => {
      await this.assertAgent(tx, scope);
      if (target.versionId !== undefined)
        await this.assertVersionOf(tx, scope, key, target.versionId);
      const row = await this.repository.upsertPin(tx, {
        tenantId: scope.tenantId,
        agentId: scope.agentId,
        promptKey: key,
        label: target.label ?? null,
        versionId: target.versionId ?? null,
        updatedBy: caller.actor.id,
      });
      await this.audit.record(tx, {
        tenantId: scope.tenantId,
        actor: caller.actor,
        action: 'agent.prompt_pinned',
        target: { type: 'agent', id: scope.agentId },
        changes: { key, label: row.label, versionId: row.versionId },
        ...meta,
      });
      return this.view(tx, row);
    });
    await this.resolver.agentChanged(scope.tenantId, scope.agentId);
    return pin;
  }

  async remove(
    caller: Authenticated,
    scope: AgentScope,
    key: string,
    meta: RequestMeta,
  ): Promise<void> {
    assertPermission(caller, 'prompts:publish', scope.tenantId, scope.clientId);
    assertPermission(caller, 'agents:update', scope.tenantId, scope.clientId);
    await withTenant(this.db, scope.tenantId, async (tx) => {
      await this.assertAgent(tx, scope);
      if (!(await this.repository.deletePin(tx, scope.tenantId, scope.agentId, key))) {
        throw new ProblemError('not-found', `The agent has no pin for ${key}.`);
      }
      await this.audit.record(tx, {
        tenantId: scope.tenantId,
        actor: caller.actor,
        action: 'agent.prompt_unpinned',
        target: { type: 'agent', id: scope.agentId },
        changes: { key },
        ...meta,
      });
    });
    await this.resolver.agentChanged(scope.tenantId, scope.agentId);
  }

  private async assertAgent(tx: Tx, scope: AgentScope): Promise<void> {
    if (!(await this.repository.agentOfClient(tx, scope.tenantId, scope.clientId, scope.agentId))) {
      throw new ProblemError('not-found', 'No such agent in this client.');
    }
  }

  /** An exact pin must name a version of this key in the tenant's library or this client's. */
  private async assertVersionOf(tx: Tx, scope: AgentScope, key: string, versionId: string) {
    const template = await this.repository.templateOfVersion(tx, scope.tenantId, versionId);
    const fits =
      template?.key === key && (template.clientId === null || template.clientId === scope.clientId);
    if (!fits)
      throw new ProblemError('not-found', `No version ${versionId} of ${key} for this agent.`);
  }

  private async view(tx: Tx, pin: PinRow): Promise<PinView> {
    const version =
      pin.versionId === null
        ? null
        : (await this.repository.versionById(tx, pin.tenantId, pin.versionId)).version;
    return { ...pin, version };
  }
}
