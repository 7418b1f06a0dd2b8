import { tenants, withTenant, type Database } from '@maxai/db';
import { eq } from 'drizzle-orm';

/** The tenant settings flows consult at run time. */
export class TenantSettingsReader {
  constructor(private readonly db: Database) {}

  async httpAllowlist(tenantId: string): Promise<string[]> {
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx
        .select({ allowlist: tenants.flowHttpAllowlist })
        .from(tenants)
        .where(eq(tenants.id, tenantId)),
    );
    return row?.allowlist ?? [];
  }
}
