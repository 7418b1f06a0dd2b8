import type { WebhookProviderName } from '@maxai/integrations';
import { withTenant, type Database } from '@maxai/db';
import type { TenantSecrets } from '../../platform/crypto/envelope';
import type { PrincipalCache } from '../iam/principal-cache';
import { storedSecretsSchema, type StoredSecrets } from './endpoint-secrets';
import type { WebhooksRepository } from './webhooks.repository';

/** What ingress needs to know about an endpoint, secrets unsealed. */
export interface IngressEndpoint {
  id: string;
  tenantId: string;
  provider: WebhookProviderName;
  clientId: string | null;
  connectionId: string | null;
  status: 'active' | 'disabled';
  rateLimitPerMinute: number;
  secrets: StoredSecrets;
}

export const endpointSecretsAad = (id: string) => `webhook-endpoint:${id}`;

/**
 * Endpoints by id, cached per process (an unsealed secret per hit would cost a database round
 * trip and a decryption). Every change is published and drops the cache on every replica; a
 * missing id is cached too, so a flood of bad ids does not reach the database.
 */
export class EndpointDirectory {
  constructor(
    private readonly db: Database,
    private readonly repository: WebhooksRepository,
    private readonly secrets: TenantSecrets,
    private readonly cache: PrincipalCache,
  ) {}

  async get(id: string): Promise<IngressEndpoint | null> {
    return this.cache.get(`endpoint:${id}`, () => this.load(id));
  }

  close(): Promise<void> {
    return this.cache.close();
  }

  /** Call after the change committed. */
  changed(): Promise<void> {
    return this.cache.invalidate('all');
  }

  private async load(id: string): Promise<IngressEndpoint | null> {
    const row = await this.repository.endpointForIngress(id);
    if (!row) return null;
    const sealed = await withTenant(this.db, row.tenantId, (tx) =>
      this.secrets.open(tx, row.tenantId, row.secretsSealed, endpointSecretsAad(row.id)),
    );
    return {
      id: row.id,
      tenantId: row.tenantId,
      provider: row.provider as WebhookProviderName,
      clientId: row.clientId,
      connectionId: row.connectionId,
      status: row.status,
      rateLimitPerMinute: row.rateLimitPerMinute,
      secrets: storedSecretsSchema.parse(JSON.parse(sealed)),
    };
  }
}
