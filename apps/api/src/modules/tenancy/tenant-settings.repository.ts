import { eq, sql } from 'drizzle-orm';
import { tenants, type Tx } from '@maxai/db';

export interface TenantSettings {
  requireMfa: boolean;
  auditRetentionDays: number;
  requirePromptApproval: boolean;
  flowHttpAllowlist: string[];
}

const columns = {
  requireMfa: tenants.requireMfa,
  auditRetentionDays: tenants.auditRetentionDays,
  requirePromptApproval: tenants.requirePromptApproval,
  flowHttpAllowlist: tenants.flowHttpAllowlist,
};

/** SQL of a tenant's settings (columns of `tenants`). Every call runs inside `withTenant`. */
export class TenantSettingsRepository {
  /** The settings, locked for the rest of the transaction so concurrent changes queue. */
  async findForUpdate(tx: Tx, tenantId: string): Promise<TenantSettings | undefined> {
    const [row] = await tx
      .select(columns)
      .from(tenants)
      .where(eq(tenants.id, tenantId))
      .for('update');
    return row;
  }

  async find(tx: Tx, tenantId: string): Promise<TenantSettings | undefined> {
    const [row] = await tx.select(columns).from(tenants).where(eq(tenants.id, tenantId));
    return row;
  }

  async update(tx: Tx, tenantId: string, changes: Partial<TenantSettings>): Promise<void> {
    await tx
      .update(tenants)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(eq(tenants.id, tenantId));
  }
}
