import type { PrincipalCache } from '../iam/principal-cache';
import { asc, eq, gt, inArray, and, sql } from 'drizzle-orm';
import { onlyRow, tenants, withSystem, withTenant, type Database } from '@maxai/db';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit/audit.service';
import { notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { isAllowedOnPlatform } from '../iam/permissions';
import { pageOf, type Page } from '../../platform/http/pagination';
import type { PageQuery } from './tenancy.service';

export type TenantRow = typeof tenants.$inferSelect;

/**
 * Tenants as platform staff see them (list, create, suspend) and as members see theirs. A
 * suspended tenant keeps its data; its members lose access until it is reactivated.
 */
export class TenantsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
    private readonly cache: PrincipalCache,
  ) {}

  /** Platform staff see every tenant; anyone else, the tenants they belong to. */
  list(caller: Authenticated, page: PageQuery): Promise<Page<TenantRow>> {
    const everyone = isAllowedOnPlatform(caller.principal, 'tenants:read');
    const mine = [...caller.principal.memberships.keys()];
    if (!everyone && mine.length === 0) return Promise.resolve({ data: [], nextCursor: null });
    return withSystem(this.db, async (tx) => {
      const rows = await tx
        .select()
        .from(tenants)
        .where(
          and(
            everyone ? undefined : inArray(tenants.id, mine),
            page.cursor ? gt(tenants.id, page.cursor) : undefined,
          ),
        )
        .orderBy(asc(tenants.id))
        .limit(page.limit + 1);
      return pageOf(rows, page.limit, (row) => row.id);
    });
  }

  async get(tenantId: string): Promise<TenantRow> {
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx.select().from(tenants).where(eq(tenants.id, tenantId)),
    );
    if (!row) throw notFound();
    return row;
  }

  create(caller: Authenticated, input: { name: string }, meta: RequestMeta): Promise<TenantRow> {
    const tenantId = uuidv7();
    return withTenant(this.db, tenantId, async (tx) => {
      const row = onlyRow(
        await tx.insert(tenants).values({ id: tenantId, name: input.name }).returning(),
        'the new tenant',
      );
      await this.audit.record(tx, {
        tenantId,
        actor: { type: 'platform_staff', id: caller.actor.id },
        action: 'tenant.created',
        target: { type: 'tenant', id: tenantId },
        changes: input,
        ...meta,
      });
      return row;
    });
  }

  async setStatus(
    caller: Authenticated,
    tenantId: string,
    status: TenantRow['status'],
    meta: RequestMeta,
  ): Promise<TenantRow> {
    const updated = await withTenant(this.db, tenantId, async (tx) => {
      const [row] = await tx
        .update(tenants)
        .set({
          status,
          suspendedAt: status === 'suspended' ? sql`now()` : null,
          updatedAt: sql`now()`,
        })
        .where(eq(tenants.id, tenantId))
        .returning();
      if (!row) throw notFound();
      await this.audit.record(tx, {
        tenantId,
        actor: { type: 'platform_staff', id: caller.actor.id },
        action: status === 'suspended' ? 'tenant.suspended' : 'tenant.reactivated',
        target: { type: 'tenant', id: tenantId },
        ...meta,
      });
      return row;
    });
    // A tenant's status changes what every member and key of it may do.
    await this.cache.invalidate('all');
    return updated;
  }
}
