import { withTenant, type Database, type Tx } from '@maxai/db';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import type { PrincipalCache } from '../iam/principal-cache';
import type { TenantSettings, TenantSettingsRepository } from './tenant-settings.repository';

/** The spec's floor for keeping audit events: seven years. */
export const MIN_AUDIT_RETENTION_DAYS = 2557;
/** A hundred years: beyond it a value is a typo, not a policy. */
export const MAX_AUDIT_RETENTION_DAYS = 36_500;

/**
 * A tenant's own settings: whether its members must use MFA (enforced by the gateway check),
 * how long its audit events are kept, and whether moving a protected prompt label needs a second
 * person's approval (enforced by the prompts module). Every change is audited with what it
 * changed.
 */
export class TenantSettingsService {
  constructor(
    private readonly db: Database,
    private readonly repository: TenantSettingsRepository,
    private readonly audit: AuditService,
    private readonly cache: PrincipalCache,
  ) {}

  async get(caller: Authenticated, tenantId: string): Promise<TenantSettings> {
    assertPermission(caller, 'settings:read', tenantId);
    return withTenant(this.db, tenantId, async (tx) =>
      found(await this.repository.find(tx, tenantId)),
    );
  }

  /**
   * Whether moving a protected prompt label needs a second person's approval: read inside the
   * prompts module's transaction (which checked its caller itself).
   */
  async promptApprovalRequired(tx: Tx, tenantId: string): Promise<boolean> {
    return (await this.repository.find(tx, tenantId))?.requirePromptApproval ?? false;
  }

  /**
   * The hosts a tenant's flows may call with `http.request` (read by the flow engine at
   * activation and at run time, which checked its caller itself). Unknown tenant: none.
   */
  async httpAllowlist(tenantId: string): Promise<string[]> {
    const settings = await withTenant(this.db, tenantId, (tx) =>
      this.repository.find(tx, tenantId),
    );
    return settings?.flowHttpAllowlist ?? [];
  }

  async update(
    caller: Authenticated,
    tenantId: string,
    input: Partial<TenantSettings>,
    meta: RequestMeta,
  ): Promise<TenantSettings> {
    assertPermission(caller, 'settings:write', tenantId);
    const updated = await withTenant(this.db, tenantId, async (tx) => {
      const current = found(await this.repository.findForUpdate(tx, tenantId));
      const changes = Object.fromEntries(
        (Object.keys(input) as (keyof TenantSettings)[])
          .filter((key) => JSON.stringify(input[key]) !== JSON.stringify(current[key]))
          .map((key) => [key, { from: current[key], to: input[key] }]),
      );
      if (Object.keys(changes).length === 0) return current;
      const next = { ...current, ...input };
      await this.repository.update(tx, tenantId, input);
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'tenant.settings_updated',
        target: { type: 'tenant', id: tenantId },
        changes,
        ...meta,
      });
      return next;
    });
    // requireMfa changes what each member's session may reach, on every replica.
    if (input.requireMfa !== undefined) await this.cache.invalidate('all');
    return updated;
  }
}

function found(settings: TenantSettings | undefined): TenantSettings {
  if (!settings) throw notFound();
  return settings;
}
