import { withTenant, type Database } from '@maxai/db';
import { ProblemError } from '../../../platform/errors/problem';
import type { BindingsService } from '../../integrations/bindings.service';
import type { ConnectionsService } from '../../integrations/connections.service';
import type { PortAdapterFactory } from '../../integrations/port-adapters';
import { endpointUrl } from '../../webhooks/webhook-views';
import type { WebhooksRepository } from '../../webhooks/webhooks.repository';
import type { PortName } from '../definition/flow-types';
import type { FlowPorts } from '../definition/step-spec';
import { PermanentStepError } from './step-calls';
import type { BoundPort, PromptRenderer, RunScope, StepServices } from './step-services';
import type { TenantSettingsService } from '../../tenancy/tenant-settings.service';

/** StepServices over the platform: bindings → adapters, prompts, allowlists, n8n endpoints. */
export class PlatformStepServices implements StepServices {
  constructor(
    private readonly db: Database,
    private readonly bindings: BindingsService,
    private readonly adapters: PortAdapterFactory,
    private readonly connections: ConnectionsService,
    private readonly webhooks: WebhooksRepository,
    private readonly webhookBase: string,
    private readonly settings: Pick<TenantSettingsService, 'httpAllowlist'>,
    readonly prompts: PromptRenderer,
  ) {}

  async ports(
    scope: RunScope,
    needed: PortName[],
  ): Promise<{ ports: FlowPorts; bound: BoundPort[] }> {
    const ports: Record<string, unknown> = {};
    const bound: BoundPort[] = [];
    for (const port of needed) {
      const binding = await this.bindings.resolve(scope.tenantId, port, scope);
      if (!binding) throw new PermanentStepError(`no connection is bound to the ${port} port`);
      try {
        ports[port] = await this.adapters.forConnection(scope.tenantId, binding.connectionId, port);
      } catch (error) {
        // A connection that needs re-authorization or cannot serve the port: no retry helps.
        if (error instanceof ProblemError) throw new PermanentStepError(error.message);
        throw error;
      }
      bound.push({ connectionId: binding.connectionId, provider: port });
    }
    return { ports, bound };
  }

  httpAllowlist(tenantId: string): Promise<string[]> {
    return this.settings.httpAllowlist(tenantId);
  }

  async n8nCallbackUrl(tenantId: string): Promise<string | undefined> {
    const endpoints = await withTenant(this.db, tenantId, (tx) =>
      this.webhooks.endpoints(tx, tenantId),
    );
    const endpoint = endpoints.find((e) => e.provider === 'n8n' && e.status === 'active');
    return endpoint ? endpointUrl(this.webhookBase, endpoint) : undefined;
  }

  connectionRefused(tenantId: string, connectionId: string, reason: string): Promise<void> {
    return this.connections.refused(tenantId, connectionId, reason, 'orchestrator');
  }
}
