import { withTenant, type Database, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import { pageOf, type Page } from '../../platform/http/pagination';
import type { AuditRecord, AuditService } from '../audit/audit.service';
import { notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { clientsGranted, isAllowed, type Permission, type Principal } from '../iam/permissions';
import type { AgentRow, ClientRow, TenancyRepository } from './tenancy.repository';

export interface PageQuery {
  limit: number;
  cursor?: string | undefined;
}

type AgentInput = Pick<AgentRow, 'name' | 'channel' | 'status' | 'timezone' | 'settings'>;

const byId = (row: { id: string }): string => row.id;

/**
 * Clients and agents. Every method checks the caller against the resource it actually touches
 * (the service-layer check: an agent is judged by its own client, not by the path), runs inside
 * the tenant's RLS context, and audits what it changes in the same transaction.
 */
export class TenancyService {
  constructor(
    private readonly db: Database,
    private readonly repository: TenancyRepository,
    private readonly audit: AuditService,
  ) {}

  listClients(caller: Authenticated, tenantId: string, page: PageQuery): Promise<Page<ClientRow>> {
    const tenantWide = isAllowed(caller.principal, 'clients:read', { tenantId });
    const onlyIds = tenantWide
      ? undefined
      : clientsGranted(caller.principal, 'clients:read', tenantId);
    return withTenant(this.db, tenantId, async (tx) =>
      pageOf(
        await this.repository.listClients(tx, tenantId, {
          ...page,
          onlyIds,
          limit: page.limit + 1,
        }),
        page.limit,
        byId,
      ),
    );
  }

  getClient(caller: Authenticated, tenantId: string, clientId: string): Promise<ClientRow> {
    return withTenant(this.db, tenantId, (tx) =>
      this.loadClient(tx, caller.principal, 'clients:read', tenantId, clientId),
    );
  }

  async createClient(
    caller: Authenticated,
    tenantId: string,
    input: { name: string },
    meta: RequestMeta,
  ): Promise<ClientRow> {
    assertAllowed(caller.principal, 'clients:create', { tenantId });
    return withTenant(this.db, tenantId, async (tx) => {
      const client = await this.repository.insertClient(tx, tenantId, input);
      await this.record(tx, caller, meta, {
        tenantId,
        action: 'client.created',
        target: { type: 'client', id: client.id },
        changes: input,
      });
      return client;
    });
  }

  updateClient(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    input: Partial<Pick<ClientRow, 'name' | 'status'>>,
    meta: RequestMeta,
  ): Promise<ClientRow> {
    return withTenant(this.db, tenantId, async (tx) => {
      await this.loadClient(tx, caller.principal, 'clients:update', tenantId, clientId);
      const updated = await this.repository.updateClient(tx, tenantId, clientId, input);
      if (!updated) throw notFound();
      await this.record(tx, caller, meta, {
        tenantId,
        action: 'client.updated',
        target: { type: 'client', id: clientId },
        changes: input,
      });
      return updated;
    });
  }

  deleteClient(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    meta: RequestMeta,
  ): Promise<void> {
    return withTenant(this.db, tenantId, async (tx) => {
      await this.loadClient(tx, caller.principal, 'clients:delete', tenantId, clientId);
      await this.repository.deleteClient(tx, tenantId, clientId);
      await this.record(tx, caller, meta, {
        tenantId,
        action: 'client.deleted',
        target: { type: 'client', id: clientId },
      });
    });
  }

  listAgents(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    page: PageQuery,
  ): Promise<Page<AgentRow>> {
    return withTenant(this.db, tenantId, async (tx) => {
      await this.loadClient(tx, caller.principal, 'agents:read', tenantId, clientId);
      return pageOf(
        await this.repository.listAgents(tx, tenantId, clientId, {
          ...page,
          limit: page.limit + 1,
        }),
        page.limit,
        byId,
      );
    });
  }

  getAgent(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    agentId: string,
  ): Promise<AgentRow> {
    return withTenant(this.db, tenantId, (tx) =>
      this.loadAgent(tx, caller.principal, 'agents:read', tenantId, clientId, agentId),
    );
  }

  createAgent(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    input: AgentInput,
    meta: RequestMeta,
  ): Promise<AgentRow> {
    return withTenant(this.db, tenantId, async (tx) => {
      await this.loadClient(tx, caller.principal, 'agents:create', tenantId, clientId);
      const agent = await this.repository.insertAgent(tx, tenantId, { ...input, clientId });
      await this.record(tx, caller, meta, {
        tenantId,
        action: 'agent.created',
        target: { type: 'agent', id: agent.id },
        changes: { ...input, clientId },
      });
      return agent;
    });
  }

  updateAgent(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    agentId: string,
    input: Partial<Omit<AgentInput, 'channel'>>,
    meta: RequestMeta,
  ): Promise<AgentRow> {
    return withTenant(this.db, tenantId, async (tx) => {
      await this.loadAgent(tx, caller.principal, 'agents:update', tenantId, clientId, agentId);
      const updated = await this.repository.updateAgent(tx, tenantId, agentId, input);
      if (!updated) throw notFound();
      await this.record(tx, caller, meta, {
        tenantId,
        action: 'agent.updated',
        target: { type: 'agent', id: agentId },
        changes: input,
      });
      return updated;
    });
  }

  deleteAgent(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    agentId: string,
    meta: RequestMeta,
  ): Promise<void> {
    return withTenant(this.db, tenantId, async (tx) => {
      await this.loadAgent(tx, caller.principal, 'agents:delete', tenantId, clientId, agentId);
      await this.repository.deleteAgent(tx, tenantId, agentId);
      await this.record(tx, caller, meta, {
        tenantId,
        action: 'agent.deleted',
        target: { type: 'agent', id: agentId },
      });
    });
  }

  private async loadClient(
    tx: Tx,
    principal: Principal,
    permission: Permission,
    tenantId: string,
    clientId: string,
  ): Promise<ClientRow> {
    const client = await this.repository.findClient(tx, tenantId, clientId);
    if (!client) throw notFound();
    assertAllowed(principal, permission, { tenantId, clientId: client.id });
    return client;
  }

  private async loadAgent(
    tx: Tx,
    principal: Principal,
    permission: Permission,
    tenantId: string,
    clientId: string,
    agentId: string,
  ): Promise<AgentRow> {
    const agent = await this.repository.findAgent(tx, tenantId, agentId);
    // An agent reached through another client's path does not exist there.
    if (agent?.clientId !== clientId) throw notFound();
    assertAllowed(principal, permission, { tenantId, clientId: agent.clientId });
    return agent;
  }

  private record(
    tx: Tx,
    caller: Authenticated,
    meta: RequestMeta,
    entry: Omit<AuditRecord, 'actor'>,
  ): Promise<unknown> {
    return this.audit.record(tx, {
      ...entry,
      actor: caller.actor,
      ...meta,
    });
  }
}

/** The service-layer check: a resource the caller cannot see is "not found"; one it can see, "forbidden". */
function assertAllowed(
  principal: Principal,
  permission: Permission,
  scope: { tenantId: string; clientId?: string },
): void {
  if (isAllowed(principal, permission, scope)) return;
  const visible =
    isAllowed(principal, 'clients:read', scope) ||
    (scope.clientId !== undefined && isAllowed(principal, 'agents:read', scope));
  throw visible
    ? new ProblemError('forbidden', `This action needs the ${permission} permission.`)
    : notFound();
}
