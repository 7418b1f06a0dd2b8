import type { WebhookProviderName } from '@maxai/integrations';
import { withTenant, type Database, type Tx } from '@maxai/db';
import type { TenantSecrets } from '../../platform/crypto/envelope';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { isAllowed } from '../iam/permissions';
import type { ConnectionsRepository } from '../integrations/connections.repository';
import { endpointSecretsAad, type EndpointDirectory } from './endpoint-directory';
import {
  buildSecrets,
  type EndpointSetup,
  type GhlKeys,
  type SecretsInput,
} from './endpoint-secrets';
import type { WebhookEndpointRow, WebhooksRepository } from './webhooks.repository';

export interface CreateEndpointInput {
  provider: WebhookProviderName;
  name: string;
  clientId?: string | undefined;
  connectionId?: string | undefined;
  rateLimitPerMinute?: number | undefined;
  secrets?: SecretsInput | undefined;
}

export interface UpdateEndpointInput {
  name?: string | undefined;
  status?: 'active' | 'disabled' | undefined;
  rateLimitPerMinute?: number | undefined;
  /** New key material (a rotation): replaces what the verifier uses. */
  secrets?: SecretsInput | undefined;
}

export interface EndpointWithSetup {
  row: WebhookEndpointRow;
  setup: EndpointSetup;
}

/** Webhook endpoints: where each provider posts, with the key material to verify it. */
export class WebhookEndpointsService {
  constructor(
    private readonly db: Database,
    private readonly repository: WebhooksRepository,
    private readonly connections: ConnectionsRepository,
    private readonly secrets: TenantSecrets,
    private readonly audit: AuditService,
    private readonly directory: EndpointDirectory,
    private readonly ghlKeys: () => Promise<GhlKeys | undefined>,
  ) {}

  async list(caller: Authenticated, tenantId: string): Promise<WebhookEndpointRow[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      this.repository.endpoints(tx, tenantId),
    );
    return rows.filter((row) =>
      isAllowed(caller.principal, 'webhooks:read', {
        tenantId,
        clientId: row.clientId ?? undefined,
      }),
    );
  }

  async get(caller: Authenticated, tenantId: string, id: string): Promise<WebhookEndpointRow> {
    const row = await withTenant(this.db, tenantId, (tx) =>
      this.repository.endpoint(tx, tenantId, id),
    );
    if (!row) throw notFound();
    assertPermission(caller, 'webhooks:read', tenantId, row.clientId ?? undefined);
    return row;
  }

  async create(
    caller: Authenticated,
    tenantId: string,
    input: CreateEndpointInput,
    meta: RequestMeta,
  ): Promise<EndpointWithSetup> {
    assertPermission(caller, 'webhooks:manage', tenantId, input.clientId);
    const created = await withTenant(this.db, tenantId, async (tx) => {
      const connectionProvider = await this.connectionProvider(tx, tenantId, input);
      const { stored, setup } = await buildSecrets(input.provider, input.secrets ?? {}, {
        connectionProvider,
        ghlKeys: this.ghlKeys,
      });
      const id = crypto.randomUUID();
      const row = await this.repository.insertEndpoint(tx, {
        tenantId,
        id,
        provider: input.provider,
        name: input.name,
        clientId: input.clientId ?? null,
        connectionId: input.connectionId ?? null,
        rateLimitPerMinute: input.rateLimitPerMinute,
        secretsSealed: await this.secrets.seal(
          tx,
          tenantId,
          JSON.stringify(stored),
          endpointSecretsAad(id),
        ),
        createdBy: caller.actor.id,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'webhook_endpoint.created',
        target: { type: 'webhook_endpoint', id },
        changes: {
          provider: input.provider,
          clientId: input.clientId,
          connectionId: input.connectionId,
        },
        ...meta,
      });
      return { row, setup };
    });
    await this.directory.changed();
    return created;
  }

  async update(
    caller: Authenticated,
    tenantId: string,
    id: string,
    input: UpdateEndpointInput,
    meta: RequestMeta,
  ): Promise<EndpointWithSetup> {
    const updated = await withTenant(this.db, tenantId, async (tx) => {
      const existing = await this.repository.endpoint(tx, tenantId, id);
      if (!existing) throw notFound();
      assertPermission(caller, 'webhooks:manage', tenantId, existing.clientId ?? undefined);
      let setup: EndpointSetup = {};
      let secretsSealed: string | undefined;
      if (input.secrets) {
        const connectionProvider = await this.connectionProvider(tx, tenantId, {
          connectionId: existing.connectionId ?? undefined,
          clientId: existing.clientId ?? undefined,
        });
        const built = await buildSecrets(existing.provider as WebhookProviderName, input.secrets, {
          connectionProvider,
          ghlKeys: this.ghlKeys,
        });
        setup = built.setup;
        secretsSealed = await this.secrets.seal(
          tx,
          tenantId,
          JSON.stringify(built.stored),
          endpointSecretsAad(id),
        );
      }
      const row = await this.repository.updateEndpoint(tx, tenantId, id, {
        name: input.name,
        status: input.status,
        rateLimitPerMinute: input.rateLimitPerMinute,
        secretsSealed,
      });
      if (!row) throw notFound();
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: input.secrets ? 'webhook_endpoint.secrets_rotated' : 'webhook_endpoint.updated',
        target: { type: 'webhook_endpoint', id },
        changes: {
          name: input.name,
          status: input.status,
          rateLimitPerMinute: input.rateLimitPerMinute,
        },
        ...meta,
      });
      return { row, setup };
    });
    await this.directory.changed();
    return updated;
  }

  async remove(caller: Authenticated, tenantId: string, id: string, meta: RequestMeta) {
    await withTenant(this.db, tenantId, async (tx) => {
      const existing = await this.repository.endpoint(tx, tenantId, id);
      if (!existing) throw notFound();
      assertPermission(caller, 'webhooks:manage', tenantId, existing.clientId ?? undefined);
      await this.repository.deleteEndpoint(tx, tenantId, id);
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'webhook_endpoint.deleted',
        target: { type: 'webhook_endpoint', id },
        changes: { provider: existing.provider },
        ...meta,
      });
    });
    await this.directory.changed();
  }

  /** The provider of the endpoint's connection, checked to be visible from the endpoint's scope. */
  private async connectionProvider(
    tx: Tx,
    tenantId: string,
    input: { connectionId?: string | undefined; clientId?: string | undefined },
  ): Promise<string | undefined> {
    if (!input.connectionId) return undefined;
    const connection = await this.connections.find(tx, tenantId, input.connectionId);
    if (!connection) throw new ProblemError('not-found', 'No such connection.');
    if (connection.clientId && connection.clientId !== input.clientId) {
      throw new ProblemError(
        'conflict',
        "A client's connection can only back that client's webhook endpoint.",
      );
    }
    return connection.provider;
  }
}
