import {
  agents,
  onlyRow,
  portBindings,
  withTenant,
  type Database,
  type PortName,
  type Tx,
} from '@maxai/db';
import { and, asc, eq } from 'drizzle-orm';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { canSee, isAllowed } from '../iam/permissions';
import type { ConnectionRow, ConnectionsRepository } from './connections.repository';
import { providerSpec } from './providers';

export type BindingRow = typeof portBindings.$inferSelect;

export interface BindingScope {
  clientId?: string | undefined;
  agentId?: string | undefined;
}

/**
 * Which connection serves which port. A tenant binding is the default; a client's binding
 * overrides it for that client, an agent's for that agent. Binding checks the connection can
 * serve the port (its provider implements it) and may serve the scope (a client's connection
 * serves only that client).
 */
export class BindingsService {
  constructor(
    private readonly db: Database,
    private readonly connections: ConnectionsRepository,
    private readonly audit: AuditService,
  ) {}

  async list(caller: Authenticated, tenantId: string): Promise<BindingRow[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(portBindings)
        .where(eq(portBindings.tenantId, tenantId))
        .orderBy(asc(portBindings.id)),
    );
    return rows.filter((row) =>
      isAllowed(caller.principal, 'connections:read', {
        tenantId,
        clientId: row.clientId ?? undefined,
      }),
    );
  }

  async bind(
    caller: Authenticated,
    tenantId: string,
    port: PortName,
    input: BindingScope & { connectionId: string },
    meta: RequestMeta,
  ): Promise<BindingRow> {
    assertPermission(caller, 'connections:manage', tenantId, input.clientId);
    if (input.agentId && !input.clientId) {
      throw new ProblemError('validation-error', 'An agent binding names its client too.', {
        errors: [{ field: 'body.clientId', message: 'required with agentId' }],
      });
    }
    return withTenant(this.db, tenantId, async (tx) => {
      const connection = await this.connections.find(tx, tenantId, input.connectionId);
      if (!connection) throw new ProblemError('not-found', 'No such connection.');
      assertServes(connection, port, input.clientId);
      if (input.agentId && input.clientId) {
        await assertAgentOfClient(tx, tenantId, input.clientId, input.agentId);
      }
      const scope = {
        tenantId,
        clientId: input.clientId ?? null,
        agentId: input.agentId ?? null,
        port,
      };
      const row = onlyRow(
        await tx
          .insert(portBindings)
          .values({ ...scope, connectionId: connection.id })
          .onConflictDoUpdate({
            target: [
              portBindings.tenantId,
              portBindings.clientId,
              portBindings.agentId,
              portBindings.port,
            ],
            set: { connectionId: connection.id, updatedAt: new Date() },
          })
          .returning(),
        'the binding',
      );
      await this.audit.record(tx, {
        tenantId,
        actor: { type: caller.actor.type, id: caller.actor.id },
        action: 'binding.set',
        target: { type: 'binding', id: row.id },
        changes: { ...scope, connectionId: connection.id },
        ...meta,
      });
      return row;
    });
  }

  async unbind(caller: Authenticated, tenantId: string, id: string, meta: RequestMeta) {
    await withTenant(this.db, tenantId, async (tx) => {
      const [row] = await tx
        .select()
        .from(portBindings)
        .where(and(eq(portBindings.tenantId, tenantId), eq(portBindings.id, id)));
      if (!row || !canSee(caller.principal, tenantId, row.clientId ?? undefined)) throw notFound();
      assertPermission(caller, 'connections:manage', tenantId, row.clientId ?? undefined);
      await tx
        .delete(portBindings)
        .where(and(eq(portBindings.tenantId, tenantId), eq(portBindings.id, id)));
      await this.audit.record(tx, {
        tenantId,
        actor: { type: caller.actor.type, id: caller.actor.id },
        action: 'binding.removed',
        target: { type: 'binding', id },
        changes: { port: row.port, connectionId: row.connectionId },
        ...meta,
      });
    });
  }

  /** The binding in force for a port at a scope: the agent's, else the client's, else the tenant's. */
  resolve(tenantId: string, port: PortName, scope: BindingScope): Promise<BindingRow | undefined> {
    return withTenant(this.db, tenantId, async (tx) => {
      const rows = await tx
        .select()
        .from(portBindings)
        .where(and(eq(portBindings.tenantId, tenantId), eq(portBindings.port, port)));
      const at = (clientId: string | null, agentId: string | null) =>
        rows.find((r) => r.clientId === clientId && r.agentId === agentId);
      return (
        (scope.clientId && scope.agentId ? at(scope.clientId, scope.agentId) : undefined) ??
        (scope.clientId ? at(scope.clientId, null) : undefined) ??
        at(null, null)
      );
    });
  }
}

function assertServes(connection: ConnectionRow, port: PortName, clientId: string | undefined) {
  const spec = providerSpec(connection.provider);
  if (!spec?.ports.includes(port)) {
    throw new ProblemError(
      'unprocessable-content',
      `A ${connection.provider} connection cannot serve the ${port} port.`,
    );
  }
  if (connection.clientId && connection.clientId !== clientId) {
    throw new ProblemError(
      'unprocessable-content',
      "A client's connection serves only that client.",
    );
  }
}

async function assertAgentOfClient(tx: Tx, tenantId: string, clientId: string, agentId: string) {
  const [agent] = await tx
    .select({ id: agents.id })
    .from(agents)
    .where(
      and(eq(agents.tenantId, tenantId), eq(agents.clientId, clientId), eq(agents.id, agentId)),
    );
  if (!agent) throw new ProblemError('not-found', 'No such agent in this client.');
}
