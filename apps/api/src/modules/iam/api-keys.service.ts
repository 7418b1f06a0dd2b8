import { apiKeyKey, type PrincipalCache } from './principal-cache';
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { apiKeys, onlyRow, tenants, withSystem, withTenant, type Database } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import type { Authenticated } from './auth.guard';
import type { RequestMeta } from './auth.service';
import type { IamRepository } from './iam.repository';
import { isAllowed, type Permission, type Principal } from './permissions';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Recognisable in logs and by secret scanners (GitHub-style prefix). */
export const API_KEY_PREFIX = 'mk_live_';
const LAST_USED_RESOLUTION_MS = 60_000;

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * API keys for servers. A key is scoped to a tenant or one of its clients and carries an explicit
 * permission set, never more than its creator holds on that scope; it is shown once, stored as a
 * hash, may expire, can be revoked, and records when it was last used.
 */
export class ApiKeysService {
  constructor(
    private readonly db: Database,
    private readonly iam: IamRepository,
    private readonly audit: AuditService,
    private readonly cache: PrincipalCache,
  ) {}

  /** Key id → when this process last recorded its use. */
  private readonly touched = new Map<string, number>();

  async create(
    caller: Authenticated,
    tenantId: string,
    input: {
      name: string;
      clientId?: string | undefined;
      permissions: Permission[];
      expiresAt?: Date | undefined;
    },
    meta: RequestMeta,
  ): Promise<{ key: string; row: ApiKeyRow }> {
    const scope = { tenantId, clientId: input.clientId };
    const beyond = input.permissions.filter((p) => !isAllowed(caller.principal, p, scope));
    if (beyond.length > 0 || !isAllowed(caller.principal, 'api_keys:manage', scope)) {
      throw new ProblemError(
        'forbidden',
        'A key cannot hold permissions its creator lacks on its scope.',
        {
          permissions: beyond,
        },
      );
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new ProblemError('validation-error', 'The expiry must be in the future.', {
        errors: [{ field: 'expiresAt', message: 'must be in the future' }],
      });
    }
    const key = `${API_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    return withTenant(this.db, tenantId, async (tx) => {
      if (input.clientId) await this.iam.assertClientInTenant(tx, tenantId, input.clientId);
      const row = onlyRow(
        await tx
          .insert(apiKeys)
          .values({
            tenantId,
            clientId: input.clientId ?? null,
            name: input.name,
            displayPrefix: key.slice(0, API_KEY_PREFIX.length + 4),
            keyHash: hashApiKey(key),
            permissions: [...new Set(input.permissions)],
            createdBy: caller.actor.id,
            expiresAt: input.expiresAt ?? null,
          })
          .returning(),
        'the new API key',
      );
      await this.audit.record(tx, {
        tenantId,
        actor: { type: caller.actor.type, id: caller.actor.id },
        action: 'api_key.created',
        target: { type: 'api_key', id: row.id },
        changes: {
          name: input.name,
          clientId: input.clientId ?? null,
          permissions: row.permissions,
        },
        ...meta,
      });
      return { key, row };
    });
  }

  list(tenantId: string): Promise<ApiKeyRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(asc(apiKeys.id)),
    );
  }

  async revoke(
    caller: Authenticated,
    tenantId: string,
    keyId: string,
    meta: RequestMeta,
  ): Promise<void> {
    const keyHash = await withTenant(this.db, tenantId, async (tx) => {
      const [row] = await tx
        .update(apiKeys)
        .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
        .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId)))
        .returning();
      if (!row) throw new ProblemError('not-found', 'No such API key.');
      await this.audit.record(tx, {
        tenantId,
        actor: { type: caller.actor.type, id: caller.actor.id },
        action: 'api_key.revoked',
        target: { type: 'api_key', id: keyId },
        ...meta,
      });
      return row.keyHash;
    });
    await this.cache.invalidate({ apiKeys: [keyHash] });
  }

  /** The principal of a presented key, or undefined when unknown, revoked, expired or suspended. */
  async authenticate(key: string): Promise<{ principal: Principal; row: ApiKeyRow } | undefined> {
    const keyHash = hashApiKey(key);
    const found = await this.cache.get(apiKeyKey(keyHash), () => this.lookup(keyHash));
    if (!found) return undefined;
    const { row } = found;
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return undefined;
    await this.touch(row);
    return found;
  }

  /** Records use at most once a minute per key and process: "last used" without a write per request. */
  private async touch(row: ApiKeyRow): Promise<void> {
    const last = Math.max(this.touched.get(row.id) ?? 0, row.lastUsedAt?.getTime() ?? 0);
    if (Date.now() - last <= LAST_USED_RESOLUTION_MS) return;
    this.touched.set(row.id, Date.now());
    await withTenant(this.db, row.tenantId, (tx) =>
      tx
        .update(apiKeys)
        .set({ lastUsedAt: sql`now()` })
        .where(and(eq(apiKeys.tenantId, row.tenantId), eq(apiKeys.id, row.id))),
    );
  }

  private lookup(keyHash: string): Promise<{ principal: Principal; row: ApiKeyRow } | undefined> {
    return withSystem(this.db, async (tx) => {
      const [found] = await tx
        .select({ key: apiKeys, tenantStatus: tenants.status })
        .from(apiKeys)
        .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
      if (found?.tenantStatus !== 'active') return undefined;
      const row = found.key;
      return {
        row,
        principal: {
          kind: 'api_key',
          id: row.id,
          memberships: new Map(),
          apiKey: {
            tenantId: row.tenantId,
            clientId: row.clientId ?? undefined,
            permissions: new Set(row.permissions as Permission[]),
          },
        },
      };
    });
  }
}
